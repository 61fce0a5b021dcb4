/// The de-duplication ledger (DedupeLedger.swift) in the `dedupe_ledger` table (schema 15):
/// `serve`'s webhooks by id, `deliver --spool`'s URLs by URL.
extension SQLiteSpool {
    public func reserveDedupe(endpoint: String, key: String, delivery: Int64, window: Int64, now: Int64, until: Int64) throws -> DedupeDecision {
        try connection.write {
            let decision = DedupeDecision.deciding(try dedupeEntry(endpoint: endpoint, key: key), delivery: delivery, window: window, now: now)
            if decision == .send { try putDedupe(endpoint: endpoint, key: key, delivery: delivery, sentAt: nil, expiresAt: until) }
            return decision
        }
    }

    public func recordDedupe(endpoint: String, key: String, delivery: Int64, window: Int64, now: Int64) throws {
        try connection.write {
            try putDedupe(endpoint: endpoint, key: key, delivery: delivery, sentAt: now, expiresAt: now + window)
            try pruneDedupe(now: now, limit: DedupeDecision.pruneBatch)
        }
    }

    /// Deletes up to `limit` entries whose time has passed, oldest first (in the caller's transaction).
    func pruneDedupe(now: Int64, limit: Int) throws {
        try connection.statement("""
            DELETE FROM dedupe_ledger WHERE (endpoint, key) IN (
                SELECT endpoint, key FROM dedupe_ledger WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)
            """).bind(1, now).bind(2, limit).run()
    }

    public func releaseDedupe(endpoint: String, key: String, delivery: Int64) throws {
        try connection.write {
            try connection.statement(
                "DELETE FROM dedupe_ledger WHERE endpoint = ?1 AND key = ?2 AND delivery = ?3 AND sent_at IS NULL"
            ).bind(1, endpoint).bind(2, key).bind(3, delivery).run()
        }
    }

    @discardableResult public func forgetDedupe(endpoint: String) throws -> Int {
        try connection.write {
            try connection.statement("DELETE FROM dedupe_ledger WHERE endpoint = ?1").bind(1, endpoint).run()
            return connection.changes
        }
    }

    public func dedupeEntry(endpoint: String, key: String) throws -> DedupeEntry? {
        let statement = try connection.statement("SELECT delivery, sent_at, expires_at FROM dedupe_ledger WHERE endpoint = ?1 AND key = ?2")
        statement.bind(1, endpoint).bind(2, key)
        defer { try? statement.run() }
        guard try statement.step() else { return nil }
        return DedupeEntry(delivery: statement.int(0), sentAt: statement.optionalInt(1), expiresAt: statement.int(2))
    }

    private func putDedupe(endpoint: String, key: String, delivery: Int64, sentAt: Int64?, expiresAt: Int64) throws {
        try connection.statement("""
            INSERT OR REPLACE INTO dedupe_ledger (endpoint, key, delivery, sent_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
            """).bind(1, endpoint).bind(2, key).bind(3, delivery).bind(4, sentAt).bind(5, expiresAt).run()
    }
}

/// `deliver --dedupe-window --spool`'s ledger (SpoolDedupe.swift), in the same table.
extension SQLiteSpool: SpoolDedupeLedger {
    public func spooledDuplicates(endpoint: String, keys: [String], window: Int64, now: Int64) throws -> [String: SpooledEntry] {
        let statement = try connection.statement("""
            SELECT message_id, sent_at FROM dedupe_ledger WHERE endpoint = ?1 AND key = ?2 AND sent_at > ?3
            """)
        var found: [String: SpooledEntry] = [:]
        for key in keys {
            statement.reset()
            statement.bind(1, endpoint).bind(2, key).bind(3, now - window)
            if try statement.step() { found[key] = SpooledEntry(messageID: statement.text(0) ?? "", at: statement.int(1)) }
        }
        try statement.run()
        return found
    }

    /// Appends `messages` and records `entries` in one transaction: a crash leaves both or neither.
    public func append(_ messages: [NewMessage], recording entries: [SpooledDedupe], window: Int64, now: Int64) throws -> Int {
        try connection.write {
            let added = try insert([IngestBatch(messages)], now: now, stored: .addTargets).added
            try recordSpooledInTransaction(entries, window: window, now: now)
            return added
        }
    }

    private func recordSpooledInTransaction(_ entries: [SpooledDedupe], window: Int64, now: Int64) throws {
        let put = try connection.statement("""
            INSERT OR REPLACE INTO dedupe_ledger (endpoint, key, delivery, sent_at, expires_at, message_id) VALUES (?1, ?2, 0, ?3, ?4, ?5)
            """)
        for entry in entries {
            put.reset()
            try put.bind(1, entry.endpoint).bind(2, entry.key).bind(3, now).bind(4, now + window).bind(5, entry.messageID).run()
        }
        try pruneDedupe(now: now, limit: max(DedupeDecision.pruneBatch, entries.count * 2))
    }
}
