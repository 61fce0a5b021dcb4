import Foundation
import HookRelayDelivery
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `hookrelay serve`: the HTTP API and the dispatcher in one ServiceGroup, stopped gracefully
/// on SIGTERM or SIGINT.
public enum HookRelayServer {
    public static func run(_ configuration: ServeConfiguration, logger: Logger) async throws {
        let sender = HTTPSender(configuration: configuration.sender)
        let state = try ServerState(configuration: configuration, logger: logger, sender: sender)
        if !["127.0.0.1", "::1", "localhost"].contains(configuration.host) {
            logger.warning("listening beyond this machine without TLS: put a TLS-terminating proxy in front", metadata: ["host": "\(configuration.host)"])
        }
        let application = Application(
            router: Routes.build(state),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.notice("listening", metadata: ["address": "\(configuration.host):\(port)", "db": "\(configuration.database)"])
            },
            logger: Logger(label: "hookrelay.http", factory: { _ in SwiftLogNoOpLogHandler() }))
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: application), .init(service: DispatchService(state: state))],
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: Logger(label: "hookrelay.lifecycle", factory: { _ in SwiftLogNoOpLogHandler() })))
        try await group.run()
        logger.notice("stopped")
    }
}
