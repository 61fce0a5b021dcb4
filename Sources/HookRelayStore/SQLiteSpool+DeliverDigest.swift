import Foundation

/// `deliver --digest --spool`'s open digest (issue 19): the run gathers the digest in memory and
/// keeps its rendered message in the spool as it grows, so a run that ends abruptly inside the
/// window leaves the digest to the next run or `--drain`, which send it once its time comes.
extension SQLiteSpool {
    /// Stores the digest `messageID` with `body` for each of `targets`, due at `due`, or rewrites
    /// the stored one's body and due time. Returns false, changing nothing, when a sender already
    /// claimed it (its due time came first): what was gathered since goes into another digest.
    public func keepOpenDigest(messageID: String, body: [UInt8], targets: [String], due: Int64, now: Int64) throws -> Bool {
        try connection.write {
            let stored = try connection.statement("SELECT id FROM messages WHERE webhook_id = ?1").bind(1, messageID)
            if try stored.step() {
                let message = stored.int(0)
                try stored.run()
                let taken = try connection.statement("""
                    SELECT 1 FROM deliveries WHERE message_id = ?1 AND (status <> 'pending' OR claim <> 0) LIMIT 1
                    """).bind(1, message)
                defer { try? taken.run() }
                if try taken.step() { return false }
                try connection.statement("UPDATE messages SET body = ?1 WHERE id = ?2").bind(1, blob: body).bind(2, message).run()
            } else {
                try stored.run()
                _ = try insert([IngestBatch([NewMessage(messageID: messageID, body: body, targets: targets)])], now: now, stored: .addTargets)
            }
            try connection.statement("""
                UPDATE deliveries SET next_attempt_at = ?1, updated_at = ?2 WHERE message_id = (SELECT id FROM messages WHERE webhook_id = ?3)
                """).bind(1, due).bind(2, now).bind(3, messageID).run()
            return true
        }
    }
}
