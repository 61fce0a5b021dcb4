import HookRelayStore
import PostgresNIO

/// Pruning (HookRelayStore's Retention.swift) on PostgreSQL: each batch one transaction under a
/// transaction advisory lock taken without waiting, so that of several instances one prunes at a
/// time and the others find it busy; batched deletes that the autovacuum follows (migration 5
/// makes it visit the three big tables after a twentieth of their rows changed).
extension PostgresStore {
    /// `pg_try_advisory_xact_lock`'s key for pruning: the migrations' key plus one.
    static let pruneLock: Int64 = PostgresSchema.migrationLock + 1

    public func pruneEvents(before cutoff: Int64, after cursor: PruneCursor?, limit: Int) throws -> PruneBatch {
        let at = cursor?.createdAt ?? Int64.min, id = cursor?.id ?? Int64.min, limit = Int64(limit)
        return try run("pruning old deliveries") { session in try await session.transaction(durable: false) { session in
            guard try await session.rows("SELECT pg_try_advisory_xact_lock(\(Self.pruneLock))").first?.decode(Bool.self) == true else {
                return PruneBatch(deleted: PruneCounts(), next: cursor, busy: true)
            }
            let events = try await session.rows("""
                SELECT id, created_at FROM messages
                WHERE created_at >= \(at) AND (created_at, id) > (\(at), \(id)) AND created_at < \(cutoff)
                ORDER BY created_at, id LIMIT \(limit)
                """).map { try $0.decode((Int64, Int64).self) }
            guard let last = events.last else { return PruneBatch(deleted: PruneCounts(), next: nil) }
            let ids = events.map(\.0)
            var deleted = PruneCounts()
            deleted.attempts = try await session.count("""
                WITH gone AS (DELETE FROM attempts WHERE delivery_id IN (
                    SELECT id FROM deliveries WHERE message_id = ANY(\(ids)) AND status <> 'pending' AND updated_at < \(cutoff))
                    RETURNING 1)
                SELECT count(*) FROM gone
                """)
            deleted.deliveries = try await session.count("""
                WITH gone AS (DELETE FROM deliveries WHERE message_id = ANY(\(ids)) AND status <> 'pending' AND updated_at < \(cutoff)
                    RETURNING 1)
                SELECT count(*) FROM gone
                """)
            deleted.events = try await session.count("""
                WITH gone AS (DELETE FROM messages WHERE id = ANY(\(ids))
                    AND NOT EXISTS (SELECT 1 FROM deliveries WHERE message_id = messages.id) RETURNING 1)
                SELECT count(*) FROM gone
                """)
            return PruneBatch(deleted: deleted, next: events.count < limit ? nil : PruneCursor(createdAt: last.1, id: last.0))
        } }
    }

    public func pruneAudit(before cutoff: Int64, limit: Int) throws -> Int {
        let limit = Int64(limit)
        return try run("pruning the audit log") { session in try await session.transaction(durable: false) { session in
            let deleted = try await session.count("""
                WITH gone AS (DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < \(cutoff) ORDER BY id LIMIT \(limit))
                    RETURNING 1)
                SELECT count(*) FROM gone
                """)
            // The chart's hourly counts (migration 8) that pruning brought to zero, over all their
            // slots, and the counts by status (migration 10) of webhooks that have none left. Each
            // group's rows are locked first (in key order, as the count triggers upsert them),
            // and the sums read again by the next statement's snapshot: a `DELETE … USING` of
            // groups summed in its own snapshot deleted a row a concurrent upsert had just
            // increased, once that upsert committed (its re-check compares only the keys).
            let hours = "SELECT endpoint, hour, status FROM delivery_hours WHERE hour < \(cutoff / 3_600_000) GROUP BY 1, 2, 3 HAVING sum(n) <= 0"
            try await session.execute("""
                SELECT 1 FROM delivery_hours WHERE (endpoint, hour, status) IN (\(unescaped: hours))
                ORDER BY endpoint, hour, status, slot FOR UPDATE
                """)
            try await session.execute("DELETE FROM delivery_hours WHERE (endpoint, hour, status) IN (\(unescaped: hours))")
            let counts = "SELECT endpoint, status FROM delivery_counts GROUP BY 1, 2 HAVING sum(n) <= 0"
            try await session.execute("""
                SELECT 1 FROM delivery_counts WHERE (endpoint, status) IN (\(unescaped: counts)) ORDER BY endpoint, status, slot FOR UPDATE
                """)
            try await session.execute("DELETE FROM delivery_counts WHERE (endpoint, status) IN (\(unescaped: counts))")
            return deleted
        } }
    }

    public func reclaimSpace(pages: Int) throws -> Int { 0 }

    public func canReclaimSpace() throws -> Bool { true }

    public func oldestEventAt() throws -> Int64? {
        try run("reading the oldest event") { session in try await session.optionalInt("SELECT min(created_at) FROM messages") }
    }

    public func storedRetention() throws -> Int64? {
        try run("reading the retention") { session in
            try await session.optionalInt("SELECT value FROM meta WHERE key = 'retention_ms'")
        }
    }

    public func storeRetention(_ milliseconds: Int64) throws {
        try transaction("storing the retention") { session in
            try await session.execute("""
                INSERT INTO meta (key, value) VALUES ('retention_ms', \(milliseconds))
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """)
        }
    }
}
