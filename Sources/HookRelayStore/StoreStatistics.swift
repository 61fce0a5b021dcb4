import Foundation

/// What the store holds, counted for `serve`'s `GET /metrics`: no event content, no webhook
/// settings, only numbers.
public struct StoreStatistics: Sendable, Equatable {
    /// Deliveries by status; a status without deliveries is absent.
    public var deliveries: [DeliveryStatus: Int]
    /// The `next_attempt_at` (Unix milliseconds) of the pending delivery due longest, or nil
    /// when none is due.
    public var oldestDueAt: Int64?
    /// Webhooks by health state; a state without webhooks is absent.
    public var webhooks: [Webhook.Health: Int]
    /// Bytes the database takes: SQLite's file and its write-ahead log; PostgreSQL's whole
    /// database (`pg_database_size`). Nil when it cannot be read.
    public var databaseBytes: Int64?

    public init(
        deliveries: [DeliveryStatus: Int] = [:], oldestDueAt: Int64? = nil, webhooks: [Webhook.Health: Int] = [:], databaseBytes: Int64? = nil
    ) {
        self.deliveries = deliveries
        self.oldestDueAt = oldestDueAt
        self.webhooks = webhooks
        self.databaseBytes = databaseBytes
    }
}

extension SQLiteSpool {
    /// A read-only connection (``ConnectionRole/reader``), for ``statistics(now:)`` and the
    /// API's and web page's reads: it refuses writes, and keeps a small page cache and no memory
    /// map, so it adds little to the process's memory. In WAL mode its reads never wait for, nor
    /// hold up, the writers.
    static func reader(path: String) throws -> SQLiteSpool {
        let spool = try SQLiteSpool(path: path, durableWrites: false, checkpoints: false)
        try spool.connection.execute("PRAGMA query_only=1")
        try spool.connection.execute("PRAGMA mmap_size=0")
        try spool.connection.execute("PRAGMA cache_size=-2048")
        return spool
    }

    /// The counts of deliveries and webhooks, and the oldest due delivery, as of `now` (Unix
    /// milliseconds), all read from one snapshot of the database.
    ///
    /// A few rows and one index seek, whatever the store holds (the delivery counts are kept by
    /// triggers): the read snapshot lasts well under a millisecond, so scrapes in a row never
    /// keep a checkpoint from emptying the WAL. Counting the deliveries here instead took about
    /// a second at 600k deliveries, and six scraping loops grew the WAL to 579 MB in 15 s.
    public func statistics(now: Int64) throws -> StoreStatistics {
        var statistics = try connection.read {
            StoreStatistics(deliveries: try counts(), oldestDueAt: try oldestDueAt(now: now), webhooks: try webhookCounts())
        }
        statistics.databaseBytes = databaseBytes()
        return statistics
    }

    /// The database file's and its WAL's sizes on disk.
    func databaseBytes() -> Int64? {
        let path = connection.path
        guard path != ":memory:", let main = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int64 else { return nil }
        let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int64 ?? 0
        return main + wal
    }

    /// The due time of the pending delivery due longest (`next_attempt_at <= now`), or nil.
    /// One seek in the pending-only due index, however many deliveries wait.
    public func oldestDueAt(now: Int64) throws -> Int64? {
        let statement = try connection.statement(Self.oldestDueSQL)
        statement.bind(1, now)
        let oldest = try statement.step() ? statement.int(0) : nil
        try statement.run()
        return oldest
    }

    static let oldestDueSQL = """
        SELECT next_attempt_at FROM deliveries INDEXED BY deliveries_due
        WHERE status = 'pending' AND next_attempt_at <= ?1
        ORDER BY next_attempt_at LIMIT 1
        """

    /// Counts of webhooks by health state.
    public func webhookCounts() throws -> [Webhook.Health: Int] {
        let statement = try connection.statement("SELECT state, count(*) FROM webhooks GROUP BY state")
        var counts: [Webhook.Health: Int] = [:]
        while try statement.step() {
            if let state = statement.text(0).flatMap(Webhook.Health.init(rawValue:)) { counts[state] = Int(statement.int(1)) }
        }
        try statement.run()
        return counts
    }
}
