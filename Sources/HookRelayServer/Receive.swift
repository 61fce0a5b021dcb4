import HTTPTypes
import HookRelayCore
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `hookrelay receive`: an HTTP server that checks each webhook request's signature, answers
/// it, and writes each verified event once to standard output as a line of NDJSON. Diagnostics
/// (one line per refused request) go to standard error. SIGTERM or SIGINT stop it; so does a
/// closed standard output (`| head`).
public struct Receive: Sendable {
    public let configuration: ReceiveConfiguration
    private let diagnostics: Diagnostics
    private let outputDescriptor: Int32
    private let now: @Sendable () -> Int64

    /// `now` is the clock timestamps are checked against, in Unix seconds.
    public init(
        configuration: ReceiveConfiguration, diagnostics: Diagnostics = Diagnostics(), outputDescriptor: Int32 = 1,
        now: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }
    ) {
        self.configuration = configuration
        self.diagnostics = diagnostics
        self.outputDescriptor = outputDescriptor
        self.now = now
    }

    /// Listens, reports `listening on HOST:PORT` on standard error, and serves until a signal
    /// or a closed standard output; returns normally then.
    public func run() async throws(ReceiveError) {
        let configuration = configuration
        let diagnostics = diagnostics
        let (stopRequests, stop) = AsyncStream<Void>.makeStream()
        let ledger = ReceiveLedger(configuration: configuration, outputDescriptor: outputDescriptor, stop: stop)
        let handler = ReceiveHandler(configuration: configuration, ledger: ledger, diagnostics: diagnostics, now: now)
        let listening = ListeningFlag()
        let responder = CallbackResponder<BasicRequestContext> { request, _ in await handler.respond(to: request) }
        let application = Application(
            responder: responder,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                listening.set()
                diagnostics.report("listening on \(configuration.address(port: channel.localAddress?.port ?? configuration.port))")
            },
            logger: Logger(label: "hookrelay.receive", factory: { _ in SwiftLogNoOpLogHandler() }))
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: application),
                    .init(service: OutputWatch(stopRequests: stopRequests), successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: Logger(label: "hookrelay.lifecycle", factory: { _ in SwiftLogNoOpLogHandler() })))
        do {
            try await group.run()
        } catch {
            let reason = Self.describe(error)
            if !listening.isSet { throw .cannotListen(address: configuration.address(port: configuration.port), reason: reason) }
            throw .failed(reason)
        }
        if let failure = await ledger.failure { throw .output(failure) }
    }

    /// A system error as its strerror(3) text, without NIO's call details.
    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        return "\(error)"
    }
}

/// Whether the listen socket was bound: failures before are the address's, not the server's.
private final class ListeningFlag: Sendable {
    private let state = Mutex(false)
    var isSet: Bool { state.withLock { $0 } }
    func set() { state.withLock { $0 = true } }
}

/// Ends (and so shuts the group down gracefully) once standard output can take no more.
private struct OutputWatch: Service {
    let stopRequests: AsyncStream<Void>

    func run() async {
        for await _ in stopRequests.cancelOnGracefulShutdown() { return }
    }
}
