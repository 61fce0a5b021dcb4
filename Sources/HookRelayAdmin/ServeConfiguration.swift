import Foundation
import HookRelayCore
import HookRelayDelivery
import HookRelayStore
import TOMLKit

/// Everything `hookrelay serve` is told: from defaults, a TOML or JSON config file, then flags.
public struct ServeConfiguration: Sendable {
    public var database = "hookrelay.db"
    public var host = "127.0.0.1"
    public var port = 8080
    /// The largest event accepted by `POST /v1/events`.
    public var maxEventBytes = 1 << 20
    public var concurrency = 32
    /// Deliveries in flight to one webhook: a slow or dead one cannot take every worker.
    public var perWebhookConcurrency = 8
    public var sender = SenderConfiguration()
    public var retry = RetryPolicy.standardWebhooksSchedule
    /// Consecutive failed attempts that make a webhook `unhealthy`.
    public var unhealthyAfter = 5
    /// How long a webhook may fail without one success before it is `disabled`.
    public var disableAfter: Duration = .seconds(5 * 24 * 3600)
    public var logFormat = LogFormat.text
    /// How long in-flight attempts get to finish at shutdown.
    public var shutdownGrace: Duration = .seconds(10)
    /// A file holding the API token (else `HOOKRELAY_TOKEN`, else one generated next to the database).
    public var tokenFile: String?
    /// A file holding the PostgreSQL database's password, for a URL without one (else `PGPASSWORD`).
    public var passwordFile: String?
    /// A TLS-terminating proxy is in front: listening beyond loopback is then expected.
    public var tlsProxy = false
    /// How long a claim holds a delivery before another process may take it; nil: ``defaultLease``.
    public var lease: Duration?
    /// How the daemon guards itself against slow, idle and too many clients.
    public var limits = ServeLimits()
    /// PostgreSQL: changes are announced (`NOTIFY`) and heard (`LISTEN`) at once; false (for a
    /// transaction-pooling proxy such as PgBouncer, which cannot `LISTEN`) polls every second.
    public var notify = true
    /// PostgreSQL: the connections the stores of one `serve` share (the listener has one more).
    public var databaseConnections = 4
    /// The most webhooks a team other than `default` may have.
    public var teamMaxWebhooks = 50
    /// Events a second a team other than `default` may send, on average (a token bucket holding
    /// one second's worth, at least one batch); nil: no limit. Per instance.
    public var teamIngestRate: Double? = 1000
    /// Where an event names its team, for the tokens that may send to any team (dotted path).
    public var teamField = ServeConfiguration.defaultTeamField
    public static let defaultTeamField = "team"
    /// How long finished deliveries, their events and the audit log are kept; nil: for ever
    /// (`retention = "off"`).
    public var retention: Duration? = .milliseconds(Retention.defaultMilliseconds)
    /// The shortest retention taken: a minute.
    public static let shortestRetention = Duration.seconds(60)
    /// Where alerts about every team's webhooks go (Alerts.swift).
    public var alerts: [AlertDestination] = []
    /// `/metrics` counts attempts and their latency per webhook too, labelled with its id.
    public var metricsPerWebhook = false
    /// The most webhooks with per-webhook series; the others are counted as `webhook="other"`.
    public var metricsWebhooks = 100
    /// OpenTelemetry traces: off unless an OTLP/HTTP endpoint is given.
    public var tracing = TracingConfiguration()

    public enum LogFormat: String, Sendable, Codable { case text, json }

    public init() {}

    /// The lease when none is set: an attempt's longest time (`timeout` + `connect_timeout`) plus 30 s.
    public var defaultLease: Duration { sender.timeout + sender.connectTimeout + .seconds(30) }

    /// The longest an attempt may take: connecting, then the answer.
    public var longestAttempt: Duration { sender.timeout + sender.connectTimeout }

    /// The lease claims are made with.
    public var effectiveLease: Duration { lease ?? defaultLease }

    /// Refuses a lease shorter than an attempt may take: another process could then send a
    /// delivery whose attempt is still running. Checked once flags have overridden the file.
    public func checkLease() throws {
        guard let lease else { return }
        let attempt = longestAttempt
        guard lease >= attempt else {
            throw Problem(description: "lease (\(lease.shortDescription)) must be at least timeout + connect_timeout (\(attempt.shortDescription))")
        }
    }

    /// The largest `POST /v1/events` body: one event, or 64 of the largest in an NDJSON batch.
    public func maxIngestBody(ndjson: Bool) -> Int { ndjson ? maxEventBytes * 64 : maxEventBytes }

    /// Bytes of event bodies read and parsed at once: ``ServeLimits/parseBudget``, else two of
    /// the largest NDJSON bodies.
    public var effectiveParseBudget: Int { limits.parseBudget ?? 2 * maxIngestBody(ndjson: true) }

    /// The database: `--db`, else `HOOKRELAY_DB`, else the config file's `db` (applied before),
    /// else `hookrelay.db`.
    public mutating func setDatabase(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let flag {
            database = flag
        } else if let value = environment["HOOKRELAY_DB"], !value.isEmpty {
            database = value
        }
    }

    /// The password from ``passwordFile``, if one is set.
    public func databasePassword() throws -> String? {
        try passwordFile.map { try SecretFile.read($0, what: "the database password file") }
    }

    /// Opens the database for `role`, with the password of ``passwordFile``.
    public func openDatabase(role: ConnectionRole) throws -> sending any ServeStore {
        try Database.open(database, role: role, password: try databasePassword())
    }

    /// When webhooks turn unhealthy and disabled.
    public var healthPolicy: HealthPolicy {
        HealthPolicy(unhealthyAfter: unhealthyAfter, disableAfter: disableAfter.milliseconds)
    }

    /// What comes after each attempt: retries by ``retry``, health by ``healthPolicy``.
    public var outcomePolicy: OutcomePolicy { OutcomePolicy(retry: retry, health: healthPolicy) }

    /// The keys a config file may hold (documented in man/hookrelay-serve.1).
    struct File: Decodable {
        var db: String?
        var listen: String?
        var max_event_bytes: Int?
        var concurrency: Int?
        var per_webhook_concurrency: Int?
        var allow_http: Bool?
        var allow_cidr: [String]?
        var allow_private: Bool?
        var timeout: String?
        var connect_timeout: String?
        var retry_schedule: [String]?
        var unhealthy_after: Int?
        var disable_after: String?
        var log_format: LogFormat?
        var shutdown_grace: String?
        var token_file: String?
        var password_file: String?
        var tls_proxy: Bool?
        var lease: String?
        var header_timeout: String?
        var body_timeout: String?
        var body_min_rate: Int?
        var idle_timeout: String?
        var max_connections: Int?
        var parse_budget: Int?
        var auth_failures: Int?
        var auth_backoff: String?
        var notify: Bool?
        var db_connections: Int?
        var team_max_webhooks: Int?
        var team_ingest_rate: String?
        var team_field: String?
        var retention: String?
        var alerts: [AlertDestination]?
        var metrics_per_webhook: Bool?
        var metrics_webhooks: Int?
        var otel_endpoint: String?
        var proxy: String?
        var ca_file: String?
    }

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let description: String

        public init(description: String) { self.description = description }
    }

    /// Applies a config file: TOML, or JSON when its name ends in `.json` or its text starts
    /// with `{`. Unknown keys are refused, so a typo never passes silently.
    public mutating func apply(file path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Problem(description: "\(path): the config file cannot be read")
        }
        let known = Set(Mirror(reflecting: File()).children.compactMap(\.label))
        let (keys, file) = try Self.parse(data, path: path)
        if let unknown = keys.sorted().first(where: { !known.contains($0) }) {
            throw Problem(description: "\(path): unknown key \"\(unknown)\"; the keys are \(known.sorted().joined(separator: ", "))")
        }
        if let value = file.db { database = value }
        if let value = file.listen { try setListen(value) }
        if let value = file.max_event_bytes { maxEventBytes = value }
        if let value = file.concurrency { concurrency = value }
        if let value = file.per_webhook_concurrency { perWebhookConcurrency = value }
        if let value = file.allow_http { sender.allowHTTP = value }
        for text in file.allow_cidr ?? [] {
            guard let range = CIDR(text) else { throw Problem(description: "\(path): allow_cidr \"\(text)\" is not an address range") }
            sender.addressGuard.allowed.append(range)
        }
        if file.allow_private == true { sender.addressGuard.allowed += AddressGuard.privateRanges }
        if let value = file.timeout { sender.timeout = try Self.duration(value, key: "timeout", path: path) }
        if let value = file.connect_timeout { sender.connectTimeout = try Self.duration(value, key: "connect_timeout", path: path) }
        if let value = file.retry_schedule {
            retry = RetryPolicy(schedule: try value.map { try Self.duration($0, key: "retry_schedule", path: path) })
        }
        if let value = file.unhealthy_after { unhealthyAfter = value }
        if let value = file.disable_after { disableAfter = try Self.duration(value, key: "disable_after", path: path) }
        if let value = file.log_format { logFormat = value }
        if let value = file.shutdown_grace { shutdownGrace = try Self.duration(value, key: "shutdown_grace", path: path) }
        if let value = file.token_file { tokenFile = value }
        if let value = file.password_file { passwordFile = value }
        if let value = file.tls_proxy { tlsProxy = value }
        if let value = file.lease { lease = try Self.duration(value, key: "lease", path: path) }
        if let value = file.header_timeout { limits.headerTimeout = try Self.duration(value, key: "header_timeout", path: path) }
        if let value = file.body_timeout { limits.bodyTimeout = try Self.duration(value, key: "body_timeout", path: path) }
        if let value = file.body_min_rate { limits.bodyMinimumRate = value }
        if let value = file.idle_timeout { limits.idleTimeout = try Self.duration(value, key: "idle_timeout", path: path) }
        if let value = file.max_connections { limits.maxConnections = value }
        if let value = file.parse_budget { limits.parseBudget = value }
        if let value = file.auth_failures { limits.authFailuresAllowed = value }
        if let value = file.notify { notify = value }
        if let value = file.metrics_per_webhook { metricsPerWebhook = value }
        if let value = file.metrics_webhooks { metricsWebhooks = value }
        if let value = file.db_connections {
            guard value >= 1 else { throw Problem(description: "\(path): db_connections must be at least 1") }
            databaseConnections = value
        }
        if let value = file.team_max_webhooks {
            guard (1...100_000).contains(value) else { throw Problem(description: "\(path): team_max_webhooks must be between 1 and 100000") }
            teamMaxWebhooks = value
        }
        if let value = file.team_ingest_rate {
            guard let rate = Self.rate(value) else {
                throw Problem(description: "\(path): team_ingest_rate \"\(value)\" must be events per time, such as \"1000/s\", \"30000/m\" or \"1000000/h\", or \"off\"")
            }
            teamIngestRate = rate
        }
        if let value = file.team_field {
            guard FieldSelector.validate(path: value) else {
                throw Problem(description: "\(path): team_field \"\(value)\" is not a field path such as \"team\" or \"meta.team\"")
            }
            teamField = value
        }
        if let value = file.alerts {
            for destination in value {
                // http:// is refused when sent unless allow_http, which a flag may still set.
                if let problem = destination.problem(allowHTTP: true) { throw Problem(description: "\(path): \(problem)") }
            }
            alerts = value
        }
        if let value = file.retention {
            if value == "off" {
                retention = nil
            } else {
                guard let duration = Duration(parsing: value), duration >= Self.shortestRetention else {
                    throw Problem(description: "\(path): retention \"\(value)\" must be a duration of at least 60s (such as \"30d\" or \"12h\"), or \"off\" to keep everything")
                }
                retention = duration
            }
        }
        if let value = file.otel_endpoint {
            do {
                try TracingConfiguration.check(value, source: "otel_endpoint")
            } catch let problem as Problem {
                throw Problem(description: "\(path): \(problem.description)")
            }
            tracing.endpoint = value
        }
        try applyEgress(proxy: file.proxy, caFile: file.ca_file, path: path)
        if let value = file.auth_backoff {
            limits.authBackoff = try Self.duration(value, key: "auth_backoff", path: path)
            limits.authBackoffLimit = max(limits.authBackoffLimit, limits.authBackoff)
        }
        for (key, value, range) in [
            ("body_min_rate", limits.bodyMinimumRate, 0...(1 << 30)), ("max_connections", limits.maxConnections ?? 1, 1...1_000_000),
            ("parse_budget", limits.parseBudget ?? (1 << 20), (1 << 20)...(1 << 40)), ("auth_failures", limits.authFailuresAllowed, 1...1_000_000),
        ] where !range.contains(value) {
            throw Problem(description: "\(path): \(key) must be between \(range.lowerBound) and \(range.upperBound)")
        }
        if let budget = limits.parseBudget, budget < maxIngestBody(ndjson: true) {
            // A request is read only once its body fits in the budget: a larger one never would.
            throw Problem(description: """
                \(path): parse_budget (\(budget)) must be at least the largest NDJSON body, 64 × max_event_bytes \
                (\(maxIngestBody(ndjson: true))): a larger request would be answered 503 every time
                """)
        }
        if limits.headerTimeout <= .zero || limits.bodyTimeout <= .zero || limits.idleTimeout <= .zero || limits.authBackoff <= .zero {
            throw Problem(description: "\(path): header_timeout, body_timeout, idle_timeout and auth_backoff must be above zero")
        }
        for (key, value, range) in [
            ("max_event_bytes", maxEventBytes, 1...(256 << 20)), ("concurrency", concurrency, 1...4096),
            ("per_webhook_concurrency", perWebhookConcurrency, 1...4096), ("unhealthy_after", unhealthyAfter, 1...1_000_000),
            ("metrics_webhooks", metricsWebhooks, 1...10_000),
        ] where !range.contains(value) {
            throw Problem(description: "\(path): \(key) must be between \(range.lowerBound) and \(range.upperBound)")
        }
        if retry.maxAttempts < 1 || sender.timeout <= .zero || sender.connectTimeout <= .zero {
            throw Problem(description: "\(path): timeouts must be above zero")
        }
    }

    /// `N/s`, `N/m` or `N/h` as events a second (nil for `off`, so the outer nil is "not a rate").
    static func rate(_ text: String) -> Double?? {
        if text == "off" { return .some(nil) }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[0]), count > 0 else { return nil }
        let seconds: Double? = switch parts[1] {
        case "s": 1
        case "m": 60
        case "h": 3600
        default: nil
        }
        return seconds.map { Double(count) / $0 }
    }

    private static func parse(_ data: Data, path: String) throws -> (keys: [String], file: File) {
        let json = path.hasSuffix(".json") || data.first(where: { !" \t\r\n".utf8.contains($0) }) == UInt8(ascii: "{")
        do {
            if json {
                guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                    throw Problem(description: "\(path): not a JSON object; see man hookrelay-serve for the keys")
                }
                return (Array(object.keys), try JSONDecoder().decode(File.self, from: data))
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw Problem(description: "\(path): not UTF-8 text")
            }
            let table: TOMLTable
            do {
                table = try TOMLTable(string: text)
            } catch let error as TOMLParseError {
                throw Problem(description: "\(path): not valid TOML at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
            }
            return (table.keys, try TOMLDecoder().decode(File.self, from: table))
        } catch let problem as Problem {
            throw problem
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                    let DecodingError.keyNotFound(_, context), let DecodingError.dataCorrupted(context) {
            // TOMLKit reports a value of the wrong type as a missing key.
            let key = context.codingPath.first?.stringValue ?? ""
            throw Problem(description: "\(path): \(key) must be \(Self.expected(key))")
        } catch {
            throw Problem(description: "\(path): \(error)")
        }
    }

    /// What a config key holds, in words.
    private static func expected(_ key: String) -> String {
        guard let value = Mirror(reflecting: File()).children.first(where: { $0.label == key })?.value else { return "valid" }
        return switch type(of: value) {
        case is Int?.Type: "a whole number"
        case is Bool?.Type: "true or false"
        case is [String]?.Type: "a list of strings"
        case is LogFormat?.Type: "\"text\" or \"json\""
        case is [AlertDestination]?.Type: "a list of tables, each with url (and optionally secret and template: slack, teams, discord or raw)"
        default: "a string"
        }
    }

    /// Sets the address from `HOST:PORT` (`[::1]:8080` for IPv6).
    public mutating func setListen(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw Problem(description: "listen address '\(text)' must be HOST:PORT, e.g. 127.0.0.1:8080")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw Problem(description: "listen address '\(text)' has no host") }
        self.host = host
        self.port = port
    }

    static func duration(_ text: String, key: String, path: String) throws -> Duration {
        guard let value = Duration(parsing: text) else {
            throw Problem(description: "\(path): \(key) \"\(text)\" is not a duration (30s, 5m, 2h)")
        }
        return value
    }
}
