import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayDelivery
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// `hookrelay serve`: the HTTP API, the dispatcher and the webhook watcher in one
/// ServiceGroup, stopped gracefully on SIGTERM or SIGINT.
public enum HookRelayServer {
    public static func run(_ configuration: ServeConfiguration, logger: Logger) async throws {
        // An invalid OTLP endpoint (the config's or the environment's) is refused before anything starts.
        let traces = try configuration.tracing.resolved()
        // Nothing is created (lock, token, database) unless the address can be listened on.
        try await ServeStartup.checkListen(host: configuration.host, port: configuration.port)
        // One serve per SQLite file; any number share a PostgreSQL database.
        let lock = Database.isURL(configuration.database) ? nil : try ServeStartup.DatabaseLock(database: configuration.database)
        defer { withExtendedLifetime(lock) {} }
        let token = try APITokenSource.resolve(configuration, environment: ProcessInfo.processInfo.environment, logger: logger)
        let tracing = try traces.map { try ServeTracing.make($0, logger: logger) }
        let sender = HTTPSender(configuration: configuration.sender)
        let state = try ServerState(configuration: configuration, logger: logger, sender: sender, tracer: tracing?.tracer)
        if !["127.0.0.1", "::1", "localhost"].contains(configuration.host), !configuration.tlsProxy {
            logger.warning(
                "listening beyond this machine without TLS: put a TLS-terminating proxy in front and set tls_proxy = true",
                metadata: ["host": "\(configuration.host)"])
        }
        if let proxy = configuration.sender.proxy {
            // Shown without its password.
            logger.notice("sending through a proxy", metadata: ["proxy": "\(proxy)"])
        }
        let (cap, lowered) = configuration.limits.connectionCap(
            concurrency: configuration.concurrency, descriptorLimit: ServeLimits.descriptorLimit())
        if lowered {
            logger.warning(
                "max_connections is more than the descriptor limit leaves room for: raise LimitNOFILE (ulimit -n)",
                metadata: ["max_connections": "\(cap)", "descriptors": "\(ServeLimits.descriptorLimit() ?? 0)"])
        }
        let application = Application(
            router: Routes.build(state, token: token),
            server: .guardedHTTP1(limits: configuration.limits),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: nil,
                availableConnectionsDelegate: ConnectionCap(cap: cap, logger: logger)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.notice(
                    "listening", metadata: ["address": "\(configuration.host):\(port)", "db": "\(Database.displayName(configuration.database))", "max_connections": "\(cap)"])
            },
            logger: Logger(label: "hookrelay.http", factory: { _ in SwiftLogNoOpLogHandler() }))
        let group = ServiceGroup(
            configuration: .init(
                // Stopped in reverse order: the shared database connections last but for the
                // span exporter, which flushes the spans of what stopped before it.
                services: (tracing.map { [.init(service: $0.service)] } ?? [])
                    + [.init(service: DatabaseService(database: state.database)), .init(service: application)]
                    + ([DispatchService(state: state)] as [any Service] + state.backgroundServices).map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: Logger(label: "hookrelay.lifecycle", factory: { _ in SwiftLogNoOpLogHandler() })))
        try await group.run()
        logger.notice("stopped")
    }
}

/// Picks up webhook changes other processes (the admin commands) made, within
/// ``ServerState/webhookPoll`` (a second; 30 s when changes are heard, ``ChangeListener``).
struct WebhookWatcher: Service {
    let state: ServerState

    func run() async throws {
        var failing = false
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            // Ended by graceful shutdown: the poll may be 30 s long.
            let poll = state.webhookPoll
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: poll) }
            guard !Task.isShuttingDownGracefully else { break }
            do {
                if try await state.reloadWebhooks() { state.logger.info("webhooks reloaded: changed by another process") }
                if failing { state.logger.notice("the webhooks can be read again") }
                failing = false
            } catch {
                // Once per outage, and it keeps polling: the store reconnects by itself.
                if !failing { state.logger.error("cannot read the webhooks; trying every second", metadata: ["error": "\(error)"]) }
                failing = true
            }
        }
    }
}

/// Where the API token comes from: `HOOKRELAY_TOKEN`, else the token file of the config or
/// `--token-file`, else `DATABASE.token`, generated (mode 0600) on the first start.
/// A token shorter than ``minimumLength`` or a token file that others may read is refused
/// (``ServeConfiguration/Problem``: a configuration error, exit 64).
enum APITokenSource {
    static let minimumLength = 16

    static func resolve(_ configuration: ServeConfiguration, environment: [String: String], logger: Logger) throws -> APIToken {
        if let token = environment["HOOKRELAY_TOKEN"], !token.isEmpty { return APIToken(try checked(token, from: "HOOKRELAY_TOKEN")) }
        if let path = configuration.tokenFile { return APIToken(try read(path)) }
        guard !Database.isURL(configuration.database) else {
            throw TokenProblem(description: "with a PostgreSQL database, give the API token in HOOKRELAY_TOKEN or token_file (no file is made beside it)")
        }
        let path = configuration.database + ".token"
        if FileManager.default.fileExists(atPath: path) { return APIToken(try read(path)) }
        let token = APIToken.generate()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TokenProblem(description: "cannot create the API token file \(path): \(String(cString: strerror(errno)))") }
        let text = Array((token + "\n").utf8)
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == text.count else { throw TokenProblem(description: "cannot write the API token file \(path)") }
        logger.notice("generated an API token; send it as Authorization: Bearer TOKEN", metadata: ["file": "\(path)"])
        return APIToken(token)
    }

    private static func read(_ path: String) throws -> String {
        try checked(try SecretFile.read(path, what: "the API token file"), from: "the API token file \(path)")
    }

    /// The token, unless it is too short to withstand guessing.
    private static func checked(_ token: String, from source: String) throws -> String {
        guard token.count >= minimumLength else {
            throw ServeConfiguration.Problem(description: """
                the API token in \(source) has \(token.count) characters; it needs at least \(minimumLength): \
                make one with `openssl rand -base64 32`, or remove it and let serve generate one next to the database
                """)
        }
        return token
    }
}

struct TokenProblem: Error, CustomStringConvertible {
    let description: String
}
