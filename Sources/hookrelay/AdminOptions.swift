import ArgumentParser
import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayDelivery
import HookRelayServer
import HookRelayStore

#if canImport(Glibc)
import Glibc
#endif

/// Where the admin commands find the daemon's database and settings, and how they print.
/// They need no API token: they work on the file, whose permissions are the access control.
struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file's db, else hookrelay.db).", valueName: "path|url"))
    var db: String?

    @Option(help: ArgumentHelp(
        "The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.",
        valueName: "file"))
    var config: String?

    @Flag(help: "Print the API's JSON instead of a table.")
    var json = false

    /// The daemon's settings: its defaults, the config file, --db, then the sending flags.
    func configuration(sending: SendingOptions?) throws -> ServeConfiguration {
        var configuration = ServeConfiguration()
        do {
            if let config { try configuration.apply(file: config) }
        } catch let problem as ServeConfiguration.Problem {
            throw ValidationError(problem.description)
        }
        configuration.setDatabase(flag: db)
        try sending?.apply(to: &configuration)
        return configuration
    }

    /// The operator's actions on the database. A missing database is created only when `create`
    /// (`webhooks add --create`): a mistyped path must not become a new, empty database.
    func admin(sending: SendingOptions? = nil, create: Bool = false) throws -> Admin {
        let configuration = try configuration(sending: sending)
        let path = configuration.database
        if !create, !Database.isURL(path), !FileManager.default.fileExists(atPath: path) {
            throw CommandFailure(
                status: .noInput,
                message: "\(path): no such database; give the --db or --config of hookrelay serve, "
                    + "or create it with 'hookrelay serve --db \(path)' or 'hookrelay webhooks add --create --db \(path) ...'")
        }
        let store: LocalStore
        do {
            store = try LocalStore(configuration: configuration)
        } catch {
            throw CommandFailure(status: .ioError, message: "\(error)")
        }
        return Admin(store: store, sender: HTTPSender(configuration: configuration.sender), configuration: configuration)
    }

    /// `json` or `text`, as --json says, with the exit status.
    func output(json: @autoclosure () -> Data, text: @autoclosure () -> String, status: ExitStatus = .success) -> AdminOutput {
        AdminOutput(bytes: self.json ? Array(json()) + [UInt8(ascii: "\n")] : Array(text().utf8), status: status)
    }

    /// One webhook, as the API shows it or as text.
    func output(_ webhook: Webhook, revealSecret: Bool = false) -> AdminOutput {
        output(json: AdminJSON.webhook(webhook, revealSecret: revealSecret), text: AdminText.webhook(webhook, revealSecret: revealSecret))
    }
}

/// What an admin command prints on standard output, and its exit status.
struct AdminOutput {
    var bytes: [UInt8]
    var status: ExitStatus = .success
}

enum AdminRun {
    /// Runs an admin action, prints its output and exits with its status. The library's
    /// errors become statuses: no such webhook or delivery 66, an invalid value 65, an attempt
    /// already in progress 75, a database error 74.
    static func run(_ action: () async throws -> AdminOutput) async throws {
        signal(SIGPIPE, SIG_IGN)
        let output: AdminOutput
        do {
            output = try await action()
        } catch let error as AdminError {
            let status: ExitStatus = switch error.kind {
            case .notFound: .noInput
            case .invalid: .dataError
            case .conflict: .temporaryFailure
            }
            throw CommandFailure(status: status, message: error.description)
        } catch let error as SQLiteError {
            throw CommandFailure(status: .ioError, message: error.description)
        }
        let buffer = OutputBuffer(fd: 1)
        do {
            try output.bytes.withUnsafeBytes { try buffer.write($0) }
            try buffer.flush()
        } catch OutputError.brokenPipe {
            // The reader went away (`| head`): nothing more to say.
        } catch {
            throw CommandFailure(status: .ioError, message: "\(error)")
        }
        if output.status != .success { try exitProcess(with: output.status) }
    }
}

/// A webhook id argument.
struct WebhookArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("The webhook's id (wh_…), as webhooks list shows it, or its first characters (4 or more after wh_).", valueName: "id"))
    var id: String
}

/// A delivery id argument.
struct DeliveryArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("The delivery's id (a number), as deliveries list shows it.", valueName: "id"))
    var id: String

    var number: Int64 {
        get throws {
            guard let number = Int64(id), number > 0 else { throw ValidationError("delivery id '\(id)' is not a number above 0") }
            return number
        }
    }
}

/// Parses a --since-like option: RFC 3339, Unix seconds, or a duration ago.
func parseTime(_ text: String, option: String) throws -> Int64 {
    guard let time = TimeSpec.parse(text, now: Int64(Date().timeIntervalSince1970 * 1000)) else {
        throw ValidationError("\(option) '\(text)' is not a time: give \(TimeSpec.forms)")
    }
    return time
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
