import Foundation
import NIOSSL
import HookRelayStore
import PostgresNIO

/// A PostgreSQL database named by a libpq-style URL: `postgres://user[:password]@host[:port]/db?sslmode=…`
/// (or `postgresql://`). A unix socket is a directory as the host: percent-encoded
/// (`postgres://%2Fvar%2Frun%2Fpostgresql/db`) or in the `host` query parameter (`postgres:///db?host=/tmp/pg`).
///
/// What the URL leaves out comes from libpq's environment variables (`PGHOST`, `PGPORT`,
/// `PGUSER`, `PGPASSWORD`, `PGDATABASE`), then libpq's defaults (Debian's socket directory
/// `/var/run/postgresql`, port 5432, the user's name). The password never appears in
/// ``description``, in a log or in an error message: ``redacted`` is the URL without it.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public var configuration: PostgresClient.Configuration
    /// The TLS the URL asks for (also for the listener's connection of its own).
    var tls = TLSChoice.disable
    /// The URL without its password, for logs and messages.
    public let redacted: String
    public var description: String { redacted }

    /// Whether `location` names a PostgreSQL database (anything else is a SQLite path).
    public static func isURL(_ location: String) -> Bool {
        let lower = location.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// - Parameter password: the password when the URL has none (a password file's), before `PGPASSWORD`.
    public init(_ url: String, password given: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.isURL(url), let parts = URLComponents(string: url) else {
            throw PostgresStoreError(message: "not a PostgreSQL URL (postgres://user@host:port/database?sslmode=require)",
                                     location: Self.redact(url))
        }
        var query: [String: String] = [:]
        for item in parts.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let password = parts.password ?? query["password"] ?? given ?? environment["PGPASSWORD"]
        // The URL without its password, whatever else is wrong with it.
        redacted = Self.withoutSecrets(parts)
        let known = Self.parameters
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw PostgresStoreError(message: "unknown URL parameter '\(unknown)'; known: \(known.sorted().joined(separator: ", "))", location: redacted)
        }
        let decodedHost = parts.percentEncodedHost.flatMap { $0.removingPercentEncoding }.flatMap { $0.isEmpty ? nil : $0 }
        let host = query["host"] ?? decodedHost ?? environment["PGHOST"] ?? "/var/run/postgresql"
        let portText = query["port"] ?? parts.port.map(String.init) ?? environment["PGPORT"] ?? "5432"
        guard let port = Int(portText), (1...65_535).contains(port) else {
            throw PostgresStoreError(message: "port '\(portText)' is not a number from 1 to 65535", location: redacted)
        }
        let user = parts.user.flatMap { $0.isEmpty ? nil : $0 } ?? query["user"] ?? environment["PGUSER"] ?? Self.userName()
        let path = String(parts.path.drop { $0 == "/" })
        let database = path.isEmpty ? (query["dbname"] ?? environment["PGDATABASE"] ?? user) : path
        if host.hasPrefix("/") {
            configuration = .init(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            tls = try Self.tls(mode: query["sslmode"] ?? environment["PGSSLMODE"] ?? "prefer", rootCertificate: query["sslrootcert"], location: redacted)
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: tls.client)
        }
        if let timeout = query["connect_timeout"], let seconds = Int(timeout), seconds > 0 {
            configuration.options.connectTimeout = .seconds(seconds)
        }
        configuration.options.additionalStartupParameters = [("application_name", query["application_name"] ?? "hookrelay")]
            + (try Self.settings(query["options"] ?? "", location: redacted))
    }

    /// libpq's `options`: server settings for the session, `-c name=value` (or `-cname=value`,
    /// `--name=value`) separated by spaces, e.g. `options=-c%20search_path%3Dhookrelay` to keep
    /// the tables in a schema of their own.
    static func settings(_ options: String, location: String) throws -> [(String, String)] {
        var settings: [(String, String)] = []
        var words = options.split(separator: " ").map(String.init)[...]
        while let word = words.popFirst() {
            let setting: String
            if word == "-c", let next = words.popFirst() {
                setting = next
            } else if word.hasPrefix("-c") {
                setting = String(word.dropFirst(2))
            } else if word.hasPrefix("--") {
                setting = String(word.dropFirst(2))
            } else {
                throw PostgresStoreError(message: "URL parameter options: expected '-c name=value', found '\(word)'", location: location)
            }
            guard let equals = setting.firstIndex(of: "="), equals != setting.startIndex else {
                throw PostgresStoreError(message: "URL parameter options: expected name=value, found '\(setting)'", location: location)
            }
            settings.append((String(setting[..<equals]), String(setting[setting.index(after: equals)...])))
        }
        return settings
    }

    /// libpq's `sslmode`: `disable`; `allow` and `prefer` try TLS without checking the
    /// certificate; `require` insists on TLS (and checks the chain when a CA file is given);
    /// `verify-ca` checks the chain, `verify-full` the chain and the host name.
    static func tls(mode: String, rootCertificate: String?, location: String) throws -> TLSChoice {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let rootCertificate { tls.trustRoots = .file(rootCertificate) }
        switch mode {
        case "disable": return .disable
        case "allow", "prefer":
            tls.certificateVerification = .none
            return .prefer(tls)
        case "require":
            tls.certificateVerification = rootCertificate == nil ? .none : .noHostnameVerification
            return .require(tls)
        case "verify-ca":
            tls.certificateVerification = .noHostnameVerification
            return .require(tls)
        case "verify-full":
            tls.certificateVerification = .fullVerification
            return .require(tls)
        default:
            throw PostgresStoreError(
                message: "sslmode '\(mode)' is not one of disable, allow, prefer, require, verify-ca, verify-full", location: location)
        }
    }

    /// TLS off, tried, or insisted on, with its settings.
    enum TLSChoice: Sendable {
        case disable
        case prefer(TLSConfiguration)
        case require(TLSConfiguration)

        var client: PostgresClient.Configuration.TLS {
            switch self {
            case .disable: .disable
            case let .prefer(tls): .prefer(tls)
            case let .require(tls): .require(tls)
            }
        }

        /// The same for a `PostgresConnection` made without the pool (the listener's).
        func connection() throws -> PostgresConnection.Configuration.TLS {
            switch self {
            case .disable: .disable
            case let .prefer(tls): .prefer(try NIOSSLContext(configuration: tls))
            case let .require(tls): .require(try NIOSSLContext(configuration: tls))
            }
        }
    }

    /// The URL parameters hookrelay reads (libpq's names).
    static let parameters: Set<String> = [
        "host", "port", "user", "password", "dbname", "sslmode", "sslrootcert", "application_name", "connect_timeout", "options",
    ]

    /// The URL with its password (in the user part or the `password` parameter) left out.
    public static func redact(_ url: String) -> String {
        guard let parts = URLComponents(string: url) else { return "postgres://(an unparsable URL)" }
        return withoutSecrets(parts)
    }

    /// The URL without its password, and with the value of every parameter hookrelay does not
    /// read shown as `***`: such a URL is refused with a message that names it, and libpq's
    /// `sslpassword` (or a `Password` in other letters) must not reach that message either.
    private static func withoutSecrets(_ url: URLComponents) -> String {
        var parts = url
        parts.password = nil
        parts.queryItems = parts.queryItems?.compactMap { item in
            item.name == "password" ? nil : parameters.contains(item.name) ? item : URLQueryItem(name: item.name, value: "***")
        }
        if parts.queryItems?.isEmpty == true { parts.queryItems = nil }
        return parts.string ?? "postgres://(an unparsable URL)"
    }

    /// A connection's configuration made without the pool (the change feed's listener, the
    /// first connection when opening), `suffix` added to its `application_name`.
    func connection(applicationSuffix suffix: String) throws -> PostgresConnection.Configuration {
        var connection: PostgresConnection.Configuration
        if let path = configuration.unixSocketPath {
            connection = .init(unixSocketPath: path, username: configuration.username, password: configuration.password, database: configuration.database)
        } else {
            connection = .init(
                host: configuration.host ?? "localhost", port: configuration.port ?? 5432, username: configuration.username,
                password: configuration.password, database: configuration.database, tls: try tls.connection())
        }
        connection.options.connectTimeout = .init(configuration.options.connectTimeout)
        connection.options.additionalStartupParameters = configuration.options.additionalStartupParameters.map {
            // Told apart from the pool's connections in pg_stat_activity.
            $0.0 == "application_name" ? ($0.0, $0.1 + suffix) : $0
        }
        return connection
    }

    private static func userName() -> String {
        ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
    }
}

/// A failure of the PostgreSQL store: what happened, and the database (its URL without the password).
public struct PostgresStoreError: TransientStoreError, Sendable, CustomStringConvertible {
    public let message: String
    public let location: String
    /// The server could not be reached or went away, or did not answer in time
    /// (``PostgresStoreError/isTransient(_:)``).
    public let isTransient: Bool
    /// The server's SQLSTATE, when the server refused.
    public let sqlState: String?

    public init(message: String, location: String, isTransient: Bool = false) {
        self.message = message
        self.location = location
        self.isTransient = isTransient
        sqlState = nil
    }

    public var description: String { "\(location): \(message)" }

    /// A postgres-nio error in words: the server's message and SQLSTATE, or what failed on the
    /// client's side. Never the query's binds (they hold event bodies and secrets).
    init(_ error: any Error, doing what: String, location: String) {
        self.location = location
        isTransient = Self.isTransient(error)
        sqlState = (error as? PostgresStoreError)?.sqlState ?? (error as? PSQLError)?.serverInfo?[.sqlState]
        if let error = error as? PostgresStoreError {
            message = error.message
        } else if let error = error as? PSQLError {
            if let server = error.serverInfo, let text = server[.message] {
                let state = server[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                let detail = server[.detail].map { "; \($0)" } ?? ""
                message = "\(what): \(text)\(detail)\(state)"
            } else if error.code == .connectionError {
                let reason = error.underlying.map { "\($0)" } ?? "\(error.code)"
                message = "\(what): no connection (\(reason)): is the server running, and the URL right?"
            } else {
                let underlying = error.underlying.map { ": \($0)" } ?? ""
                message = "\(what): \(error.code)\(underlying)"
            }
        } else {
            message = "\(what): \(error)"
        }
    }

    /// Whether the server refused a transaction for a serialization failure or a deadlock: run it again.
    static func isRetryable(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }
}
