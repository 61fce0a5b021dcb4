import HookRelayCore
import HookRelayStore
import NIOCore
import PostgresNIO

/// One claim: which due deliveries a dispatcher round takes, and the lease it puts on them.
///
/// Without a quota, one statement takes the oldest due deliveries no lease holds, skipping the
/// rows another transaction has locked (`FOR UPDATE SKIP LOCKED`: two instances claiming at once
/// never wait for each other nor take the same row), leases them and gives each a fencing token
/// from the `claim_tokens` sequence, and reads their messages. Under a quota, the endpoints with
/// pending deliveries are read first (one index probe each), visited in turn from where the last
/// claim stopped, and one statement takes each endpoint's oldest up to what it has free.
///
/// The quota is this process's (``TargetQuota/held`` counts what its own workers hold), as in
/// ``SQLiteSpool``: with several instances, each keeps its own per-webhook limit.
struct ClaimRequest: Sendable {
    let limit: Int
    let now: Int64
    let leaseUntil: Int64
    let owner: String
    let quota: TargetQuota?
    let cursor: String

    /// What was claimed, and the endpoint the next claim under a quota starts after.
    struct Result: Sendable {
        var claimed: [ClaimedDelivery] = []
        var cursor: String?
    }

    func run(in session: Session) async throws -> Result {
        guard limit > 0 else { return Result() }
        guard let quota else {
            return Result(claimed: try await claim(in: session, picking: """
                SELECT id, 0::bigint AS turn FROM deliveries
                WHERE status = 'pending' AND next_attempt_at <= \(now) AND (lease_until IS NULL OR lease_until <= \(now))
                    AND endpoint NOT IN (SELECT endpoint FROM discarding)
                    AND endpoint NOT IN (SELECT id FROM webhooks WHERE paused)
                ORDER BY next_attempt_at, id LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
                """))
        }
        let endpoints = try await session.texts(Self.pendingEndpoints)
        let start = endpoints.firstIndex { $0 > cursor } ?? 0
        var names: [String] = [], free: [Int64] = []
        for endpoint in endpoints[start...] + endpoints[..<start] {
            let room = min(quota.free(endpoint), limit)
            if room > 0 {
                names.append(endpoint)
                free.append(Int64(room))
            }
        }
        guard !names.isEmpty else { return Result() }
        let claimed = try await claim(in: session, picking: """
            SELECT d.id, t.turn FROM unnest(\(names)::text[], \(free)::bigint[]) WITH ORDINALITY AS t(endpoint, free, turn)
            CROSS JOIN LATERAL (
                SELECT id FROM deliveries
                WHERE endpoint = t.endpoint AND status = 'pending' AND next_attempt_at <= \(now)
                    AND (lease_until IS NULL OR lease_until <= \(now))
                ORDER BY next_attempt_at, id LIMIT t.free
                FOR UPDATE SKIP LOCKED) d
            LIMIT \(limit)
            """)
        return Result(claimed: claimed, cursor: claimed.last?.target)
    }

    /// The endpoints with pending deliveries, in order, none deleted or paused: a loose scan of
    /// the pending-only `deliveries_endpoint_due` index, one probe per endpoint.
    static let pendingEndpoints: PostgresQuery = """
        WITH RECURSIVE e(endpoint) AS (
            SELECT min(endpoint) FROM deliveries WHERE status = 'pending'
            UNION ALL
            SELECT (SELECT min(endpoint) FROM deliveries WHERE status = 'pending' AND endpoint > e.endpoint)
            FROM e WHERE e.endpoint IS NOT NULL)
        SELECT endpoint FROM e WHERE endpoint IS NOT NULL
            AND endpoint NOT IN (SELECT endpoint FROM discarding)
            AND endpoint NOT IN (SELECT id FROM webhooks WHERE paused)
        """

    /// Leases the deliveries `picking` selects (`id`, and `turn`, the order to hand them out
    /// in), with their messages.
    private func claim(in session: Session, picking: PostgresQuery) async throws -> [ClaimedDelivery] {
        var query = picking
        let lease = query.binds.count + 1
        query.sql = """
            WITH picked AS (\(picking.sql)),
            claimed AS (
                UPDATE deliveries d SET claim = nextval('claim_tokens'), lease_until = $\(lease), lease_owner = $\(lease + 1)
                FROM picked WHERE d.id = picked.id
                RETURNING d.id, d.claim, d.message_id, d.endpoint, d.attempts, d.next_attempt_at, picked.turn)
            SELECT c.id, c.claim, m.webhook_id, m.body, c.endpoint, c.attempts, m.created_at
            FROM claimed c JOIN messages m ON m.id = c.message_id
            ORDER BY c.turn, c.next_attempt_at, c.id
            """
        query.binds.append(leaseUntil)
        query.binds.append(owner)
        return try await session.rows(query).map { row in
            let (id, claim, messageID, body, target, attempts, createdAt) = try row.decode(
                (Int64, Int64, String, ByteBuffer, String, Int64, Int64).self)
            return ClaimedDelivery(
                id: id, claim: claim, messageID: messageID, body: body.bytes, target: target,
                attempts: Int(attempts), createdAt: createdAt)
        }
    }
}
