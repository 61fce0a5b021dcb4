import HookRelayStore
import PostgresNIO

/// The ticket ledger (``TicketLedger``), migration 14's `tickets`: SQLite's, with the finding's
/// row locked for the step, so that deliveries of one finding on several instances agree on who
/// creates its ticket.
extension PostgresStore {
    public func ticketStep(webhook: String, fingerprint: String, delivery: Int64, now: Int64) throws -> TicketStep {
        try transaction("reading a finding's ticket") { session in
            let inserted = try await session.count("""
                WITH added AS (
                    INSERT INTO tickets (endpoint, fingerprint, creator, created_at, updated_at)
                    VALUES (\(webhook), \(fingerprint), \(delivery), \(now), \(now)) ON CONFLICT DO NOTHING RETURNING 1)
                SELECT count(*) FROM added
                """)
            if inserted == 1 { return .create }
            guard let row = try await session.rows("""
                SELECT ticket, creator, closing FROM tickets WHERE endpoint = \(webhook) AND fingerprint = \(fingerprint) FOR UPDATE
                """).first else { return .create }
            let (ticket, creator, closing) = try row.decode((String?, Int64?, Int64?).self)
            if let ticket { return .existing(ticket: ticket, closeCommented: closing == delivery) }
            if let creator, creator != delivery, let due = try await session.rows("""
                SELECT CASE WHEN lease_until > \(now) THEN \(now) ELSE greatest(next_attempt_at, \(now)) END
                FROM deliveries WHERE id = \(creator) AND status = 'pending'
                """).first {
                return .wait(until: try due.decode(Int64.self) + TicketTiming.waitMargin, creator: creator)
            }
            try await session.execute("""
                UPDATE tickets SET creator = \(delivery), updated_at = \(now) WHERE endpoint = \(webhook) AND fingerprint = \(fingerprint)
                """)
            return .create
        }
    }

    public func ticketCreated(webhook: String, fingerprint: String, delivery: Int64, ticket: String?, now: Int64) throws {
        try transaction("recording a ticket") { session in
            guard let ticket else {
                try await session.execute("DELETE FROM tickets WHERE endpoint = \(webhook) AND fingerprint = \(fingerprint)")
                return
            }
            try await session.execute("""
                INSERT INTO tickets (endpoint, fingerprint, ticket, creator, created_at, updated_at)
                VALUES (\(webhook), \(fingerprint), \(ticket), \(delivery), \(now), \(now))
                ON CONFLICT (endpoint, fingerprint) DO UPDATE SET ticket = excluded.ticket, creator = excluded.creator, closing = NULL,
                    updated_at = excluded.updated_at
                """)
            try await Self.note(delivery: delivery, TicketNote(ticket: ticket, action: .created), in: session)
        }
    }

    public func ticketCloseCommented(webhook: String, fingerprint: String, delivery: Int64, now: Int64) throws {
        try transaction("recording a closing comment") { session in
            try await session.execute("""
                UPDATE tickets SET closing = \(delivery), updated_at = \(now) WHERE endpoint = \(webhook) AND fingerprint = \(fingerprint)
                """)
        }
    }

    public func forgetTicket(webhook: String, fingerprint: String) throws {
        try transaction("forgetting a ticket") { session in
            try await session.execute("DELETE FROM tickets WHERE endpoint = \(webhook) AND fingerprint = \(fingerprint)")
        }
    }

    public func noteTicket(delivery: Int64, _ note: TicketNote) throws {
        try transaction("noting a delivery's ticket") { session in try await Self.note(delivery: delivery, note, in: session) }
    }

    private static func note(delivery: Int64, _ note: TicketNote, in session: Session) async throws {
        try await session.execute("UPDATE deliveries SET ticket = \(note.ticket), ticket_action = \(note.action.rawValue) WHERE id = \(delivery)")
    }

    public func ticket(webhook: String, fingerprint: String) throws -> String? {
        try run("reading a finding's ticket") { session in
            try await session.rows("SELECT ticket FROM tickets WHERE endpoint = \(webhook) AND fingerprint = \(fingerprint)")
                .first?.decode(String?.self) ?? nil
        }
    }
}
