import HookRelayPostgres
import HookRelayStore
import Logging

/// What the stores of one `serve` process share: for PostgreSQL one client (a pool of
/// `db_connections`) and, unless `notify = false`, the feed of changes other instances
/// announce; for SQLite nothing (each store is a connection of its own, and changes are polled).
public final class ServeDatabase: Sendable {
    public let location: String
    private let pool: PostgresPool?
    /// The changes other processes commit, heard at once; nil: poll (SQLite, or `notify = false`).
    public let changes: (any StoreChangeFeed)?

    /// Connects to and migrates the database `configuration` names (PostgreSQL; a SQLite file is
    /// opened by ``open(role:)``).
    public init(configuration: ServeConfiguration, logger: Logger) throws {
        location = configuration.database
        guard Database.isURL(location) else {
            pool = nil
            changes = nil
            return
        }
        let url = try PostgresLocation(location, password: try configuration.databasePassword())
        pool = try PostgresPool(location: url, connections: configuration.databaseConnections, notify: configuration.notify)
        changes = configuration.notify ? try PostgresChangeFeed(location: url, logger: logger) : nil
    }

    /// Whether the database is a server (PostgreSQL) that orders concurrent writers itself,
    /// rather than a file one connection at a time writes (SQLite).
    public var isServer: Bool { pool != nil }

    /// How long `serve`'s dispatcher lets the outcomes of attempts gather while no worker waits
    /// for a job (``Dispatcher``'s `gatherOutcomes`): PostgreSQL, a network round trip and a
    /// server's work per statement away, gains from fewer, larger rounds; SQLite writes each at once.
    public var outcomeGathering: Duration? { isServer ? .milliseconds(5) : nil }

    /// A store for `role`: on the shared pool (PostgreSQL), or a connection of its own (SQLite).
    public func open(role: ConnectionRole) throws -> sending any ServeStore {
        if let pool { return PostgresStore(pool: pool) }
        return try SQLiteSpool.open(path: location, role: role)
    }

    /// Closes the shared connections (after every store's last call; a later one fails).
    public func close() async {
        await pool?.close()
    }
}
