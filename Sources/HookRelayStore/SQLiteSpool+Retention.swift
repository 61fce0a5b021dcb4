/// Pruning (Retention.swift) on SQLite: each batch one `BEGIN IMMEDIATE` transaction; the
/// deleted deliveries leave `delivery_counts` by its trigger. Free pages go back to the file
/// system by the incremental vacuum, which a database has when it was made by a hookrelay that
/// sets it (``Schema/migrate(_:)``); an older file reuses its free pages for new rows instead.
extension SQLiteSpool {
    public func pruneEvents(before cutoff: Int64, after cursor: PruneCursor?, limit: Int) throws -> PruneBatch {
        try connection.write {
            let events = try connection.statement("""
                SELECT id, created_at FROM messages
                WHERE (created_at, id) > (?1, ?2) AND created_at < ?3 ORDER BY created_at, id LIMIT ?4
                """)
                .bind(1, cursor?.createdAt ?? Int64.min).bind(2, cursor?.id ?? Int64.min).bind(3, cutoff).bind(4, limit)
            var ids: [Int64] = []
            var last: PruneCursor?
            while try events.step() {
                ids.append(events.int(0))
                last = PruneCursor(createdAt: events.int(1), id: events.int(0))
            }
            guard !ids.isEmpty else { return PruneBatch(deleted: PruneCounts(), next: nil) }
            let list = "[" + ids.map(String.init).joined(separator: ",") + "]"
            var deleted = PruneCounts()
            try connection.statement("""
                DELETE FROM attempts WHERE delivery_id IN (
                    SELECT id FROM deliveries WHERE message_id IN (SELECT value FROM json_each(?1))
                    AND status <> 'pending' AND updated_at < ?2)
                """).bind(1, list).bind(2, cutoff).run()
            deleted.attempts = connection.changes
            try connection.statement("""
                DELETE FROM deliveries WHERE message_id IN (SELECT value FROM json_each(?1))
                AND status <> 'pending' AND updated_at < ?2
                """).bind(1, list).bind(2, cutoff).run()
            deleted.deliveries = connection.changes
            try connection.statement("""
                DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?1))
                AND NOT EXISTS (SELECT 1 FROM deliveries WHERE message_id = messages.id)
                """).bind(1, list).run()
            deleted.events = connection.changes
            return PruneBatch(deleted: deleted, next: ids.count < limit ? nil : last)
        }
    }

    public func pruneAudit(before cutoff: Int64, limit: Int) throws -> Int {
        try connection.write {
            try connection.statement("DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ?1 ORDER BY id LIMIT ?2)")
                .bind(1, cutoff).bind(2, limit).run()
            let deleted = connection.changes
            // The chart's hourly counts (schema 11) that pruning brought to zero.
            try connection.statement("DELETE FROM delivery_hours WHERE hour < ?1 / 3600000 AND n <= 0").bind(1, cutoff).run()
            return deleted
        }
    }

    public func canReclaimSpace() throws -> Bool { try pragma("auto_vacuum") == 2 }

    public func reclaimSpace(pages: Int) throws -> Int {
        guard try canReclaimSpace() else { return 0 }
        let free = try pragma("freelist_count")
        // A tenth of the file (at least 1 MB of 4 KiB pages) stays free for the next writes.
        let slack = max(256, try pragma("page_count") / 10)
        let give = min(Int64(pages), free - slack)
        guard give > 0 else { return 0 }
        try connection.write { try connection.execute("PRAGMA incremental_vacuum(\(give))") }
        return Int(free - (try pragma("freelist_count")))
    }

    private func pragma(_ name: String) throws -> Int64 {
        try connection.statement("PRAGMA \(name)").firstInt() ?? 0
    }

    public func oldestEventAt() throws -> Int64? {
        try connection.statement("SELECT min(created_at) FROM messages").firstInt()
    }

    public func storedRetention() throws -> Int64? {
        try connection.statement("SELECT value FROM meta WHERE key = 'retention_ms'").firstInt()
    }

    public func storeRetention(_ milliseconds: Int64) throws {
        try connection.write {
            try connection.statement("""
                INSERT INTO meta (key, value) VALUES ('retention_ms', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """).bind(1, milliseconds).run()
        }
    }
}
