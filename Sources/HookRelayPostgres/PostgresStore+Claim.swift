import HookRelayCore
import HookRelayStore
import NIOCore
import PostgresNIO

/// One claim: which due deliveries a dispatcher round takes, and the lease it puts on them.
///
/// Without a quota, one statement takes the oldest due deliveries no lease holds, skipping the
/// rows another transaction has locked (`FOR UPDATE SKIP LOCKED`: two instances claiming at once
/// never wait for each other nor take the same row), leases them and gives each a fencing token
/// from the `claim_tokens` sequence, and reads their messages.
///
/// Under a quota the per-endpoint limit holds across every instance. One statement finds the
/// endpoints with pending deliveries (a loose scan of the pending-only `deliveries_endpoint_due`
/// index), keeps those with a due unleased delivery and room left (neither paused nor deleted),
/// and locks their `claim_turns` rows `FOR UPDATE SKIP LOCKED`, served longest ago first (at most
/// `limit` of them: another instance claiming at the same moment takes the next ones). A second
/// statement, whose snapshot holds every claim committed before those locks were had, counts each
/// endpoint's leased deliveries, takes its oldest due ones up to `limit − leased` and what
/// ``TargetQuota`` leaves this process, and gives the endpoints served their next turn. (A count
/// in the locking statement itself would miss a claim committed while it waited: over-claiming.
/// A counter kept up by claims and completions would drift when an instance dies.) Every
/// endpoint gets its `claim_turns` row when its first delivery is stored.
struct ClaimRequest: Sendable {
    let limit: Int
    let now: Int64
    let leaseUntil: Int64
    let owner: String
    let quota: TargetQuota?

    func run(in session: Session) async throws -> [ClaimedDelivery] {
        guard limit > 0 else { return [] }
        guard let quota else {
            return try await claim(in: session, picking: """
                SELECT id, 0::bigint AS turn FROM deliveries
                WHERE status = 'pending' AND next_attempt_at <= \(now) AND (lease_until IS NULL OR lease_until <= \(now))
                    AND endpoint NOT IN (SELECT endpoint FROM discarding)
                    AND endpoint NOT IN (SELECT id FROM webhooks WHERE paused)
                ORDER BY next_attempt_at, id LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
                """)
        }
        let perEndpoint = Int64(quota.limit)
        let heldNames = quota.held.keys.sorted()
        let heldCounts = heldNames.map { Int64(quota.held[$0]!) }
        let paused = quota.paused.sorted()
        var turns: [String] = [], room: [Int64] = []
        for row in try await session.rows("""
            WITH RECURSIVE e(endpoint) AS (
                SELECT min(endpoint) FROM deliveries WHERE status = 'pending'
                UNION ALL
                SELECT (SELECT min(endpoint) FROM deliveries WHERE status = 'pending' AND endpoint > e.endpoint)
                FROM e WHERE e.endpoint IS NOT NULL)
            SELECT c.endpoint, least(\(Int64(limit)), \(perEndpoint) - coalesce(h.n, 0))
            FROM claim_turns c JOIN e ON e.endpoint = c.endpoint
                LEFT JOIN unnest(\(heldNames)::text[], \(heldCounts)::bigint[]) AS h(endpoint, n) ON h.endpoint = c.endpoint
            WHERE c.endpoint <> ALL(\(paused)::text[]) AND \(perEndpoint) - coalesce(h.n, 0) > 0
                AND c.endpoint NOT IN (SELECT endpoint FROM discarding)
                AND c.endpoint NOT IN (SELECT id FROM webhooks WHERE paused)
                AND EXISTS (
                    SELECT 1 FROM deliveries d WHERE d.endpoint = c.endpoint AND d.status = 'pending'
                        AND d.next_attempt_at <= \(now) AND (d.lease_until IS NULL OR d.lease_until <= \(now)))
                AND (SELECT count(*) FROM deliveries l
                    WHERE l.endpoint = c.endpoint AND l.status = 'pending' AND l.lease_until > \(now)) < \(perEndpoint)
            ORDER BY c.last_turn, c.endpoint LIMIT \(Int64(limit))
            FOR UPDATE OF c SKIP LOCKED
            """)
        {
            let (endpoint, free) = try row.decode((String, Int64).self)
            turns.append(endpoint)
            room.append(free)
        }
        guard !turns.isEmpty else { return [] }
        return try await claim(in: session, turns: true, picking: """
            SELECT d.id, t.turn FROM (
                SELECT t.endpoint, t.turn, least(t.free, \(perEndpoint) - (
                    SELECT count(*) FROM deliveries l WHERE l.endpoint = t.endpoint AND l.status = 'pending' AND l.lease_until > \(now))) AS room
                FROM unnest(\(turns)::text[], \(room)::bigint[]) WITH ORDINALITY AS t(endpoint, free, turn)) t
            CROSS JOIN LATERAL (
                SELECT id FROM deliveries
                WHERE endpoint = t.endpoint AND status = 'pending' AND next_attempt_at <= \(now)
                    AND (lease_until IS NULL OR lease_until <= \(now))
                ORDER BY next_attempt_at, id LIMIT greatest(t.room, 0)
                FOR UPDATE SKIP LOCKED) d
            LIMIT \(Int64(limit))
            """)
    }

    /// Leases the deliveries `picking` selects (`id`, and `turn`, the order to hand them out
    /// in), with their messages.
    /// With `turns`, the endpoints served get the next turn (`claim_turns.last_turn`), in the
    /// same statement (their rows are locked already).
    private func claim(in session: Session, turns: Bool = false, picking: PostgresQuery) async throws -> [ClaimedDelivery] {
        var query = picking
        let lease = query.binds.count + 1
        query.sql = """
            WITH picked AS (\(picking.sql)),
            claimed AS (
                UPDATE deliveries d SET claim = nextval('claim_tokens'), lease_until = $\(lease), lease_owner = $\(lease + 1)
                FROM picked WHERE d.id = picked.id
                RETURNING d.id, d.claim, d.message_id, d.endpoint, d.attempts, d.next_attempt_at, picked.turn)\(turns ? """
            ,
            served AS (
                UPDATE claim_turns SET last_turn = nextval('claim_tokens')
                WHERE endpoint IN (SELECT DISTINCT endpoint FROM claimed))
            """ : "")
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
