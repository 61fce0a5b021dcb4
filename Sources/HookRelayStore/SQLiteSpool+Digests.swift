import Foundation

/// Digests in SQLite (``DigestStore``): one `BEGIN IMMEDIATE` transaction per fold, so folds
/// of every process are serialised by the write lock.
extension SQLiteSpool {
    public func fold(delivery: Int64, webhook: String, window: Int64, now: Int64, update: @escaping DigestUpdate) throws -> DigestFold {
        try connection.write {
            let member = try connection.statement("""
                SELECT d.delivery_id FROM digest_members m JOIN digests d ON d.id = m.digest_id WHERE m.delivery_id = ?1
                """).bind(1, delivery)
            if try member.step() {
                let ref = member.int(0)
                try member.run()
                return DigestFold(digestDelivery: ref, opened: false, repeated: true)
            }
            try member.run()
            let open = try connection.statement("""
                SELECT d.id, d.delivery_id, d.window_start, d.window_end, l.claim, l.status, m.body, m.id
                FROM digests d JOIN deliveries l ON l.id = d.delivery_id JOIN messages m ON m.id = l.message_id
                WHERE d.webhook = ?1 AND d.open = 1
                """).bind(1, webhook)
            var digestID: Int64
            var fold: DigestFold
            if try open.step() {
                let (id, ref, start, end) = (open.int(0), open.int(1), open.int(2), open.int(3))
                let stillOpen = open.int(4) == 0 && open.text(5) == "pending" && end > now
                let body = open.blob(6)
                let message = open.int(7)
                try open.run()
                if stillOpen {
                    try connection.statement("UPDATE messages SET body = ?1 WHERE id = ?2")
                        .bind(1, blob: try update(body, start, end)).bind(2, message).run()
                    digestID = id
                    fold = DigestFold(digestDelivery: ref, opened: false, repeated: false)
                } else {
                    try connection.statement("UPDATE digests SET open = 0 WHERE id = ?1").bind(1, id).run()
                    (digestID, fold) = try openDigest(webhook: webhook, window: window, now: now, update: update)
                }
            } else {
                try open.run()
                (digestID, fold) = try openDigest(webhook: webhook, window: window, now: now, update: update)
            }
            try connection.statement("INSERT INTO digest_members (delivery_id, digest_id) VALUES (?1, ?2)")
                .bind(1, delivery).bind(2, digestID).run()
            return fold
        }
    }

    private func openDigest(webhook: String, window: Int64, now: Int64, update: DigestUpdate) throws -> (Int64, DigestFold) {
        let end = now + window
        try connection.statement("INSERT INTO messages (webhook_id, body, created_at) VALUES (?1, ?2, ?3)")
            .bind(1, newDigestMessageID()).bind(2, blob: try update(nil, now, end)).bind(3, now).run()
        try connection.statement("""
            INSERT INTO deliveries (message_id, endpoint, status, next_attempt_at, updated_at) VALUES (?1, ?2, 'pending', ?3, ?4)
            """).bind(1, connection.lastInsertedRow).bind(2, webhook).bind(3, end).bind(4, now).run()
        let ref = connection.lastInsertedRow
        try connection.statement("INSERT INTO digests (webhook, delivery_id, window_start, window_end) VALUES (?1, ?2, ?3, ?4)")
            .bind(1, webhook).bind(2, ref).bind(3, now).bind(4, end).run()
        return (connection.lastInsertedRow, DigestFold(digestDelivery: ref, opened: true, repeated: false))
    }

    public func digestBody(delivery: Int64) throws -> [UInt8]? {
        let statement = try connection.statement("""
            SELECT m.body FROM digests d JOIN deliveries l ON l.id = d.delivery_id JOIN messages m ON m.id = l.message_id
            WHERE d.delivery_id = ?1
            """).bind(1, delivery)
        defer { try? statement.run() }
        return try statement.step() ? statement.blob(0) : nil
    }
}
