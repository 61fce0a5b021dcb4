import HookRelayStore
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The changes other instances (and admin commands) commit, heard by `LISTEN` on a connection of
/// its own (``StoreChangeFeed``): a pool's connections are leased per call, and a listener needs
/// one that stays. The stores announce them with `NOTIFY` (``Session/notify(_:)``) on
/// `hookrelay_deliveries` and `hookrelay_webhooks`.
///
/// A transaction-pooling proxy (PgBouncer's `pool_mode = transaction`) cannot keep a `LISTEN`:
/// `serve` then runs with `notify = false` and polls instead.
public final class PostgresChangeFeed: StoreChangeFeed {
    /// The pause before the first try to connect again; it doubles up to ``longestPause``.
    static let firstPause = Duration.milliseconds(100)
    static let longestPause = Duration.seconds(10)

    private let configuration: PostgresConnection.Configuration
    private let location: String
    private let logger: Logger
    private let eventLoop: any EventLoop
    private let connections = Atomic<Int>(0)

    /// A feed for the database at `location`; nothing connects before ``listen(_:)``.
    public init(location: PostgresLocation, logger: Logger) throws {
        configuration = try location.connection(applicationSuffix: " listener")
        self.location = location.redacted
        self.logger = logger
        eventLoop = BlockingBridge.eventLoops.next()
    }

    /// How many times a listening connection was made (the first included) and its
    /// ``StoreChange/listening`` heard.
    public var connectionsMade: Int { connections.load(ordering: .relaxed) }

    public func listen(_ hear: @escaping @Sendable (StoreChange) async -> Void) async {
        var pause = Self.firstPause
        var failing = false
        var id = 0
        while !Task.isCancelled {
            id += 1
            var lost: (any Error)?
            do {
                let connection = try await PostgresConnection.connect(
                    on: eventLoop, configuration: configuration, id: id, logger: PostgresStore.defaultLogger)
                do {
                    try await listen(on: connection) {
                        if failing { self.logger.notice("listening for changes again", metadata: ["db": "\(self.location)"]) }
                        failing = false
                        pause = Self.firstPause
                        await hear(.listening)
                        self.connections.wrappingAdd(1, ordering: .relaxed)
                    } hear: { await hear($0) }
                } catch {
                    lost = error
                }
                try? await connection.close()
            } catch {
                lost = error
            }
            guard !Task.isCancelled else { return }
            if !failing {
                // Once per outage: every try after it fails alike until the server is back.
                logger.error(
                    "the connection listening for changes was lost; connecting again (until then, changes of other instances wait for the next poll)",
                    metadata: ["db": "\(location)", "error": "\(lost.map { String(reflecting: $0) } ?? "the server ended it")"])
                failing = true
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, Self.longestPause)
        }
    }

    /// Listens on both channels of `connection` until it fails (or the task is cancelled).
    private func listen(
        on connection: PostgresConnection, started: () async -> Void, hear: @escaping @Sendable (StoreChange) async -> Void
    ) async throws {
        try await connection.listen(on: Session.Channel.deliveries.rawValue) { deliveries in
            try await connection.listen(on: Session.Channel.webhooks.rawValue) { webhooks in
                await started()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { for try await _ in deliveries { await hear(.deliveries) } }
                    group.addTask { for try await _ in webhooks { await hear(.webhooks) } }
                    // Either sequence ends when the connection does.
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
        }
    }
}
