import HookRelayStore
import NIOCore
import PostgresNIO

/// The dispatcher's common round in one statement: the completions of deliveries that succeeded
/// (``Completion/Record``'s expressions) and the next claim under the quota
/// (``ClaimRequest/Turns``'s, `completing`: in the same snapshot the leases these completions end
/// do not count, and their deliveries are not claimed again), committed by itself. One round
/// trip a round instead of two: a round's latency is what bounds delivery to a few webhooks with
/// their per-webhook limit (docs/benchmarks.md). Rows of kind 0 are the completions (columns 1–14
/// as ``Completion/Record``'s: column 14, the claim of kind 1, is their ref), of kind 1 the
/// claimed deliveries.
struct RoundStatement: PreparedQuery {
    static let sql = "WITH RECURSIVE " + Completion.Record.ctes + ",\n" + ClaimRequest.Turns.ctes(base: 13, completing: true) + "\n" + """
        SELECT 0 AS kind, c.turn, c.id, m.webhook_id, c.endpoint, c.status, c.attempts, c.last_http_status, c.last_error,
            c.last_latency_ms, c.next_attempt_at, w.state, w.consecutive_failures, w.failing_since,
            c.ref AS claim, NULL::bytea AS body, NULL::bigint AS created_at, NULL::text AS traceparent
        FROM changed c JOIN messages m ON m.id = c.message_id LEFT JOIN webhooks w ON w.id = c.endpoint
        UNION ALL
        SELECT 1, q.turn, q.id, m.webhook_id, q.endpoint, NULL, q.attempts, NULL, NULL, NULL, q.next_attempt_at, NULL, NULL, NULL,
            q.claim, m.body, m.created_at, m.traceparent
        FROM claimed q JOIN messages m ON m.id = q.message_id
        ORDER BY 1, 2, 11, 3
        """

    var record: Completion.Record
    var turns: ClaimRequest.Turns

    func makeBindings() throws -> PostgresBindings {
        let (r, t) = (record, turns)
        return try .of(
            r.ids, r.claims, r.statuses, r.next, r.http, r.errors, r.hasError, r.latency, r.counted, r.started, r.bodies, r.now,
            r.refs, t.limit, t.perEndpoint, t.now, t.leaseUntil, t.owner, t.held, t.heldCounts, t.paused)
    }

    /// A claimed delivery from a row of kind 1.
    static func claimed(_ row: PostgresRow) throws -> ClaimedDelivery {
        let c = row.makeRandomAccess()
        return ClaimedDelivery(
            id: try c[2].decode(Int64.self), claim: try c[14].decode(Int64.self), messageID: try c[3].decode(String.self),
            body: try c[15].decode(ByteBuffer.self).bytes, target: try c[4].decode(String.self),
            attempts: Int(try c[6].decode(Int64.self)), createdAt: try c[16].decode(Int64.self), traceparent: try c[17].decode(String?.self))
    }
}
