import HookRelayCore
import HookRelayStore
import PostgresNIO

/// The de-duplication ledger (HookRelayStore's DedupeLedger.swift) on PostgreSQL, exact across
/// instances: a reservation inserts the key's row or locks it (`FOR UPDATE`), so two instances
/// deciding for one key at once take turns and the second sees the first's reservation.
extension PostgresStore {
    public func reserveDedupe(endpoint: String, key: String, delivery: Int64, window: Int64, now: Int64, until: Int64) throws -> DedupeDecision {
        try transaction("reserving a de-duplication key") { session in
            let inserted = try await session.rows("""
                INSERT INTO dedupe_ledger (endpoint, key, delivery, sent_at, expires_at)
                VALUES (\(endpoint), \(key), \(delivery), NULL, \(until))
                ON CONFLICT (endpoint, key) DO NOTHING RETURNING 1
                """)
            if !inserted.isEmpty { return .send }
            let entry = try await Self.dedupeEntry(endpoint: endpoint, key: key, lock: true, in: session)
            let decision = DedupeDecision.deciding(entry, delivery: delivery, window: window, now: now)
            if decision == .send {
                try await Self.putDedupe(endpoint: endpoint, key: key, delivery: delivery, sentAt: nil, expiresAt: until, in: session)
            }
            return decision
        }
    }

    public func recordDedupe(endpoint: String, key: String, delivery: Int64, window: Int64, now: Int64) throws {
        try transaction("recording a de-duplication key") { session in
            try await Self.putDedupe(endpoint: endpoint, key: key, delivery: delivery, sentAt: now, expiresAt: now + window, in: session)
            try await session.execute("""
                DELETE FROM dedupe_ledger WHERE (endpoint, key) IN (
                    SELECT endpoint, key FROM dedupe_ledger WHERE expires_at <= \(now) ORDER BY expires_at
                    LIMIT \(Int64(DedupeDecision.pruneBatch)) FOR UPDATE SKIP LOCKED)
                """)
        }
    }

    public func releaseDedupe(endpoint: String, key: String, delivery: Int64) throws {
        try transaction("releasing a de-duplication key") { session in
            try await session.execute("""
                DELETE FROM dedupe_ledger WHERE endpoint = \(endpoint) AND key = \(key) AND delivery = \(delivery) AND sent_at IS NULL
                """)
        }
    }

    @discardableResult public func forgetDedupe(endpoint: String) throws -> Int {
        try transaction("forgetting a webhook's de-duplication keys") { session in
            try await session.count("WITH gone AS (DELETE FROM dedupe_ledger WHERE endpoint = \(endpoint) RETURNING 1) SELECT count(*) FROM gone")
        }
    }

    public func dedupeEntry(endpoint: String, key: String) throws -> DedupeEntry? {
        try run("reading a de-duplication key") { session in try await Self.dedupeEntry(endpoint: endpoint, key: key, lock: false, in: session) }
    }

    private static func dedupeEntry(endpoint: String, key: String, lock: Bool, in session: Session) async throws -> DedupeEntry? {
        let rows = lock
            ? try await session.rows("""
                SELECT delivery, sent_at, expires_at FROM dedupe_ledger WHERE endpoint = \(endpoint) AND key = \(key) FOR UPDATE
                """)
            : try await session.rows("SELECT delivery, sent_at, expires_at FROM dedupe_ledger WHERE endpoint = \(endpoint) AND key = \(key)")
        return try rows.first.map { row in
            let (delivery, sentAt, expiresAt) = try row.decode((Int64, Int64?, Int64).self)
            return DedupeEntry(delivery: delivery, sentAt: sentAt, expiresAt: expiresAt)
        }
    }

    private static func putDedupe(
        endpoint: String, key: String, delivery: Int64, sentAt: Int64?, expiresAt: Int64, in session: Session
    ) async throws {
        try await session.execute("""
            INSERT INTO dedupe_ledger (endpoint, key, delivery, sent_at, expires_at)
            VALUES (\(endpoint), \(key), \(delivery), \(sentAt), \(expiresAt))
            ON CONFLICT (endpoint, key) DO UPDATE SET delivery = excluded.delivery, sent_at = excluded.sent_at, expires_at = excluded.expires_at
            """)
    }
}
