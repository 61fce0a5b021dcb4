/// Claims: which due deliveries a dispatcher round takes, under the per-endpoint limit, and
/// their messages.
extension SQLiteSpool {
    /// Claims due deliveries: the oldest overall, or, under a quota, each endpoint's oldest up to
    /// what it has free, visiting endpoints in turn from where the last claim stopped. When few
    /// deliveries are due, the endpoints visited are those of the due ones (from the due index:
    /// the cost follows the due work, however many endpoints wait for a later retry); when many
    /// are, every endpoint with pending deliveries, each an index seek, however many deliveries
    /// wait for the endpoints at their limit.
    ///
    /// The deliveries of a deleted webhook whose discarding is under way are never claimed.
    func claimInTransaction(limit: Int, now: Int64, lease: Int64, quota: TargetQuota?) throws -> [ClaimedDelivery] {
        guard limit > 0 else { return [] }
        let discarding = try discardingEndpoints()
        // Paused webhooks as of this transaction: a dispatcher's own list may be a moment old.
        var quota = quota
        let paused = try pausedWebhooks()
        if !paused.isEmpty {
            quota = TargetQuota(limit: quota?.limit ?? Int.max, held: quota?.held ?? [:], paused: paused.union(quota?.paused ?? []))
        }
        guard let quota else {
            let sql = discarding.isEmpty ? ClaimSQL.oldestDue : ClaimSQL.oldestDueSkippingDiscarded
            return try claimed(sql, leaseUntil: now + lease) { $0.bind(":now", now).bind(":limit", limit) }
        }
        // A backlog (more than `dueScanLimit` due) is not scanned for again for a second.
        var due: [String]? = nil
        if now >= backlogUntil {
            due = try dueEndpoints(now: now)
            if due == nil { backlogUntil = now + 1_000 }
        }
        let endpoints = try due ?? pendingEndpoints()
        let start = endpoints.firstIndex { $0 > claimCursor } ?? 0
        var claimed: [ClaimedDelivery] = []
        for endpoint in endpoints[start...] + endpoints[..<start] where claimed.count < limit && !discarding.contains(endpoint) {
            let free = min(quota.free(endpoint), limit - claimed.count)
            guard free > 0 else { continue }
            claimCursor = endpoint
            claimed += try self.claimed(ClaimSQL.oldestDueOfEndpoint, leaseUntil: now + lease) {
                $0.bind(":now", now).bind(":limit", free).bind(":endpoint", endpoint)
            }
        }
        return claimed
    }

    /// The webhooks whose deliveries wait (schema 8's partial index: nothing read when none is).
    private func pausedWebhooks() throws -> Set<String> {
        try textSet("SELECT id FROM webhooks INDEXED BY webhooks_paused WHERE paused = 1")
    }

    /// The most due deliveries ``dueEndpoints(now:)`` reads before it leaves the choice of
    /// endpoints to ``pendingEndpoints()``.
    static let dueScanLimit = 2_048


    /// The endpoints of the deliveries due at `now` (claimed ones included), in order, read from
    /// the pending-only due index; nil when more than ``dueScanLimit`` are due.
    private func dueEndpoints(now: Int64) throws -> [String]? {
        let statement = try connection.statement(
            "SELECT endpoint FROM deliveries INDEXED BY deliveries_due WHERE status = 'pending' AND next_attempt_at <= ?1 LIMIT ?2")
        statement.bind(1, now).bind(2, Self.dueScanLimit + 1)
        var endpoints = Set<String>()
        var rows = 0
        while try statement.step() {
            rows += 1
            if let endpoint = statement.text(0) { endpoints.insert(endpoint) }
        }
        try statement.run()
        return rows > Self.dueScanLimit ? nil : endpoints.sorted()
    }

    /// The endpoints with pending deliveries, in order: one index seek each.
    public func pendingEndpoints() throws -> [String] {
        let next = try connection.statement(
            // The pending-only index: (endpoint, status) would walk every finished delivery too.
            "SELECT min(endpoint) FROM deliveries INDEXED BY deliveries_endpoint_due WHERE status = 'pending' AND endpoint > ?1")
        var endpoints: [String] = []
        var last = ""
        while true {
            next.reset()
            next.bind(1, last)
            guard try next.step(), let endpoint = next.text(0) else { break }
            endpoints.append(endpoint)
            last = endpoint
        }
        try next.run()
        return endpoints
    }

    /// Claims the deliveries `sql` (a ``ClaimSQL``) selects until `leaseUntil`, with their
    /// messages; `bind` binds what the statement names beyond `:lease_until` and `:owner`.
    func claimed(_ sql: String, leaseUntil: Int64, bind: (Statement) -> Void) throws -> [ClaimedDelivery] {
        let claim = try connection.statement(sql)
        claim.bind(":lease_until", leaseUntil).bind(":owner", owner)
        bind(claim)
        var rows: [(Int64, Int64, Int64, String, Int)] = []
        while try claim.step() {
            rows.append((claim.int(0), claim.int(1), claim.int(2), claim.text(3) ?? "", Int(claim.int(4))))
        }
        guard !rows.isEmpty else { return [] }
        // The messages of every claimed delivery in one statement (a batch shares few of them).
        let messages = try connection.statement(
            "SELECT id, webhook_id, body, created_at, traceparent FROM messages WHERE id IN (SELECT value FROM json_each(?1))")
        messages.bind(1, Self.jsonArray(Set(rows.map(\.2)).map(String.init)))
        var bodies: [Int64: (messageID: String, body: [UInt8], createdAt: Int64, traceparent: String?)] = [:]
        while try messages.step() {
            bodies[messages.int(0)] = (messages.text(1) ?? "", messages.blob(2), messages.int(3), messages.text(4))
        }
        // Finish the statement: one left mid-row would keep an old read snapshot open.
        try messages.run()
        return try rows.map { id, token, messageRow, endpoint, attempts in
            guard let message = bodies[messageRow] else {
                throw SQLiteError(code: 0, message: "delivery \(id) has no message", context: "in \(connection.path)")
            }
            return ClaimedDelivery(
                id: id, claim: token, messageID: message.messageID, body: message.body,
                target: endpoint, attempts: attempts, createdAt: message.createdAt, traceparent: message.traceparent)
        }
    }
}

/// The claim statements, whole: each takes the oldest due deliveries that no lease holds (`:now`)
/// up to `:limit`, and leases them to `:owner` until `:lease_until`, counting up the fencing
/// token (`claim`).
enum ClaimSQL {
    static let oldestDue = claim(where: "")

    /// While a deleted webhook's deliveries are being discarded.
    static let oldestDueSkippingDiscarded = claim(where: "AND endpoint NOT IN (SELECT endpoint FROM discarding)")

    /// Of one endpoint (`:endpoint`), under a per-endpoint quota.
    static let oldestDueOfEndpoint = claim(where: "AND endpoint = :endpoint")

    /// The oldest pending delivery of one endpoint (`:endpoint`), when it is due and no lease
    /// holds it (`"ordering": "fifo"`; `:limit` is 1 or 0).
    static let headOfEndpoint = """
        UPDATE deliveries SET claim = claim + 1, lease_until = :lease_until, lease_owner = :owner
        WHERE id IN (
            SELECT id FROM (
                SELECT id, next_attempt_at, lease_until FROM deliveries INDEXED BY deliveries_endpoint_status
                WHERE endpoint = :endpoint AND status = 'pending' ORDER BY id LIMIT 1)
            WHERE next_attempt_at <= :now AND (lease_until IS NULL OR lease_until <= :now) LIMIT :limit)
        RETURNING id, claim, message_id, endpoint, attempts
        """

    /// One delivery (`:id`), whatever its state: an operator's attempt.
    static let byID = """
        UPDATE deliveries SET claim = claim + 1, lease_until = :lease_until, lease_owner = :owner
        WHERE id = :id
        RETURNING id, claim, message_id, endpoint, attempts
        """

    private static func claim(where condition: String) -> String {
        """
        UPDATE deliveries SET claim = claim + 1, lease_until = :lease_until, lease_owner = :owner
        WHERE id IN (
            SELECT id FROM deliveries
            WHERE status = 'pending' AND next_attempt_at <= :now AND (lease_until IS NULL OR lease_until <= :now)
                \(condition)
            ORDER BY next_attempt_at, id LIMIT :limit)
        RETURNING id, claim, message_id, endpoint, attempts
        """
    }
}
