import Foundation
import HookRelayCore
import HookRelayDelivery
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `hookrelay serve`: the HTTP API, the dispatcher and the webhook watcher in one
/// ServiceGroup, stopped gracefully on SIGTERM or SIGINT.
public enum HookRelayServer {
    public static func run(_ configuration: ServeConfiguration, logger: Logger) async throws {
        let token = try APITokenSource.resolve(configuration, environment: ProcessInfo.processInfo.environment, logger: logger)
        let sender = HTTPSender(configuration: configuration.sender)
        let state = try ServerState(configuration: configuration, logger: logger, sender: sender)
        if !["127.0.0.1", "::1", "localhost"].contains(configuration.host), !configuration.tlsProxy {
            logger.warning(
                "listening beyond this machine without TLS: put a TLS-terminating proxy in front and set tls_proxy = true",
                metadata: ["host": "\(configuration.host)"])
        }
        let application = Application(
            router: Routes.build(state, token: token),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.notice("listening", metadata: ["address": "\(configuration.host):\(port)", "db": "\(configuration.database)"])
            },
            logger: Logger(label: "hookrelay.http", factory: { _ in SwiftLogNoOpLogHandler() }))
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: application), .init(service: DispatchService(state: state)),
                    .init(service: WebhookWatcher(state: state)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: Logger(label: "hookrelay.lifecycle", factory: { _ in SwiftLogNoOpLogHandler() })))
        try await group.run()
        logger.notice("stopped")
    }
}

/// Picks up webhook changes other processes (the admin commands) made, within a second.
struct WebhookWatcher: Service {
    let state: ServerState

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            do {
                if try await state.reloadWebhooks() { state.logger.info("webhooks reloaded: changed by another process") }
            } catch {
                state.logger.error("cannot read the webhooks", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Where the API token comes from: `HOOKRELAY_TOKEN`, else the token file of the config or
/// `--token-file`, else `DATABASE.token`, generated (mode 0600) on the first start.
enum APITokenSource {
    static func resolve(_ configuration: ServeConfiguration, environment: [String: String], logger: Logger) throws -> APIToken {
        if let token = environment["HOOKRELAY_TOKEN"], !token.isEmpty { return APIToken(token) }
        if let path = configuration.tokenFile { return APIToken(try read(path)) }
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
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenProblem(description: "cannot read the API token file \(path)")
        }
        let firstLine = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first ?? ""
        let token = firstLine.trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { throw TokenProblem(description: "the API token file \(path) is empty") }
        return token
    }
}

struct TokenProblem: Error, CustomStringConvertible {
    let description: String
}
