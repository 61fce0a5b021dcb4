import HookRelayCore
import HookRelayStore
import NIOCore
import PostgresNIO

/// Recording a round's outcomes: the attempts, the fenced update of each delivery (only the claim
/// that is current changes it), and with a health policy each webhook's health, as
/// ``SQLiteSpool`` does, in a few statements however many outcomes there are (arrays and
/// `unnest`, one bind per column).
///
/// The dispatcher's common round, deliveries that succeeded recorded without waiting for the
/// disk, is one statement committed by itself, and a transaction follows only when a webhook's
/// health changes (one that was failing recovers): one round trip instead of three. A crash of
/// the server between the two may forget that recovery, which the webhook's next success makes
/// again. Everything else (a failure or a retry, durable commits) is one transaction.
enum Completion {
    struct HealthChange: Sendable {
        var webhook: String
        var from: WebhookHealth
        var to: WebhookHealth
    }

    struct Result: Sendable {
        var states: [DeliveryState?] = []
        var changes: [HealthChange] = []
    }

    static func run(
        _ outcomes: [DeliveryOutcome], now: Int64, policy: HealthPolicy?, durable: Bool, in session: Session
    ) async throws -> Result {
        guard !outcomes.isEmpty else { return Result() }
        if !durable, outcomes.allSatisfy({ $0.next == .delivered }) {
            var (result, health) = try await session.retrying { try await record(outcomes, now: now, in: session) }
            let counted = recorded(outcomes, in: result)
            if let policy, changes(counted, health, now: now, policy: policy) {
                result.changes = try await session.transaction(durable: false) { session in
                    try await recordHealth(after: counted, read: nil, now: now, policy: policy, in: session)
                }
            }
            return result
        }
        return try await session.transaction(durable: durable) { session in
            var (result, health) = try await record(outcomes, now: now, in: session)
            if let policy {
                result.changes = try await recordHealth(after: recorded(outcomes, in: result), read: health, now: now, policy: policy, in: session)
            }
            return result
        }
    }

    /// The outcomes whose delivery was updated (the claim was current), less the interrupted
    /// attempts: those that count towards health.
    private static func recorded(_ outcomes: [DeliveryOutcome], in result: Result) -> [DeliveryOutcome] {
        outcomes.indices.filter { result.states[$0] != nil && !outcomes[$0].interrupted }.map { outcomes[$0] }
    }

    /// Whether `outcomes` change the health of any webhook, from `health`.
    private static func changes(_ outcomes: [DeliveryOutcome], _ health: [String: Health], now: Int64, policy: HealthPolicy) -> Bool {
        !apply(outcomes, to: health, now: now, policy: policy).touched.isEmpty
    }

    /// The attempts and the deliveries' updates (``Record``); each delivery's state, and its
    /// webhook's health as it was.
    private static func record(_ outcomes: [DeliveryOutcome], now: Int64, in session: Session) async throws -> (Result, [String: Health]) {
        try decode(await session.rows(Record(outcomes, now: now)), count: outcomes.count)
    }

    /// ``Record``'s rows, or ``RoundStatement``'s of its first kind (their columns from
    /// `offset`): each outcome's delivery state (nil where the claim was not current), and the
    /// webhooks' health as it was.
    static func decode(_ rows: [PostgresRow], count: Int, offset: Int = 0) throws -> (Result, [String: Health]) {
        var result = Result(states: Array(repeating: nil, count: count))
        var health: [String: Health] = [:]
        for row in rows {
            let c = row.makeRandomAccess()
            func column<T: PostgresDecodable>(_ n: Int, _: T.Type = T.self) throws -> T { try c[offset + n].decode(T.self) }
            let target: String = try column(3)
            result.states[Int(try column(0, Int64.self)) - 1] = DeliveryState(
                id: try column(1), messageID: try column(2), target: target,
                status: DeliveryStatus(rawValue: try column(4)) ?? .pending, attempts: Int(try column(5, Int64.self)),
                lastHTTPStatus: try column(6, Int64?.self).map(Int.init), lastError: try column(7),
                lastLatencyMilliseconds: try column(8, Int64?.self).map(Int.init), nextAttemptAt: try column(9),
                ref: try column(13))
            if let state = try column(10, String?.self), let failures = try column(11, Int64?.self) {
                health[target] = (WebhookHealth(rawValue: state) ?? .healthy, Int(failures), try column(12))
            }
        }
        return (result, health)
    }

    /// The common round in one statement (``RoundStatement``): outcomes that all succeeded,
    /// recorded without waiting for the disk, and a claim under a quota; the health follows as
    /// in ``run(_:now:policy:durable:in:)``. Nil for any other round.
    static func runWithClaim(
        _ outcomes: [DeliveryOutcome], claim: ClaimRequest, now: Int64, policy: HealthPolicy?, durable: Bool, in session: Session
    ) async throws -> (Result, [ClaimedDelivery])? {
        guard !durable, !outcomes.isEmpty, outcomes.allSatisfy({ $0.next == .delivered }) else { return nil }
        let record = Record(outcomes, now: now)
        let rows: [PostgresRow]
        if let granted = claim.granted {
            rows = try await session.retrying { try await session.rows(GrantedRoundStatement(record: record, claim: granted)) }
        } else if let turns = claim.turns {
            rows = try await session.retrying { try await session.rows(RoundStatement(record: record, claim: turns)) }
        } else {
            return nil
        }
        let kinds = try rows.map { try $0.makeRandomAccess()[0].decode(Int32.self) }
        var (result, health) = try decode(rows.indices.filter { kinds[$0] == 0 }.map { rows[$0] }, count: outcomes.count, offset: 1)
        let claimed = try rows.indices.filter { kinds[$0] == 1 }.map { try RoundStatement.claimed(rows[$0]) }
        let counted = recorded(outcomes, in: result)
        if let policy, changes(counted, health, now: now, policy: policy) {
            result.changes = try await session.transaction(durable: false) { session in
                try await recordHealth(after: counted, read: nil, now: now, policy: policy, in: session)
            }
        }
        return (result, claimed)
    }

    /// The attempts logged and the deliveries updated, fenced on their claim, with each
    /// delivery's webhook's health as it was (read without a lock: ``recordHealth``).
    /// $1…$11 the outcomes' columns, $12 now, $13 their refs (-1: none).
    struct Record: BindingsPart {
        static let sql = "WITH " + ctes + "\n" + """
            SELECT c.turn, c.id, m.webhook_id, c.endpoint, c.status, c.attempts, c.last_http_status, c.last_error,
                c.last_latency_ms, c.next_attempt_at, w.state, w.consecutive_failures, w.failing_since, c.ref
            FROM changed c JOIN messages m ON m.id = c.message_id LEFT JOIN webhooks w ON w.id = c.endpoint
            """
        /// The outcomes `o`, those not in the log yet `fresh`, the attempts `logged` and the
        /// deliveries `changed`, for ``sql`` and ``RoundStatement``. An outcome written again (a
        /// round whose completion committed and whose claim or health then failed is retried
        /// whole, and so is one whose commit's answer was lost in an outage) is in the log by its
        /// claim (each claim of a delivery has its own token and one outcome): it neither logs its
        /// attempt twice nor counts twice towards the delivery's attempts and its webhook's health.
        static let ctes = """
            o AS (
                SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::boolean[],
                    $8::bigint[], $9::bigint[], $10::bigint[], $11::bytea[], $13::bigint[])
                    WITH ORDINALITY AS o(id, claim, status, next, http, error, has_error, latency, counted, started, body, ref, turn)),
            fresh AS (
                SELECT * FROM o WHERE NOT EXISTS (SELECT 1 FROM attempts a WHERE a.delivery_id = o.id AND a.claim = o.claim)),
            logged AS (
                INSERT INTO attempts (delivery_id, started_at, http_status, latency_ms, error, response_body, claim)
                SELECT o.id, o.started, nullif(o.http, -1), o.latency, CASE WHEN o.has_error THEN o.error END, o.body, o.claim
                FROM fresh o WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = o.id) ORDER BY o.turn),
            changed AS (
                UPDATE deliveries d SET status = o.status, attempts = d.attempts + o.counted, next_attempt_at = o.next,
                    lease_until = NULL, lease_owner = NULL, last_http_status = nullif(o.http, -1),
                    last_error = CASE WHEN o.has_error THEN o.error END, last_latency_ms = o.latency, updated_at = $12,
                    ref = nullif(o.ref, -1)
                FROM fresh o WHERE d.id = o.id AND d.claim = o.claim
                RETURNING o.turn, d.id, d.message_id, d.endpoint, d.status, d.attempts, d.last_http_status, d.last_error,
                    d.last_latency_ms, d.next_attempt_at, d.ref)
            """
        var ids, claims: [Int64]
        var statuses: [String]
        var next, http: [Int64]
        var errors: [String]
        var hasError: [Bool]
        var latency, counted, started: [Int64]
        var bodies: [ByteBuffer]
        var now: Int64
        var refs: [Int64]
        func bind(_ bindings: inout PostgresBindings) throws {
            try bindings.append(all: ids, claims, statuses, next, http, errors, hasError, latency, counted, started, bodies, now, refs)
        }

        init(_ outcomes: [DeliveryOutcome], now: Int64) {
            ids = []; claims = []; statuses = []; next = []; http = []; errors = []; hasError = []
            latency = []; counted = []; started = []; bodies = []; refs = []
            self.now = now
            for outcome in outcomes {
                let (status, at, ref) = outcome.next.stored(now: now)
                refs.append(ref ?? -1)
                ids.append(outcome.delivery.id)
                claims.append(outcome.delivery.claim)
                statuses.append(status.rawValue)
                next.append(at)
                // Arrays carry no NULLs here: -1 and a flag stand for them.
                http.append(Int64(outcome.attempt.httpStatus ?? -1))
                errors.append(outcome.attempt.error ?? "")
                hasError.append(outcome.attempt.error != nil)
                latency.append(Int64(outcome.attempt.latencyMilliseconds))
                counted.append(outcome.counted ? 1 : 0)
                started.append(outcome.attempt.startedAt)
                bodies.append(ByteBuffer(bytes: outcome.attempt.responseBody))
            }
        }
    }

    typealias Health = (state: WebhookHealth, failures: Int, since: Int64?)

    /// Each outcome's effect on its webhook's health, in order (as ``SQLiteSpool`` records one
    /// after another). `read`: the webhooks' health read without a lock (with the outcomes), or
    /// none: when nothing would change (successes of healthy webhooks, the common round) nothing
    /// is locked or written, so instances completing for one webhook do not queue behind each
    /// other. Otherwise their rows are locked (`FOR UPDATE`, by id), read again, and written
    /// once. A webhook disabled here fails what waits for it and no worker holds.
    private static func recordHealth(
        after outcomes: [DeliveryOutcome], read: [String: Health]?, now: Int64, policy: HealthPolicy, in session: Session
    ) async throws -> [HealthChange] {
        if let read, !changes(outcomes, read, now: now, policy: policy) { return [] }
        let webhooks = Set(outcomes.map(\.delivery.target)).sorted()
        var locked: [String: Health] = [:]
        for row in try await session.rows("""
            SELECT id, state, consecutive_failures, failing_since FROM webhooks WHERE id = ANY(\(webhooks)::text[])
            ORDER BY id FOR UPDATE
            """)
        {
            let (id, state, failures, since) = try row.decode((String, String, Int64, Int64?).self)
            locked[id] = (WebhookHealth(rawValue: state) ?? .healthy, Int(failures), since)
        }
        let (health, touched, changes) = apply(outcomes, to: locked, now: now, policy: policy)
        guard !touched.isEmpty else { return [] }
        let names = touched.sorted()
        let states = names.map { health[$0]!.state.rawValue }
        let failures = names.map { Int64(health[$0]!.failures) }
        let since = names.map { health[$0]!.since ?? -1 }
        try await session.execute("""
            UPDATE webhooks w SET state = h.state, consecutive_failures = h.failures, failing_since = nullif(h.since, -1)
            FROM unnest(\(names)::text[], \(states)::text[], \(failures)::bigint[], \(since)::bigint[]) AS h(id, state, failures, since)
            WHERE w.id = h.id
            """)
        guard !changes.isEmpty else { return [] }
        try await session.execute("UPDATE meta SET value = value + \(Int64(changes.count)) WHERE key = 'health_version'")
        try await session.notify(.webhooks)
        let disabled = Set(changes.filter { $0.to == .disabled }.map(\.webhook)).sorted()
        if !disabled.isEmpty {
            // A disabled webhook gets nothing more: what waits for it fails now (re-queue after enabling).
            try await session.execute("""
                UPDATE deliveries SET status = 'failed', last_error = 'the webhook was disabled', updated_at = \(now)
                WHERE endpoint = ANY(\(disabled)::text[]) AND status = 'pending' AND (lease_until IS NULL OR lease_until <= \(now))
                """)
        }
        return changes
    }

    /// The health after `outcomes`, which webhooks it changed, and their transitions.
    static func apply(_ outcomes: [DeliveryOutcome], to health: [String: Health], now: Int64, policy: HealthPolicy)
        -> (health: [String: Health], touched: Set<String>, changes: [HealthChange])
    {
        var health = health
        var changes: [HealthChange] = []
        var touched = Set<String>()
        for outcome in outcomes {
            let webhook = outcome.delivery.target
            guard let current = health[webhook] else { continue }
            let succeeded = outcome.next == .delivered
            // A disabled webhook is only re-enabled by an operator, not by a late success.
            if current.state == .disabled, succeeded { continue }
            let next = policy.next(
                current.state, failures: current.failures, failingSince: current.since, succeeded: succeeded,
                gone: outcome.attempt.httpStatus == 410, now: now)
            guard next.state != current.state || next.failures != current.failures || next.failingSince != current.since else { continue }
            health[webhook] = (next.state, next.failures, next.failingSince)
            touched.insert(webhook)
            if next.state != current.state { changes.append(HealthChange(webhook: webhook, from: current.state, to: next.state)) }
        }
        return (health, touched, changes)
    }
}