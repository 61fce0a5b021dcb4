import HookRelayStore
import Logging
import PostgresNIO

/// One `PostgresClient` (a pool of connections) and the event loop its calls run on, with the
/// database migrated: owned by one store (an admin command's), or shared by every store of one
/// `serve` process (``PostgresStore/init(pool:)``).
///
/// The client's `run()` goes in a detached task made here, so that the stores can be opened (and
/// the schema migrated) before `serve`'s `ServiceGroup` runs, and so that it does not inherit a
/// service's graceful-shutdown handler (postgres-nio closes the pool on graceful shutdown, which
/// at SIGTERM came before the dispatcher had recorded the attempts in flight). Its end is
/// ``close()``: `serve` calls it from a service listed first in its group, which stops last.
public final class PostgresPool: Sendable {
    let client: PostgresClient
    let bridge: BlockingBridge
    let logger: Logger
    /// The database's URL without its password.
    public let location: String
    /// Whether the stores announce their changes (`NOTIFY`, ``PostgresChangeFeed``).
    public let notifies: Bool
    private let runner: Task<Void, Never>

    /// Connects with at most `connections` connections and migrates the database to the current
    /// schema. `readOnly`: every session refuses writes (a pool of readers only). Not `notify`:
    /// no store of this pool sends `NOTIFY` (every instance then polls).
    public init(
        location: PostgresLocation, connections: Int, readOnly: Bool = false, notify: Bool = true,
        logger: Logger = PostgresStore.defaultLogger
    ) throws {
        var configuration = location.configuration
        configuration.options.maximumConnections = max(1, connections)
        configuration.options.additionalStartupParameters += [
            // No query waits forever on a lock or a stuck server.
            ("statement_timeout", "60000"),
            // Commits return before the server has written them to disk unless a transaction
            // asks otherwise (`Session.transaction`: every durable one does); the dispatcher's
            // statements, committed by themselves, then need no `SET LOCAL` round trip each.
            ("synchronous_commit", "off"),
            // The dispatcher's prepared statements (`PreparedQuery`) keep one generic plan from
            // their first run: no planning per round (custom plans cost as much as running
            // them), and no switching between the two. Unnamed statements, everything else,
            // get a generic plan too: a statement's text names only the filters it applies
            // (PostgresStore+Log.swift), never "$1 IS NULL OR …".
            ("plan_cache_mode", "force_generic_plan"),
            // A young table has no statistics until autovacuum's first ANALYZE (up to a
            // minute): a plan made then would scan a table that has since grown (every path
            // of this schema has an index). Not a ban: where no index serves, a scan is still used.
            ("enable_seqscan", "off"),
            // That prices a scan of a small table (webhooks, meta) over `jit_above_cost`, and
            // every such query was compiled: 90–130 ms for four webhooks (the web page's lists,
            // the admin commands). hookrelay's statements are small; compiling never pays.
            ("jit", "off"),
        ]
        if readOnly { configuration.options.additionalStartupParameters += [("default_transaction_read_only", "on")] }
        let bridge = BlockingBridge()
        let client = PostgresClient(configuration: configuration, eventLoopGroup: bridge.eventLoop, backgroundLogger: logger)
        self.client = client
        self.bridge = bridge
        self.logger = logger
        self.location = location.redacted
        notifies = notify
        runner = Task.detached(executorPreference: bridge.executor) { await client.run() }
        let redacted = location.redacted
        do {
            // One connection made without the pool first: a server that cannot be reached fails
            // the start within the connection timeout, and one that refuses (a wrong password, a
            // database that does not exist, a setting in `options` it does not know) says why.
            // postgres-nio's pool keeps retrying either without telling the caller, who would hear
            // only that no connection came in time. Then migrating may take long.
            let first = try location.connection(applicationSuffix: "")
            let eventLoop = bridge.eventLoop
            try bridge.run(timeout: configuration.options.connectTimeout + .seconds(1)) {
                let connection = try await PostgresConnection.connect(on: eventLoop, configuration: first, id: 0, logger: logger)
                try? await connection.close()
            }
            try bridge.run(timeout: .seconds(75)) { try await PostgresSchema.migrate(client, logger: logger, location: redacted) }
        } catch {
            runner.cancel()
            throw PostgresStoreError(error, doing: "opening the database", location: redacted)
        }
    }

    /// Closes the pool's connections once the calls running end; a store's later call fails.
    public func close() async {
        runner.cancel()
        await runner.value
    }

    deinit { runner.cancel() }
}
