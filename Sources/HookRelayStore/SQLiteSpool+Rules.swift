/// Claims under a webhook's rate limit and ordering (DeliveryRules.swift) on SQLite: one
/// `BEGIN IMMEDIATE` transaction reads and refills the endpoint's bucket, claims, and takes a
/// token per delivery claimed. One `serve` uses a SQLite file, so its buckets are the only ones.
extension SQLiteSpool {
    public func claimRuled(
        endpoint: String, rules: DeliveryRules, room: Int, perEndpoint: Int, now: Int64, lease: Int64
    ) throws -> (claimed: [ClaimedDelivery], tokenAt: Int64?) {
        try connection.write {
            let leased = try connection.statement("""
                SELECT count(*) FROM deliveries INDEXED BY deliveries_endpoint_due
                WHERE endpoint = ?1 AND status = 'pending' AND lease_until > ?2
                """).bind(1, endpoint).bind(2, now).firstInt() ?? 0
            var wanted = min(room, perEndpoint - Int(leased))
            if rules.fifo { wanted = leased > 0 ? 0 : min(wanted, 1) }
            var tokens = 0.0
            if let rate = rules.rateLimit {
                let bucket = try connection.statement("SELECT tokens, at FROM rate_buckets WHERE endpoint = ?1").bind(1, endpoint)
                tokens = try bucket.step() ? rate.refilled(bucket.double(0), elapsed: now - bucket.int(1)) : Double(rate.count)
                try bucket.run()
                wanted = min(wanted, Int(tokens))
            }
            var claimed: [ClaimedDelivery] = []
            if wanted > 0 {
                claimed = try self.claimed(rules.fifo ? ClaimSQL.headOfEndpoint : ClaimSQL.oldestDueOfEndpoint, leaseUntil: now + lease) {
                    $0.bind(":now", now).bind(":limit", wanted).bind(":endpoint", endpoint)
                }
            }
            guard let rate = rules.rateLimit else { return (claimed, nil) }
            tokens -= Double(claimed.count)
            try connection.statement("""
                INSERT INTO rate_buckets (endpoint, tokens, at) VALUES (?1, ?2, ?3)
                ON CONFLICT (endpoint) DO UPDATE SET tokens = excluded.tokens, at = excluded.at
                """).bind(1, endpoint).bind(2, tokens).bind(3, now).run()
            // Waiting for a token only when one more would have been claimed.
            let starved = try tokens < 1 && wanted == claimed.count && hasDue(endpoint, now: now)
            return (claimed, starved ? now + rate.untilNext(tokens) : nil)
        }
    }

    public func oldestPending(webhook: String) throws -> Int64? {
        try connection.statement("""
            SELECT min(id) FROM deliveries INDEXED BY deliveries_endpoint_status WHERE endpoint = ?1 AND status = 'pending'
            """).bind(1, webhook).firstInt()
    }

    /// Whether `endpoint` has a due delivery no lease holds.
    private func hasDue(_ endpoint: String, now: Int64) throws -> Bool {
        try connection.statement("""
            SELECT 1 FROM deliveries INDEXED BY deliveries_endpoint_due
            WHERE endpoint = ?1 AND status = 'pending' AND next_attempt_at <= ?2 AND (lease_until IS NULL OR lease_until <= ?2) LIMIT 1
            """).bind(1, endpoint).bind(2, now).firstInt() != nil
    }
}
