#if canImport(Glibc)
import Glibc
#endif

/// Where a batched ``SQLiteSpool/recover(endpoint:since:now:)`` has got to: pass it back to
/// ``SQLiteSpool/recoverBatch(endpoint:since:now:progress:)`` until it is done.
public struct RecoverProgress: Sendable, Equatable {
    /// The statuses still to visit, in order; the first is under way (public for other backends).
    public var statuses: [DeliveryStatus] = [.delivered, .failed, .skipped]
    /// The last delivery id visited in the current status.
    public var after: Int64 = 0
    /// Deliveries re-queued so far.
    public var requeued = 0

    public var isDone: Bool { statuses.isEmpty }

    public init() {}
}

/// Bulk changes (deleting a webhook with its pending deliveries, recovering a webhook's past
/// deliveries) as a series of short write transactions of at most ``SQLiteSpool/bulkBatch``
/// rows each, so ingest and claims get the write lock between them: one transaction over
/// 771k deliveries held every writer for 3.9 s.
extension SQLiteSpool {
    /// The deleted webhooks whose pending deliveries are still being discarded.
    func discardingEndpoints() throws -> Set<String> {
        try textSet("SELECT endpoint FROM discarding")
    }

    /// The first column of every row `sql` selects.
    func textSet(_ sql: String) throws -> Set<String> {
        let statement = try connection.statement(sql)
        var values: Set<String> = []
        while try statement.step() { if let value = statement.text(0) { values.insert(value) } }
        try statement.run()
        return values
    }

    /// Deletes a webhook, in one short transaction, and marks its pending deliveries for
    /// discarding: from then on they are never claimed nor added to, and
    /// ``discardPending(of:)`` deletes them a batch at a time. False when there is no such webhook.
    public func beginDeletingWebhook(id: String) throws -> Bool {
        try connection.write {
            try connection.statement("DELETE FROM webhooks WHERE id = ?1").bind(1, id).run()
            guard connection.changes == 1 else { return false }
            try webhooksChanged()
            try connection.statement("INSERT OR IGNORE INTO discarding (endpoint) VALUES (?1)").bind(1, id).run()
            // Its de-duplication ledger goes with it: a webhook made again starts afresh.
            try connection.statement("DELETE FROM dedupe_ledger WHERE endpoint = ?1").bind(1, id).run()
            try connection.statement("DELETE FROM tickets WHERE endpoint = ?1").bind(1, id).run()
            return true
        }
    }

    /// Deletes up to ``bulkBatch`` pending deliveries of a webhook marked for discarding, in
    /// one transaction; when fewer were left, the mark goes too and `done` is true.
    public func discardPending(of endpoint: String) throws -> (discarded: Int, done: Bool) {
        let limit = bulkBatch
        return try connection.write {
            try connection.statement("""
                DELETE FROM deliveries WHERE id IN (
                    SELECT id FROM deliveries INDEXED BY deliveries_endpoint_status
                    WHERE endpoint = ?1 AND status = 'pending' LIMIT ?2)
                """).bind(1, endpoint).bind(2, limit).run()
            let discarded = connection.changes
            guard discarded < limit else { return (discarded, false) }
            try connection.statement("DELETE FROM discarding WHERE endpoint = ?1").bind(1, endpoint).run()
            return (discarded, true)
        }
    }

    /// Finishes the discarding a crash (or a stop) interrupted, batch by batch with a pause
    /// between batches for the other writers. Returns how many deliveries were discarded.
    @discardableResult
    public func finishInterruptedDiscards() throws -> Int {
        var discarded = 0
        for endpoint in try discardingEndpoints().sorted() {
            while true {
                let batch = try discardPending(of: endpoint)
                discarded += batch.discarded
                if batch.done { break }
                Self.pauseBetweenBatches()
            }
        }
        return discarded
    }

    /// Long enough for a writer on another connection, polling every 200 µs in the busy
    /// handler, to take the lock before the next batch does.
    public static func pauseBetweenBatches() { usleep(1_000) }

    /// One transaction of a recovery: re-queues, due `now` with a fresh schedule, the
    /// endpoint's deliveries whose event was stored at or after `since` among the next
    /// ``bulkBatch`` deliveries it has in the status under way.
    ///
    /// A delivery re-queued by an earlier batch (its `updated_at` is `now` or later) is not
    /// re-queued again, whatever became of it since.
    public func recoverBatch(webhook endpoint: String, since: Int64, now: Int64, progress: RecoverProgress) throws -> RecoverProgress {
        guard let status = progress.statuses.first else { return progress }
        var progress = progress
        let limit = bulkBatch
        try connection.write {
            let last = try connection.statement("""
                SELECT max(id), count(*) FROM (
                    SELECT id FROM deliveries INDEXED BY deliveries_endpoint_status
                    WHERE endpoint = ?1 AND status = ?2 AND id > ?3 ORDER BY id LIMIT ?4)
                """)
            last.bind(1, endpoint).bind(2, status.rawValue).bind(3, progress.after).bind(4, limit)
            _ = try last.step()
            let upTo = last.optionalInt(0)
            let visited = Int(last.int(1))
            try last.run()
            guard let upTo else {
                progress.statuses.removeFirst()
                progress.after = 0
                return
            }
            try connection.statement("""
                UPDATE deliveries SET status = 'pending', next_attempt_at = ?1, attempts = 0, updated_at = ?1
                WHERE id IN (
                    SELECT id FROM deliveries INDEXED BY deliveries_endpoint_status
                    WHERE endpoint = ?2 AND status = ?3 AND id > ?4 AND id <= ?5)
                    AND updated_at < ?1
                    AND (SELECT created_at FROM messages WHERE messages.id = message_id) >= ?6
                """).bind(1, now).bind(2, endpoint).bind(3, status.rawValue).bind(4, progress.after).bind(5, upTo)
                .bind(6, since).run()
            progress.requeued += connection.changes
            progress.after = upTo
            if visited < limit {
                progress.statuses.removeFirst()
                progress.after = 0
            }
        }
        return progress
    }
}
