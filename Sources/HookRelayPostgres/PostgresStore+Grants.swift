import HookRelayStore
import PostgresNIO

/// Slot grants (``SlotGrants``): each instance's share of a webhook's limit on attempts in
/// flight, a row of `claim_grants` per webhook and instance (`holder`: this store's own name, so
/// that two dispatchers of one process do not share a grant).
///
/// A renewal is one transaction: it locks the `claim_turns` rows (`FOR UPDATE`, in endpoint
/// order) of the endpoints it decides for: those with a due delivery no lease holds (a loose
/// scan of the pending endpoints), those this instance holds claims or a grant for. Then, in a
/// statement of its own (READ COMMITTED: a snapshot taken once the locks are held, so it sees
/// every grant committed before), it reads the other instances' unexpired grants, works out its
/// own (``SlotShare``) and writes them: grants of one endpoint never sum past the limit, since
/// each is written under the endpoint's lock from all the others. A grant of no slots is a
/// request: it counts the instance among those the limit is shared by, and the instances holding
/// more than their share shrink to it at their next renewal, as their attempts end. Expired rows
/// are removed as they are met. The commit is durable (whatever the store's setting): a grant
/// forgotten in a crash of the server could be given to another instance while attempts run on
/// it. A lock held for more than a second is not waited for (``renewGrants`` returns nil).
extension PostgresStore: SlotGrants {
    public func renewGrants(
        limit: Int, inFlight: [String: Int], holding: Set<String>, excluded: Set<String>, asking: Bool, now: Int64, lease: Int64
    ) throws -> [String: Int]? {
        let holder = grantHolder
        let busy = Array(holding.union(inFlight.keys))
        do {
            return try run("renewing slot grants") { session in
                try await session.transaction(durable: true) { session in
                    try await Self.renew(
                        limit: limit, inFlight: inFlight, holding: holding, busy: busy, excluded: excluded, asking: asking,
                        now: now, until: now + lease, holder: holder, in: session)
                }
            }
        } catch let error as PostgresStoreError where error.sqlState == "55P03" {
            // Another transaction held an endpoint's lock for a second: the grants stand, renewed next round.
            return nil
        }
    }

    private static func renew(
        limit: Int, inFlight: [String: Int], holding: Set<String>, busy: [String], excluded: Set<String>, asking: Bool,
        now: Int64, until: Int64, holder: String, in session: Session
    ) async throws -> [String: Int] {
        // A lock held long (a bulk change, a ruled claim waiting on its rows) is not waited for.
        try await session.execute("SET LOCAL lock_timeout = '1s'")
        let excludedList = Array(excluded)
        var wanted: [String: Bool] = [:]
        for row in try await session.rows("""
            WITH RECURSIVE e(endpoint) AS (
                SELECT min(endpoint) FROM deliveries WHERE status = 'pending'
                UNION ALL
                SELECT (SELECT min(endpoint) FROM deliveries WHERE status = 'pending' AND endpoint > e.endpoint)
                FROM e WHERE e.endpoint IS NOT NULL AND \(asking)),
            due AS (
                SELECT e.endpoint FROM e WHERE e.endpoint IS NOT NULL AND e.endpoint <> ALL(\(excludedList)::text[])
                    AND e.endpoint NOT IN (SELECT endpoint FROM discarding) AND e.endpoint NOT IN (SELECT id FROM webhooks WHERE paused)
                    AND (SELECT true FROM deliveries d WHERE d.endpoint = e.endpoint AND d.status = 'pending'
                        AND d.next_attempt_at <= \(now) AND (d.lease_until IS NULL OR d.lease_until <= \(now))
                        ORDER BY d.next_attempt_at, d.id LIMIT 1))
            SELECT c.endpoint, c.endpoint IN (SELECT endpoint FROM due) FROM claim_turns c
            WHERE c.endpoint IN (SELECT endpoint FROM due) OR c.endpoint = ANY(\(busy)::text[])
                OR c.endpoint IN (SELECT endpoint FROM claim_grants WHERE holder = \(holder))
            ORDER BY c.endpoint FOR UPDATE OF c
            """)
        {
            let (endpoint, due) = try row.decode((String, Bool).self)
            wanted[endpoint] = asking && (due || holding.contains(endpoint)) && !excluded.contains(endpoint)
        }
        let locked = Array(wanted.keys)
        var others: [String: [Int]] = [:]
        for row in try await session.rows("""
            SELECT g.endpoint, g.slots FROM claim_grants g JOIN unnest(\(locked)::text[]) AS l(endpoint) ON l.endpoint = g.endpoint
            WHERE g.holder <> \(holder) AND g.until > \(now)
            """)
        {
            let (endpoint, slots) = try row.decode((String, Int32).self)
            others[endpoint, default: []].append(Int(slots))
        }
        var endpoints: [String] = [], slots: [Int32] = [], usable: [String: Int] = [:]
        for (endpoint, wanting) in wanted {
            let share = SlotShare.slots(limit: limit, inFlight: inFlight[endpoint, default: 0], wanting: wanting, others: others[endpoint] ?? [])
            guard wanting || share.grant > 0 else { continue }
            usable[endpoint] = share.usable
            endpoints.append(endpoint)
            slots.append(Int32(share.grant))
        }
        // Expired grants count for nobody: removed wherever they are (a holder renewing one
        // meanwhile writes it again under its lock). And this holder's that it no longer wants.
        try await session.execute("""
            DELETE FROM claim_grants
            WHERE (until <= \(now) AND holder <> \(holder))
                OR (holder = \(holder) AND endpoint NOT IN (SELECT unnest(\(endpoints)::text[])))
            """)
        if !endpoints.isEmpty {
            try await session.execute("""
                INSERT INTO claim_grants (endpoint, holder, slots, until)
                SELECT g.endpoint, \(holder), g.slots, \(until) FROM unnest(\(endpoints)::text[], \(slots)::int[]) AS g(endpoint, slots)
                ON CONFLICT (endpoint, holder) DO UPDATE SET slots = excluded.slots, until = excluded.until
                """)
        }
        return usable
    }

    public func releaseGrants() throws {
        let holder = grantHolder
        try run("giving back slot grants") { session in
            try await session.execute("DELETE FROM claim_grants WHERE holder = \(holder)")
        }
    }

    /// The grants of this host's processes that no longer run (``recoverOrphans(now:)``): their
    /// attempts ended with them, and a restarted instance should not wait for their lease.
    func releaseGrants(ofDeadOwners dead: (String) -> Bool) throws {
        let holders = try run("reading the slot grants' holders") { session in
            try await session.texts("SELECT DISTINCT holder FROM claim_grants")
        }
        let gone = holders.filter { holder in dead(String(holder.prefix { $0 != "/" })) }
        guard !gone.isEmpty else { return }
        try run("giving back the slot grants of stopped processes") { session in
            try await session.execute("DELETE FROM claim_grants WHERE holder = ANY(\(gone)::text[])")
        }
    }
}

extension ClaimRequest {
    /// Under slot grants: each granted endpoint's oldest due deliveries that no lease holds, up
    /// to what it may claim, endpoints in the order given. No lease is counted: the grants hold
    /// the limit (``SlotGrants``). $1 limit, $2 now, $3 lease until, $4 owner, $5/$6 the
    /// endpoints and how many each may claim, $7 the endpoints held back (paused).
    struct Granted: BindingsPart {
        static let sql = "WITH " + ctes(base: 0, completing: false) + "\n" + claimedRows

        /// As ``Turns/ctes(base:completing:)``.
        static func ctes(base: Int, completing: Bool) -> String {
            func p(_ n: Int) -> String { "$\(base + n)" }
            return """
            g AS (
                SELECT g.endpoint, g.room, g.turn FROM unnest(\(p(5))::text[], \(p(6))::bigint[]) WITH ORDINALITY AS g(endpoint, room, turn)
                WHERE g.endpoint <> ALL(\(p(7))::text[]) AND g.endpoint NOT IN (SELECT endpoint FROM discarding)
                    AND g.endpoint NOT IN (SELECT id FROM webhooks WHERE paused)),
            picked AS (
                SELECT d.id, g.turn FROM g CROSS JOIN LATERAL (
                    SELECT id FROM deliveries
                    WHERE endpoint = g.endpoint AND status = 'pending' AND next_attempt_at <= \(p(2))
                        AND (lease_until IS NULL OR lease_until <= \(p(2)))\(completing ? " AND id <> ALL($1::bigint[])" : "")
                    ORDER BY next_attempt_at, id LIMIT g.room
                    FOR UPDATE SKIP LOCKED) d
                LIMIT \(p(1))),
            claimed AS (
                UPDATE deliveries d SET claim = nextval('claim_tokens'), lease_until = \(p(3)), lease_owner = \(p(4))
                FROM picked WHERE d.id = picked.id
                RETURNING d.id, d.claim, d.message_id, d.endpoint, d.attempts, d.next_attempt_at, picked.turn)
            """
        }

        var limit, now, leaseUntil: Int64
        var owner: String
        var endpoints: [String]
        var rooms: [Int64]
        var paused: [String]
        func bind(_ bindings: inout PostgresBindings) throws {
            try bindings.append(all: limit, now, leaseUntil, owner, endpoints, rooms, paused)
        }
    }
}
