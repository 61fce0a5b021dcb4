import Foundation
import HookRelayStore
import NIOCore
import PostgresNIO

/// Digests in PostgreSQL (``DigestStore``). The folds of one webhook, from any instance, take
/// a transaction-level advisory lock on it first: two folds never both find no open digest and
/// open one each (the unique index `digests_open` would refuse the second anyway). The open
/// digest's delivery row is locked (`FOR UPDATE`) while it is added to: a claim of it waits
/// for the fold's commit, and a fold after the claim sees it claimed and opens a new digest.
extension PostgresStore {
    public func fold(delivery: Int64, webhook: String, window: Int64, now: Int64, update: @escaping DigestUpdate) throws -> DigestFold {
        let location = location
        return try transaction("folding into a digest") { session in
            try await session.execute("SELECT pg_advisory_xact_lock(hashtextextended('hookrelay digest ' || \(webhook), 0))")
            if let ref = try await session.optionalInt("""
                SELECT d.delivery_id FROM digest_members m JOIN digests d ON d.id = m.digest_id WHERE m.delivery_id = \(delivery)
                """) {
                return DigestFold(digestDelivery: ref, opened: false, repeated: true)
            }
            var digestID: Int64
            var fold: DigestFold
            if let row = try await session.rows("""
                SELECT d.id, d.delivery_id, d.window_start, d.window_end, l.claim, l.status, m.body, m.id
                FROM digests d JOIN deliveries l ON l.id = d.delivery_id JOIN messages m ON m.id = l.message_id
                WHERE d.webhook = \(webhook) AND d.open FOR UPDATE OF l
                """).first {
                let (id, ref, start, end, claim, status, body, message) = try row.decode(
                    (Int64, Int64, Int64, Int64, Int64, String, ByteBuffer, Int64).self)
                if claim == 0, status == "pending", end > now {
                    let updated = ByteBuffer(bytes: try update(Array(buffer: body), start, end))
                    try await session.execute("UPDATE messages SET body = \(updated) WHERE id = \(message)")
                    digestID = id
                    fold = DigestFold(digestDelivery: ref, opened: false, repeated: false)
                } else {
                    try await session.execute("UPDATE digests SET open = false WHERE id = \(id)")
                    (digestID, fold) = try await Self.openDigest(webhook: webhook, window: window, now: now, update: update, location: location, in: session)
                }
            } else {
                (digestID, fold) = try await Self.openDigest(webhook: webhook, window: window, now: now, update: update, location: location, in: session)
            }
            try await session.execute("INSERT INTO digest_members (delivery_id, digest_id) VALUES (\(delivery), \(digestID))")
            return fold
        }
    }

    private static func openDigest(
        webhook: String, window: Int64, now: Int64, update: DigestUpdate, location: String, in session: Session
    ) async throws -> (Int64, DigestFold) {
        let end = now + window
        let body = ByteBuffer(bytes: try update(nil, now, end))
        let messageID = newDigestMessageID()
        guard let row = try await session.rows("""
            WITH message AS (
                INSERT INTO messages (webhook_id, body, created_at) VALUES (\(messageID), \(body), \(now)) RETURNING id),
            delivery AS (
                INSERT INTO deliveries (message_id, endpoint, status, next_attempt_at, updated_at)
                SELECT id, \(webhook), 'pending', \(end), \(now) FROM message RETURNING id)
            INSERT INTO digests (webhook, delivery_id, window_start, window_end)
            SELECT \(webhook), id, \(now), \(end) FROM delivery RETURNING id, delivery_id
            """).first else {
            throw PostgresStoreError(message: "the new digest was not stored", location: location)
        }
        let (id, ref) = try row.decode((Int64, Int64).self)
        try await session.execute("INSERT INTO claim_turns (endpoint) VALUES (\(webhook)) ON CONFLICT DO NOTHING")
        // The other instances' dispatchers learn of the new due time.
        try await session.notify(.deliveries)
        return (id, DigestFold(digestDelivery: ref, opened: true, repeated: false))
    }

    public func digestBody(delivery: Int64) throws -> [UInt8]? {
        try run("reading a digest") { session in
            guard let row = try await session.rows("""
                SELECT m.body FROM digests d JOIN deliveries l ON l.id = d.delivery_id JOIN messages m ON m.id = l.message_id
                WHERE d.delivery_id = \(delivery)
                """).first else { return nil }
            return Array(buffer: try row.decode(ByteBuffer.self))
        }
    }
}
