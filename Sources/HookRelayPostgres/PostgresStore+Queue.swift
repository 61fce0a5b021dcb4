import Foundation
import HookRelayCore
import HookRelayStore
import NIOCore
import PostgresNIO

/// What `serve`'s queue adds (``WebhookQueue``): ingest, an operator's single attempts and
/// re-queues, recovery, and the claims of processes that stopped.
extension PostgresStore {
    /// Stores the events of several batches and their deliveries in one transaction (group
    /// commit), in one statement: the messages with `ON CONFLICT DO NOTHING` (a repeated id is a
    /// duplicate, whichever instance stored it first), the deliveries of the new ones (`skipped`
    /// for a disabled webhook, none for one being deleted). Returns, per batch and event, whether
    /// it was a duplicate.
    public func ingest(_ batches: [IngestBatch], now: Int64) throws -> [[Bool]] {
        // `traceparents`: "" for none (NULL in the table).
        var ids: [String] = [], bodies: [ByteBuffer] = [], traceparents: [String] = [], seen = Set<String>()
        var targetIDs: [String] = [], targets: [String] = [], statuses: [String] = []
        var repeated: [[Bool]] = []
        for batch in batches {
            var flags: [Bool] = []
            batch.forEach { id, body, eventTargets in
                guard seen.insert(id).inserted else {
                    flags.append(true)
                    return
                }
                flags.append(false)
                ids.append(id)
                bodies.append(ByteBuffer(bytes: body))
                traceparents.append(batch.traceparent ?? "")
                for target in eventTargets {
                    targetIDs.append(id)
                    targets.append(batch.webhooks[Int(target >> 1)])
                    statuses.append(target & 1 == 1 ? DeliveryStatus.skipped.rawValue : DeliveryStatus.pending.rawValue)
                }
            }
            repeated.append(flags)
        }
        guard !ids.isEmpty else { return repeated }
        let endpoints = Array(Set(targets))
        let due = statuses.contains(DeliveryStatus.pending.rawValue)
        let stored = try transaction("storing events") { [ids, bodies, traceparents, targetIDs, targets, statuses] session in
            let stored = Set(try await session.texts("""
                WITH new AS (
                    INSERT INTO messages (webhook_id, body, created_at, traceparent)
                    SELECT i.webhook_id, i.body, \(now), NULLIF(i.traceparent, '')
                    FROM unnest(\(ids)::text[], \(bodies)::bytea[], \(traceparents)::text[]) WITH ORDINALITY AS i(webhook_id, body, traceparent, n)
                    ORDER BY i.n
                    ON CONFLICT (webhook_id) DO NOTHING RETURNING id, webhook_id),
                added AS (
                    INSERT INTO deliveries (message_id, endpoint, status, next_attempt_at, updated_at)
                    SELECT new.id, t.endpoint, t.status, \(now), \(now)
                    FROM unnest(\(targetIDs)::text[], \(targets)::text[], \(statuses)::text[]) WITH ORDINALITY AS t(webhook_id, endpoint, status, n)
                    JOIN new USING (webhook_id)
                    WHERE t.endpoint NOT IN (SELECT endpoint FROM discarding)
                    ORDER BY new.id, t.n),
                turns AS (
                    -- The claims under a quota lock an endpoint's claim_turns row: every endpoint has one.
                    INSERT INTO claim_turns (endpoint) SELECT n.endpoint FROM unnest(\(endpoints)::text[]) AS n(endpoint)
                    WHERE NOT EXISTS (SELECT 1 FROM claim_turns c WHERE c.endpoint = n.endpoint) ON CONFLICT DO NOTHING)
                SELECT webhook_id FROM new
                """))
            if due, !stored.isEmpty { try await session.notify(.deliveries) }
            return stored
        }
        var first = Set<String>()
        return zip(batches, repeated).map { batch, flags in
            zip(batch.ids, flags).map { id, repeatedHere in
                repeatedHere || !stored.contains(id) || !first.insert(id).inserted
            }
        }
    }

    public func claimDelivery(id: Int64, now: Int64, lease: Int64) throws -> ManualClaim {
        try transaction("claiming a delivery") { [owner] session in
            guard let row = try await session.rows("SELECT status, lease_until FROM deliveries WHERE id = \(id) FOR UPDATE").first else {
                return .notFound
            }
            let (status, leaseUntil) = try row.decode((String, Int64?).self)
            guard (leaseUntil ?? 0) <= now else { return .busy }
            guard let claimed = try await Self.claimByID(id, leaseUntil: now + lease, owner: owner, in: session) else { return .notFound }
            return .claimed(claimed, was: DeliveryStatus(rawValue: status) ?? .pending)
        }
    }

    public func appendClaimed(_ messageID: String, body: [UInt8], endpoint: String, now: Int64, lease: Int64) throws -> ClaimedDelivery {
        let location = location
        let buffer = ByteBuffer(bytes: body)
        return try transaction("storing a test event") { [owner] session in
            let id = try await session.optionalInt("""
                WITH message AS (
                    INSERT INTO messages (webhook_id, body, created_at) VALUES (\(messageID), \(buffer), \(now)) RETURNING id)
                INSERT INTO deliveries (message_id, endpoint, status, next_attempt_at, updated_at)
                SELECT id, \(endpoint), 'pending', \(now), \(now) FROM message RETURNING id
                """)
            try await session.execute("INSERT INTO claim_turns (endpoint) VALUES (\(endpoint)) ON CONFLICT DO NOTHING")
            guard let id, let claimed = try await Self.claimByID(id, leaseUntil: now + lease, owner: owner, in: session) else {
                throw PostgresStoreError(message: "the test delivery vanished", location: location)
            }
            return claimed
        }
    }

    /// Leases one delivery, whatever its state, with its message.
    static func claimByID(_ id: Int64, leaseUntil: Int64, owner: String, in session: Session) async throws -> ClaimedDelivery? {
        guard let row = try await session.rows("""
            WITH claimed AS (
                UPDATE deliveries SET claim = nextval('claim_tokens'), lease_until = \(leaseUntil), lease_owner = \(owner)
                WHERE id = \(id) RETURNING id, claim, message_id, endpoint, attempts)
            SELECT c.id, c.claim, m.webhook_id, m.body, c.endpoint, c.attempts, m.created_at, m.traceparent
            FROM claimed c JOIN messages m ON m.id = c.message_id
            """).first else { return nil }
        let (claimedID, claim, messageID, body, target, attempts, createdAt, traceparent) = try row.decode(
            (Int64, Int64, String, ByteBuffer, String, Int64, Int64, String?).self)
        return ClaimedDelivery(
            id: claimedID, claim: claim, messageID: messageID, body: body.bytes, target: target,
            attempts: Int(attempts), createdAt: createdAt, traceparent: traceparent)
    }

    public func requeueFailed(webhook: String, now: Int64) throws -> Int {
        try transaction("re-queueing failed deliveries") { session in
            try await session.notifying(try await session.count("""
                WITH requeued AS (
                    UPDATE deliveries SET status = 'pending', next_attempt_at = \(now), attempts = 0, updated_at = \(now)
                    WHERE endpoint = \(webhook) AND status = 'failed' RETURNING 1)
                SELECT count(*) FROM requeued
                """))
        }
    }

    /// One transaction of a recovery, as ``SQLiteSpool/recoverBatch(webhook:since:now:progress:)``
    /// does it: re-queues the webhook's deliveries of events stored at or after `since` among its
    /// next ``bulkBatch`` in the status under way; one re-queued by an earlier batch is left alone.
    public func recoverBatch(webhook: String, since: Int64, now: Int64, progress: RecoverProgress) throws -> RecoverProgress {
        guard let status = progress.statuses.first?.rawValue else { return progress }
        let limit = Int64(bulkBatch), after = progress.after
        let (upTo, visited, requeued) = try transaction("recovering deliveries") { session in
            let row = try await session.rows("""
                SELECT max(id), count(*) FROM (
                    SELECT id FROM deliveries WHERE endpoint = \(webhook) AND status = \(status) AND id > \(after)
                    ORDER BY id LIMIT \(limit)) page
                """).first
            guard let (upTo, visited) = try row?.decode((Int64?, Int64).self), let upTo else { return (Int64?.none, Int64(0), 0) }
            let requeued = try await session.notifying(try await session.count("""
                WITH requeued AS (
                    UPDATE deliveries SET status = 'pending', next_attempt_at = \(now), attempts = 0, updated_at = \(now)
                    WHERE endpoint = \(webhook) AND status = \(status) AND id > \(after) AND id <= \(upTo) AND updated_at < \(now)
                        AND (SELECT created_at FROM messages WHERE messages.id = message_id) >= \(since)
                    RETURNING 1)
                SELECT count(*) FROM requeued
                """))
            return (upTo, visited, requeued)
        }
        var progress = progress
        progress.requeued += requeued
        if let upTo, visited >= limit {
            progress.after = upTo
        } else {
            progress.statuses.removeFirst()
            progress.after = 0
        }
        return progress
    }

    /// Releases the claims and slot grants of this host's processes that no longer run, and finishes the
    /// discarding of deleted webhooks' deliveries that a stop interrupted. Claims of other hosts'
    /// processes are left to their leases. Returns how many deliveries were released.
    @discardableResult
    public func recoverOrphans(now: Int64) throws -> Int {
        try finishInterruptedDiscards()
        let host = owner[owner.firstIndex(of: "@")!...]
        let owners = try run("reading the claims' owners") { session in
            try await session.texts("""
                SELECT DISTINCT lease_owner FROM deliveries WHERE lease_owner IS NOT NULL AND lease_until > \(now)
                """)
        }
        func isDead(_ owner: String) -> Bool {
            guard owner != self.owner, owner.hasPrefix("pid:"), owner.hasSuffix(host),
                  let pid = Int32(owner.dropFirst(4).dropLast(host.count)) else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }
        try releaseGrants(ofDeadOwners: isDead)
        let dead = owners.filter(isDead)
        guard !dead.isEmpty else { return 0 }
        return try transaction("releasing the claims of stopped processes") { session in
            try await session.notifying(try await session.count("""
                WITH released AS (
                    UPDATE deliveries SET lease_until = NULL, lease_owner = NULL
                    WHERE lease_owner = ANY(\(dead)::text[]) AND status = 'pending' RETURNING 1)
                SELECT count(*) FROM released
                """))
        }
    }

    /// Deletes a webhook, in one short transaction, and marks its pending deliveries for
    /// discarding: never claimed nor added to from then on. False when there is no such webhook.
    public func beginDeletingWebhook(id: String) throws -> Bool {
        try transaction("deleting a webhook") { session in
            guard try await session.count("WITH gone AS (DELETE FROM webhooks WHERE id = \(id) RETURNING 1) SELECT count(*) FROM gone") == 1 else {
                return false
            }
            try await Self.webhooksChanged(in: session)
            try await session.execute("INSERT INTO discarding (endpoint) VALUES (\(id)) ON CONFLICT DO NOTHING")
            // Its de-duplication ledger goes with it: a webhook made again starts afresh.
            try await session.execute("DELETE FROM dedupe_ledger WHERE endpoint = \(id)")
            try await session.execute("DELETE FROM tickets WHERE endpoint = \(id)")
            return true
        }
    }

    /// Deletes up to ``bulkBatch`` pending deliveries of a webhook marked for discarding; when
    /// fewer were left, the mark goes too and `done` is true.
    public func discardPending(of webhook: String) throws -> (discarded: Int, done: Bool) {
        let limit = Int64(bulkBatch)
        return try transaction("discarding a deleted webhook's deliveries") { session in
            let discarded = try await session.count("""
                WITH gone AS (
                    DELETE FROM deliveries WHERE id IN (
                        SELECT id FROM deliveries WHERE endpoint = \(webhook) AND status = 'pending' LIMIT \(limit))
                    RETURNING 1)
                SELECT count(*) FROM gone
                """)
            guard discarded < limit else { return (discarded, false) }
            try await session.execute("DELETE FROM discarding WHERE endpoint = \(webhook)")
            return (discarded, true)
        }
    }

    /// Finishes the discarding a stop interrupted. Returns how many deliveries were discarded.
    @discardableResult
    public func finishInterruptedDiscards() throws -> Int {
        var discarded = 0
        for webhook in try run("reading deleted webhooks", { session in try await session.texts("SELECT endpoint FROM discarding ORDER BY endpoint") }) {
            while true {
                let batch = try discardPending(of: webhook)
                discarded += batch.discarded
                if batch.done { break }
            }
        }
        return discarded
    }
}

