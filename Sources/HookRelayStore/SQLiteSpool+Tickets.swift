import Foundation

/// The ticket ledger (``TicketLedger``) in the `tickets` table (schema 17): one row per webhook
/// and finding, holding the ticket once created, or the delivery creating it.
extension SQLiteSpool {
    public func ticketStep(webhook: String, fingerprint: String, delivery: Int64, now: Int64) throws -> TicketStep {
        try connection.write {
            let row = try connection.statement("SELECT ticket, creator, closing FROM tickets WHERE endpoint = ?1 AND fingerprint = ?2")
                .bind(1, webhook).bind(2, fingerprint)
            guard try row.step() else {
                try row.run()
                try connection.statement("""
                    INSERT INTO tickets (endpoint, fingerprint, creator, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
                    """).bind(1, webhook).bind(2, fingerprint).bind(3, delivery).bind(4, now).run()
                return .create
            }
            let (ticket, creator, closing) = (row.text(0), row.optionalInt(1), row.optionalInt(2))
            try row.run()
            if let ticket { return .existing(ticket: ticket, closeCommented: closing == delivery) }
            if let creator, creator != delivery {
                // In flight: look again shortly; waiting for its retry: just after it.
                let other = try connection.statement("""
                    SELECT CASE WHEN lease_until > ?2 THEN ?2 ELSE max(next_attempt_at, ?2) END
                    FROM deliveries WHERE id = ?1 AND status = 'pending'
                    """).bind(1, creator).bind(2, now)
                if try other.step() {
                    let due = other.int(0)
                    try other.run()
                    return .wait(until: due + TicketTiming.waitMargin, creator: creator)
                }
                try other.run()
            }
            try connection.statement("UPDATE tickets SET creator = ?3, updated_at = ?4 WHERE endpoint = ?1 AND fingerprint = ?2")
                .bind(1, webhook).bind(2, fingerprint).bind(3, delivery).bind(4, now).run()
            return .create
        }
    }

    public func ticketCreated(webhook: String, fingerprint: String, delivery: Int64, ticket: String?, now: Int64) throws {
        try connection.write {
            guard let ticket else {
                try connection.statement("DELETE FROM tickets WHERE endpoint = ?1 AND fingerprint = ?2").bind(1, webhook).bind(2, fingerprint).run()
                return
            }
            try connection.statement("""
                INSERT INTO tickets (endpoint, fingerprint, ticket, creator, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                ON CONFLICT (endpoint, fingerprint) DO UPDATE SET ticket = ?3, creator = ?4, closing = NULL, updated_at = ?5
                """).bind(1, webhook).bind(2, fingerprint).bind(3, ticket).bind(4, delivery).bind(5, now).run()
            try note(delivery: delivery, TicketNote(ticket: ticket, action: .created))
        }
    }

    public func ticketCloseCommented(webhook: String, fingerprint: String, delivery: Int64, now: Int64) throws {
        try connection.write {
            try connection.statement("UPDATE tickets SET closing = ?3, updated_at = ?4 WHERE endpoint = ?1 AND fingerprint = ?2")
                .bind(1, webhook).bind(2, fingerprint).bind(3, delivery).bind(4, now).run()
        }
    }

    public func forgetTicket(webhook: String, fingerprint: String) throws {
        try connection.write {
            try connection.statement("DELETE FROM tickets WHERE endpoint = ?1 AND fingerprint = ?2").bind(1, webhook).bind(2, fingerprint).run()
        }
    }

    public func noteTicket(delivery: Int64, _ note: TicketNote) throws {
        try connection.write { try self.note(delivery: delivery, note) }
    }

    private func note(delivery: Int64, _ note: TicketNote) throws {
        try connection.statement("UPDATE deliveries SET ticket = ?2, ticket_action = ?3 WHERE id = ?1")
            .bind(1, delivery).bind(2, note.ticket).bind(3, note.action.rawValue).run()
    }

    public func ticket(webhook: String, fingerprint: String) throws -> String? {
        let row = try connection.statement("SELECT ticket FROM tickets WHERE endpoint = ?1 AND fingerprint = ?2")
            .bind(1, webhook).bind(2, fingerprint)
        defer { try? row.run() }
        return try row.step() ? row.text(0) : nil
    }
}

/// Timing of the ticket steps.
public enum TicketTiming {
    /// A delivery waiting for the one creating its finding's ticket tries again this long
    /// after that one is due, or from now while that one is in flight.
    public static let waitMargin: Int64 = 1000
}
