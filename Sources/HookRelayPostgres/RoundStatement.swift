import HookRelayStore
import NIOCore
import PostgresNIO

/// The dispatcher's common round in one statement: the completions of deliveries that succeeded
/// (``Completion/Record``'s expressions) and the next claim under the quota
/// (``ClaimRequest/Turns``'s, `completing`: in the same snapshot the leases these completions end
/// do not count, and their deliveries are not claimed again), committed by itself: one round
/// trip a round instead of two. Under slot grants (`serve`) ``GrantedRoundStatement`` is the
/// same with ``ClaimRequest/Granted``'s claim. Rows of kind 0 are the completions (columns 1–14
/// as ``Completion/Record``'s: column 14, the claim of kind 1, is their ref), of kind 1 the
/// claimed deliveries.
struct RoundStatement: RoundQuery {
    static let sql = roundSQL(claim: ClaimRequest.Turns.ctes(base: 13, completing: true))
    var record: Completion.Record
    var claim: ClaimRequest.Turns
}

/// ``RoundStatement`` under slot grants: the claim is ``ClaimRequest/Granted``'s.
struct GrantedRoundStatement: RoundQuery {
    static let sql = roundSQL(claim: ClaimRequest.Granted.ctes(base: 13, completing: true))
    var record: Completion.Record
    var claim: ClaimRequest.Granted
}

/// A dispatcher round's statement: the completions and a claim.
protocol RoundQuery: PreparedQuery {
    associatedtype Claim: BindingsPart
    var record: Completion.Record { get }
    var claim: Claim { get }
}

extension RoundQuery {
    /// The statement, with the claim's common table expressions (their parameters after the
    /// completions' 13).
    static func roundSQL(claim ctes: String) -> String {
        "WITH RECURSIVE " + Completion.Record.ctes + ",\n" + ctes + "\n" + """
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
    }

    /// The completions' parameters, then the claim's.
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        try record.bind(&bindings)
        try claim.bind(&bindings)
        return bindings
    }
}

extension RoundStatement {
    /// A claimed delivery from a row of kind 1.
    static func claimed(_ row: PostgresRow) throws -> ClaimedDelivery {
        let c = row.makeRandomAccess()
        return ClaimedDelivery(
            id: try c[2].decode(Int64.self), claim: try c[14].decode(Int64.self), messageID: try c[3].decode(String.self),
            body: try c[15].decode(ByteBuffer.self).bytes, target: try c[4].decode(String.self),
            attempts: Int(try c[6].decode(Int64.self)), createdAt: try c[16].decode(Int64.self), traceparent: try c[17].decode(String?.self))
    }
}
