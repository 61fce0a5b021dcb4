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
            return try await Self.decode(session.rows(OldestDue(limit: Int64(limit), now: now, leaseUntil: leaseUntil, owner: owner)))
        }
        let held = quota.held.keys.sorted()
        var turns: [String] = [], room: [Int64] = []
        for row in try await session.rows(EndpointTurns(
            limit: Int64(limit), perEndpoint: Int64(quota.limit), now: now, held: held, heldCounts: held.map { Int64(quota.held[$0]!) },
            paused: quota.paused.sorted()))
        {
            let (endpoint, free) = try row.decode((String, Int64).self)
            turns.append(endpoint)
            room.append(free)
        }
        guard !turns.isEmpty else { return [] }
        return try await Self.decode(session.rows(ClaimTurns(
            limit: Int64(limit), perEndpoint: Int64(quota.limit), now: now, leaseUntil: leaseUntil, owner: owner,
            endpoints: turns, room: room)))
    }

    private static func decode(_ rows: [PostgresRow]) throws -> [ClaimedDelivery] {
        try rows.map { row in
            let (id, claim, messageID, body, target, attempts, createdAt) = try row.decode(
                (Int64, Int64, String, ByteBuffer, String, Int64, Int64).self)
            return ClaimedDelivery(
                id: id, claim: claim, messageID: messageID, body: body.bytes, target: target,
                attempts: Int(attempts), createdAt: createdAt)
        }
    }

    /// What a claim returns, for the `claimed` rows leased and their `turn` (the order to hand
    /// them out in).
    private static let claimedRows = """
        SELECT c.id, c.claim, m.webhook_id, m.body, c.endpoint, c.attempts, m.created_at
        FROM claimed c JOIN messages m ON m.id = c.message_id
        ORDER BY c.turn, c.next_attempt_at, c.id
        """

    /// Without a quota: the oldest due deliveries no lease holds, of webhooks neither paused
    /// nor being deleted. $1 limit, $2 now, $3 lease until, $4 owner.
    struct OldestDue: PreparedQuery {
        static let sql = """
            WITH picked AS (
                SELECT id FROM deliveries
                WHERE status = 'pending' AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
                    AND endpoint NOT IN (SELECT endpoint FROM discarding)
                    AND endpoint NOT IN (SELECT id FROM webhooks WHERE paused)
                ORDER BY next_attempt_at, id LIMIT $1
                FOR UPDATE SKIP LOCKED),
            claimed AS (
                UPDATE deliveries d SET claim = nextval('claim_tokens'), lease_until = $3, lease_owner = $4
                FROM picked WHERE d.id = picked.id
                RETURNING d.id, d.claim, d.message_id, d.endpoint, d.attempts, d.next_attempt_at, 0 AS turn)
            \(claimedRows)
            """
        var limit, now, leaseUntil: Int64
        var owner: String
        func makeBindings() throws -> PostgresBindings { try .of(limit, now, leaseUntil, owner) }
    }

    /// Under a quota, the first statement: the endpoints with pending deliveries (a loose scan of
    /// `deliveries_endpoint_due`) that have a due unleased delivery and room left, their
    /// `claim_turns` rows locked, served longest ago first, with the room each has. The due
    /// delivery is looked for with `LIMIT 1` per endpoint: as `EXISTS` the planner made it a
    /// semi-join over every due delivery, a scan of the whole backlog each round.
    /// $1 limit, $2 per-endpoint limit, $3 now, $4/$5 what this process holds per endpoint,
    /// $6 the endpoints held back (paused).
    struct EndpointTurns: PreparedQuery {
        static let sql = """
            WITH RECURSIVE e(endpoint) AS (
                SELECT min(endpoint) FROM deliveries WHERE status = 'pending'
                UNION ALL
                SELECT (SELECT min(endpoint) FROM deliveries WHERE status = 'pending' AND endpoint > e.endpoint)
                FROM e WHERE e.endpoint IS NOT NULL)
            SELECT c.endpoint, least($1, $2 - coalesce(h.n, 0))
            FROM claim_turns c JOIN e ON e.endpoint = c.endpoint
                LEFT JOIN unnest($4::text[], $5::bigint[]) AS h(endpoint, n) ON h.endpoint = c.endpoint
            WHERE c.endpoint <> ALL($6::text[]) AND $2 - coalesce(h.n, 0) > 0
                AND c.endpoint NOT IN (SELECT endpoint FROM discarding)
                AND c.endpoint NOT IN (SELECT id FROM webhooks WHERE paused)
                AND (SELECT true FROM deliveries d WHERE d.endpoint = c.endpoint AND d.status = 'pending'
                        AND d.next_attempt_at <= $3 AND (d.lease_until IS NULL OR d.lease_until <= $3)
                    ORDER BY d.next_attempt_at, d.id LIMIT 1)
                AND (SELECT count(*) FROM deliveries l
                    WHERE l.endpoint = c.endpoint AND l.status = 'pending' AND l.lease_until > $3) < $2
            ORDER BY c.last_turn, c.endpoint LIMIT $1
            FOR UPDATE OF c SKIP LOCKED
            """
        var limit, perEndpoint, now: Int64
        var held: [String]
        var heldCounts: [Int64]
        var paused: [String]
        func makeBindings() throws -> PostgresBindings { try .of(limit, perEndpoint, now, held, heldCounts, paused) }
    }

    /// Under a quota, the second statement: each locked endpoint's oldest due deliveries up to
    /// its room (counted again: this statement's snapshot follows every claim committed before
    /// the locks), leased, and the endpoints served given their next turn.
    /// $1 limit, $2 per-endpoint limit, $3 now, $4 lease until, $5 owner, $6/$7 the endpoints and their room.
    struct ClaimTurns: PreparedQuery {
        static let sql = """
            WITH picked AS (
                SELECT d.id, t.turn FROM (
                    SELECT t.endpoint, t.turn, least(t.free, $2 - (
                        SELECT count(*) FROM deliveries l WHERE l.endpoint = t.endpoint AND l.status = 'pending' AND l.lease_until > $3)) AS room
                    FROM unnest($6::text[], $7::bigint[]) WITH ORDINALITY AS t(endpoint, free, turn)) t
                CROSS JOIN LATERAL (
                    SELECT id FROM deliveries
                    WHERE endpoint = t.endpoint AND status = 'pending' AND next_attempt_at <= $3
                        AND (lease_until IS NULL OR lease_until <= $3)
                    ORDER BY next_attempt_at, id LIMIT greatest(t.room, 0)
                    FOR UPDATE SKIP LOCKED) d
                LIMIT $1),
            claimed AS (
                UPDATE deliveries d SET claim = nextval('claim_tokens'), lease_until = $4, lease_owner = $5
                FROM picked WHERE d.id = picked.id
                RETURNING d.id, d.claim, d.message_id, d.endpoint, d.attempts, d.next_attempt_at, picked.turn),
            served AS (
                UPDATE claim_turns SET last_turn = nextval('claim_tokens')
                WHERE endpoint IN (SELECT DISTINCT endpoint FROM claimed))
            \(claimedRows)
            """
        var limit, perEndpoint, now, leaseUntil: Int64
        var owner: String
        var endpoints: [String]
        var room: [Int64]
        func makeBindings() throws -> PostgresBindings { try .of(limit, perEndpoint, now, leaseUntil, owner, endpoints, room) }
    }
}
