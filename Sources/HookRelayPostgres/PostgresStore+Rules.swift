import HookRelayCore
import HookRelayStore
import PostgresNIO

/// Claims under a webhook's rate limit and ordering (HookRelayStore's DeliveryRules.swift) on
/// PostgreSQL, exact across every instance: one transaction locks the endpoint's `claim_turns`
/// row (every instance claiming for that endpoint waits its turn there; the ordinary claim leaves
/// ruled endpoints out), counts its leases, refills its `rate_buckets` row, claims, and takes a
/// token per delivery claimed.
extension PostgresStore {
    public func claimRuled(
        endpoint: String, rules: DeliveryRules, room: Int, perEndpoint: Int, now: Int64, lease: Int64
    ) throws -> (claimed: [ClaimedDelivery], tokenAt: Int64?) {
        let owner = self.owner
        return try run("claiming a rate-limited or ordered webhook's deliveries") { session in
            try await session.transaction(durable: false) { session in
                try await session.execute("SELECT 1 FROM claim_turns WHERE endpoint = \(endpoint) FOR UPDATE")
                let leased = try await session.count("""
                    SELECT count(*) FROM deliveries WHERE endpoint = \(endpoint) AND status = 'pending' AND lease_until > \(now)
                    """)
                var wanted = min(room, perEndpoint - leased)
                if rules.fifo { wanted = leased > 0 ? 0 : min(wanted, 1) }
                var tokens = 0.0
                if let rate = rules.rateLimit {
                    let bucket = try await session.rows("SELECT tokens, at FROM rate_buckets WHERE endpoint = \(endpoint)").first
                    tokens = try bucket.map { row in
                        let (stored, at) = try row.decode((Double, Int64).self)
                        return rate.refilled(stored, elapsed: now - at)
                    } ?? Double(rate.count)
                    wanted = min(wanted, Int(tokens))
                }
                var claimed: [ClaimedDelivery] = []
                if wanted > 0 {
                    let order = rules.fifo ? "id" : "next_attempt_at, id"
                    // With fifo the oldest pending one only, and only when it is due.
                    let due = rules.fifo ? "" : "AND next_attempt_at <= \(now) AND (lease_until IS NULL OR lease_until <= \(now))"
                    claimed = try await ClaimRequest.decode(session.rows(PostgresQuery(unsafeSQL: """
                        WITH picked AS (
                            SELECT id, next_attempt_at, lease_until FROM deliveries
                            WHERE endpoint = $1 AND status = 'pending' \(due)
                            ORDER BY \(order) LIMIT $2 FOR UPDATE),
                        claimed AS (
                            UPDATE deliveries d SET claim = nextval('claim_tokens'), lease_until = $3, lease_owner = $4
                            FROM picked WHERE d.id = picked.id
                                AND picked.next_attempt_at <= $5 AND (picked.lease_until IS NULL OR picked.lease_until <= $5)
                            RETURNING d.id, d.claim, d.message_id, d.endpoint, d.attempts, d.next_attempt_at, 0 AS turn)
                        \(ClaimRequest.claimedRows)
                        """, binds: try .of(endpoint, Int64(wanted), now + lease, owner, now))))
                }
                guard let rate = rules.rateLimit else { return (claimed, nil) }
                tokens -= Double(claimed.count)
                try await session.execute("""
                    INSERT INTO rate_buckets (endpoint, tokens, at) VALUES (\(endpoint), \(tokens), \(now))
                    ON CONFLICT (endpoint) DO UPDATE SET tokens = excluded.tokens, at = excluded.at
                    """)
                guard tokens < 1, wanted == claimed.count else { return (claimed, nil) }
                let due = try await session.optionalInt("""
                    SELECT 1 FROM deliveries WHERE endpoint = \(endpoint) AND status = 'pending' AND next_attempt_at <= \(now)
                        AND (lease_until IS NULL OR lease_until <= \(now)) LIMIT 1
                    """)
                return (claimed, due == nil ? nil : now + rate.untilNext(tokens))
            }
        }
    }

    public func oldestPending(webhook: String) throws -> Int64? {
        try run("reading a webhook's oldest pending delivery") { session in
            try await session.optionalInt("SELECT min(id) FROM deliveries WHERE endpoint = \(webhook) AND status = 'pending'")
        }
    }
}
