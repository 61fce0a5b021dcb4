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
/// Under slot grants (``SlotGrants``: `serve`'s dispatcher) the claim is ``Granted``: the grants
/// hold the limit across instances, and no lease is counted.
///
/// Under a quota without grants the per-endpoint limit holds across every instance by the count
/// of unexpired leases, in one statement too. It
/// finds the endpoints with pending deliveries (a loose scan of the pending-only
/// `deliveries_endpoint_due` index), keeps those with a due unleased delivery and room left
/// (neither paused nor deleted), and locks their `claim_turns` rows `FOR UPDATE SKIP LOCKED`,
/// served longest ago first (at most `limit` of them: another instance claiming at the same
/// moment takes the next ones); it takes each endpoint's oldest due deliveries up to
/// `limit − leased` and what ``TargetQuota`` leaves this process, and gives the endpoints served
/// their next turn (`last_turn`, from `claim_tokens`). The leases are counted in the statement's
/// snapshot, which misses a claim committed after it began: such a claim moved the endpoint's
/// `last_turn`, and the row lock re-checks `last_turn` against the snapshot's value on the row's
/// newest version (READ COMMITTED's re-check of a locked row), so that endpoint is left for the
/// next round instead of being over-claimed. (A counter kept up by claims and completions would
/// drift when an instance dies; a count of unexpired leases does not.) Every endpoint gets its
/// `claim_turns` row when its first delivery is stored.
struct ClaimRequest: Sendable {
    let limit: Int
    let now: Int64
    let leaseUntil: Int64
    let owner: String
    let quota: TargetQuota?

    /// The claim under a quota as a ``Turns`` statement; nil without a quota, under slot grants
    /// or with nothing wanted.
    var turns: Turns? {
        guard let quota, quota.granted == nil, limit > 0 else { return nil }
        let held = quota.held.keys.sorted()
        return Turns(
            limit: Int64(limit), perEndpoint: Int64(quota.limit), now: now, leaseUntil: leaseUntil, owner: owner,
            held: held, heldCounts: held.map { Int64(quota.held[$0]!) }, paused: quota.paused.sorted())
    }

    /// The claim under slot grants as a ``Granted`` statement; nil without grants or with
    /// nothing wanted or granted.
    var granted: Granted? {
        guard let quota, let granted = quota.granted, limit > 0, !granted.isEmpty else { return nil }
        return Granted(
            limit: Int64(limit), now: now, leaseUntil: leaseUntil, owner: owner, endpoints: granted.map(\.target),
            rooms: granted.map { Int64($0.claims) }, paused: quota.paused.sorted())
    }

    func run(in session: Session) async throws -> [ClaimedDelivery] {
        guard limit > 0, quota?.granted.map({ !$0.isEmpty }) ?? true else { return [] }
        return try await session.retrying { try await claim(in: session) }
    }

    private func claim(in session: Session) async throws -> [ClaimedDelivery] {
        if let granted { return try await Self.decode(session.rows(granted)) }
        guard let turns else {
            return try await Self.decode(session.rows(OldestDue(limit: Int64(limit), now: now, leaseUntil: leaseUntil, owner: owner)))
        }
        return try await Self.decode(session.rows(turns))
    }

    static func decode(_ rows: [PostgresRow]) throws -> [ClaimedDelivery] {
        try rows.map { row in
            let (id, claim, messageID, body, target, attempts, createdAt, traceparent) = try row.decode(
                (Int64, Int64, String, ByteBuffer, String, Int64, Int64, String?).self)
            return ClaimedDelivery(
                id: id, claim: claim, messageID: messageID, body: body.bytes, target: target,
                attempts: Int(attempts), createdAt: createdAt, traceparent: traceparent)
        }
    }

    /// What a claim returns, for the `claimed` rows leased and their `turn` (the order to hand
    /// them out in).
    static let claimedRows = """
        SELECT c.id, c.claim, m.webhook_id, m.body, c.endpoint, c.attempts, m.created_at, m.traceparent
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

    /// Under a quota. $1 limit, $2 per-endpoint limit, $3 now, $4 lease until, $5 owner,
    /// $6/$7 what this process holds per endpoint, $8 the endpoints held back (paused). The due
    /// delivery is looked for with `LIMIT 1` per endpoint: as `EXISTS` the planner made it a
    /// semi-join over every due delivery, a scan of the whole backlog each round.
    struct Turns: BindingsPart {
        static let sql = "WITH RECURSIVE " + ctes(base: 0, completing: false) + "\n" + claimedRows

        /// The claim's common table expressions, its parameters numbered from `base` + 1. When
        /// `completing`, a statement that first records completions (``RoundStatement``: its
        /// outcomes `o`, `$1` their delivery ids) runs it in the same snapshot: the leases those
        /// completions end do not count, and their deliveries are not claimed again.
        static func ctes(base: Int, completing: Bool) -> String {
            func p(_ n: Int) -> String { "$\(base + n)" }
            return """
            e(endpoint) AS (
                SELECT min(endpoint) FROM deliveries WHERE status = 'pending'
                UNION ALL
                SELECT (SELECT min(endpoint) FROM deliveries WHERE status = 'pending' AND endpoint > e.endpoint)
                FROM e WHERE e.endpoint IS NOT NULL),
            turns AS MATERIALIZED (
                SELECT c.endpoint, c.last_turn, least(\(p(1)), \(p(2)) - coalesce(h.n, 0)) AS free
                FROM claim_turns c JOIN e ON e.endpoint = c.endpoint
                    LEFT JOIN unnest(\(p(6))::text[], \(p(7))::bigint[]) AS h(endpoint, n) ON h.endpoint = c.endpoint
                WHERE c.endpoint <> ALL(\(p(8))::text[]) AND \(p(2)) - coalesce(h.n, 0) > 0
                    AND c.endpoint NOT IN (SELECT endpoint FROM discarding)
                    AND c.endpoint NOT IN (SELECT id FROM webhooks WHERE paused)
                    AND (SELECT true FROM deliveries d WHERE d.endpoint = c.endpoint AND d.status = 'pending'
                            AND d.next_attempt_at <= \(p(3)) AND (d.lease_until IS NULL OR d.lease_until <= \(p(3)))
                        ORDER BY d.next_attempt_at, d.id LIMIT 1)
                    AND (SELECT count(*) FROM deliveries l
                        WHERE l.endpoint = c.endpoint AND l.status = 'pending' AND l.lease_until > \(p(3))\(completing ? " AND NOT EXISTS (SELECT 1 FROM o WHERE o.id = l.id AND o.claim = l.claim)" : "")) < \(p(2))
                    -- No claim committed since this statement's snapshot: re-checked on the newest row once locked.
                    AND c.last_turn = (SELECT x.last_turn FROM claim_turns x WHERE x.endpoint = c.endpoint)
                ORDER BY c.last_turn, c.endpoint LIMIT \(p(1))
                FOR UPDATE OF c SKIP LOCKED),
            picked AS (
                SELECT d.id, t.turn FROM (
                    SELECT t.endpoint, row_number() OVER (ORDER BY t.last_turn, t.endpoint) AS turn, least(t.free, \(p(2)) - (
                        SELECT count(*) FROM deliveries l WHERE l.endpoint = t.endpoint AND l.status = 'pending' AND l.lease_until > \(p(3))\(completing ? " AND NOT EXISTS (SELECT 1 FROM o WHERE o.id = l.id AND o.claim = l.claim)" : ""))) AS room
                    FROM turns t) t
                CROSS JOIN LATERAL (
                    SELECT id FROM deliveries
                    WHERE endpoint = t.endpoint AND status = 'pending' AND next_attempt_at <= \(p(3))
                        AND (lease_until IS NULL OR lease_until <= \(p(3)))\(completing ? " AND id <> ALL($1::bigint[])" : "")
                    ORDER BY next_attempt_at, id LIMIT greatest(t.room, 0)
                    FOR UPDATE SKIP LOCKED) d
                LIMIT \(p(1))),
            claimed AS (
                UPDATE deliveries d SET claim = nextval('claim_tokens'), lease_until = \(p(4)), lease_owner = \(p(5))
                FROM picked WHERE d.id = picked.id
                RETURNING d.id, d.claim, d.message_id, d.endpoint, d.attempts, d.next_attempt_at, picked.turn),
            served AS (
                UPDATE claim_turns SET last_turn = nextval('claim_tokens')
                WHERE endpoint IN (SELECT DISTINCT endpoint FROM claimed))
            """
        }

        var limit, perEndpoint, now, leaseUntil: Int64
        var owner: String
        var held: [String]
        var heldCounts: [Int64]
        var paused: [String]
        func bind(_ bindings: inout PostgresBindings) throws {
            try bindings.append(all: limit, perEndpoint, now, leaseUntil, owner, held, heldCounts, paused)
        }
    }
}
