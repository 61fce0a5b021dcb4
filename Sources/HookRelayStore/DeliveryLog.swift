import Foundation

/// A delivery as the delivery log shows it.
public struct DeliveryRecord: Sendable, Equatable {
    public var state: DeliveryState
    /// When its event was stored (Unix ms).
    public var createdAt: Int64
    public var updatedAt: Int64
    /// The ticket it created, commented on or closed (a webhook with `tickets: update`).
    public var ticket: TicketNote?

    public init(state: DeliveryState, createdAt: Int64, updatedAt: Int64, ticket: TicketNote? = nil) {
        self.state = state
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.ticket = ticket
    }
}

/// One attempt as the log keeps it.
public struct AttemptEntry: Sendable, Equatable {
    public var startedAt: Int64
    public var httpStatus: Int?
    public var latencyMilliseconds: Int
    public var error: String?
    /// The first 4 KiB of the response body.
    public var responseBody: [UInt8]

    public init(startedAt: Int64, httpStatus: Int? = nil, latencyMilliseconds: Int, error: String? = nil, responseBody: [UInt8]) {
        self.startedAt = startedAt
        self.httpStatus = httpStatus
        self.latencyMilliseconds = latencyMilliseconds
        self.error = error
        self.responseBody = responseBody
    }
}

/// A delivery with its event and every attempt, oldest first.
public struct DeliveryDetail: Sendable {
    public var record: DeliveryRecord
    public var event: [UInt8]
    public var attempts: [AttemptEntry]

    public init(record: DeliveryRecord, event: [UInt8], attempts: [AttemptEntry]) {
        self.record = record
        self.event = event
        self.attempts = attempts
    }
}

/// The answer to a request to claim one delivery for an attempt made now.
public enum ManualClaim: Sendable {
    case claimed(ClaimedDelivery, was: DeliveryStatus)
    case notFound
    /// Another attempt of this delivery is in flight.
    case busy
}

extension SQLiteSpool {
    private static let recordColumns = """
        d.id, m.webhook_id, d.endpoint, d.status, d.attempts, d.last_http_status, d.last_error, d.last_latency_ms,
        d.next_attempt_at, m.created_at, d.updated_at, d.ref, d.ticket, d.ticket_action
        """

    private static func record(_ row: Statement) -> DeliveryRecord {
        DeliveryRecord(
            state: DeliveryState(
                id: row.int(0), messageID: row.text(1) ?? "", target: row.text(2) ?? "",
                status: row.text(3).flatMap(DeliveryStatus.init(rawValue:)) ?? .pending, attempts: Int(row.int(4)),
                lastHTTPStatus: row.optionalInt(5).map(Int.init), lastError: row.text(6),
                lastLatencyMilliseconds: row.optionalInt(7).map(Int.init), nextAttemptAt: row.int(8), ref: row.optionalInt(11)),
            createdAt: row.int(9), updatedAt: row.int(10), ticket: TicketNote(row.text(12), row.text(13)))
    }

    /// A page of the delivery log, newest first: deliveries to `endpoint` (every endpoint when
    /// nil) in `status` (any when nil) whose event was stored at or after `since`, with ids
    /// below `before` (the cursor: the last id of the previous page).
    public func deliveries(
        webhook endpoint: String?, status: DeliveryStatus?, since: Int64?, before: Int64?, limit: Int
    ) throws -> [DeliveryRecord] {
        // One snapshot for the statements below: a delivery finishing between two of them would
        // otherwise be listed twice, pending and delivered.
        try connection.read { try deliveriesInSnapshot(webhook: endpoint, status: status, since: since, before: before, limit: limit) }
    }

    private func deliveriesInSnapshot(
        webhook endpoint: String?, status: DeliveryStatus?, since: Int64?, before: Int64?, limit: Int
    ) throws -> [DeliveryRecord] {
        // Deliveries are numbered in the order their events were stored, so `since` becomes a
        // lower bound on the id, which the (endpoint, status) index can seek to.
        var lowest: Int64 = 0
        if let since {
            // Index seeks only: the first event stored since (events are numbered in the order
            // they were stored, at the time they were), then the first of its deliveries (stored
            // in the event's transaction, so before those of any later event). `min(id)` over a
            // range took 0.3 s at a million rows: SQLite walked the table in id order.
            let first = try connection.statement("""
                SELECT min(id) FROM deliveries WHERE message_id = (
                    SELECT message_id FROM deliveries WHERE message_id >= (
                        SELECT id FROM messages WHERE created_at >= ?1 ORDER BY created_at, id LIMIT 1)
                    ORDER BY message_id LIMIT 1)
                """)
            first.bind(1, since)
            lowest = try first.step() ? (first.optionalInt(0) ?? Int64.max) : Int64.max
            try first.run()
        }
        let statuses: [DeliveryStatus] = status.map { [$0] } ?? DeliveryStatus.allCases
        let query = try connection.statement("""
            SELECT \(Self.recordColumns) FROM deliveries d JOIN messages m ON m.id = d.message_id
            WHERE \(endpoint == nil ? "" : "d.endpoint = ?1 AND ") d.status = ?2 AND d.id >= ?3 AND d.id < ?4 AND m.created_at >= ?6
            ORDER BY d.id DESC LIMIT ?5
            """)
        var page: [DeliveryRecord] = []
        // One seek per status, merged: each is an ordered range of the index.
        for status in statuses {
            query.reset()
            query.bind(1, endpoint).bind(2, status.rawValue).bind(3, lowest).bind(4, before ?? Int64.max).bind(5, limit)
                .bind(6, since ?? 0)
            while try query.step() { page.append(Self.record(query)) }
        }
        return Array(page.sorted { $0.state.id > $1.state.id }.prefix(limit))
    }

    /// One delivery with its event and its attempts; nil when there is none.
    /// The row and its attempts are read in one snapshot: an attempt recorded meanwhile is in
    /// both or neither.
    public func delivery(id: Int64) throws -> DeliveryDetail? {
        try connection.read { try deliveryInSnapshot(id: id) }
    }

    private func deliveryInSnapshot(id: Int64) throws -> DeliveryDetail? {
        let row = try connection.statement("""
            SELECT \(Self.recordColumns), m.body FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE d.id = ?1
            """)
        row.bind(1, id)
        guard try row.step() else {
            try row.run()
            return nil
        }
        let record = Self.record(row)
        let event = row.blob(14)
        try row.run()
        let attempts = try connection.statement("""
            SELECT started_at, http_status, latency_ms, error, response_body FROM attempts WHERE delivery_id = ?1 ORDER BY id
            """)
        attempts.bind(1, id)
        var entries: [AttemptEntry] = []
        while try attempts.step() {
            entries.append(AttemptEntry(
                startedAt: attempts.int(0), httpStatus: attempts.optionalInt(1).map(Int.init),
                latencyMilliseconds: Int(attempts.int(2)), error: attempts.text(3), responseBody: attempts.blob(4)))
        }
        return DeliveryDetail(record: record, event: event, attempts: entries)
    }

    /// Claims one delivery, whatever its state, for an attempt made now (a manual retry): the
    /// dispatcher and any other manual retry leave it alone until the lease ends or the outcome
    /// is recorded with ``complete(_:now:)``.
    public func claimDelivery(id: Int64, now: Int64, lease: Int64) throws -> ManualClaim {
        try connection.write {
            let status = try connection.statement("SELECT status, lease_until FROM deliveries WHERE id = ?1")
            status.bind(1, id)
            guard try status.step() else {
                try status.run()
                return .notFound
            }
            let was = status.text(0).flatMap(DeliveryStatus.init(rawValue:)) ?? .pending
            let leased = (status.optionalInt(1) ?? 0) > now
            try status.run()
            guard !leased else { return .busy }
            let claimed = try claimed(ClaimSQL.byID, leaseUntil: now + lease) { $0.bind(":id", id) }
            return claimed.first.map { .claimed($0, was: was) } ?? .notFound
        }
    }

    /// Stores a message with one delivery to `endpoint`, already claimed for an attempt made
    /// now (a test event): it is in the delivery log like any other.
    public func appendClaimed(_ messageID: String, body: [UInt8], endpoint: String, now: Int64, lease: Int64) throws -> ClaimedDelivery {
        try connection.write {
            let inserted = try insert([IngestBatch([NewMessage(messageID: messageID, body: body, targets: [endpoint])])], now: now, stored: .duplicate)
            guard inserted.added == 1 else {
                let why = inserted.duplicates == [[true]] ? "the message id \(messageID) is already stored" : "the webhook \(endpoint) is being deleted"
                throw SQLiteError(code: 0, message: why, context: "in \(connection.path)")
            }
            // The delivery's row: the last insert (one row) was it.
            let id = connection.lastInsertedRow
            guard let claimed = try claimed(ClaimSQL.byID, leaseUntil: now + lease, bind: { $0.bind(":id", id) }).first else {
                throw SQLiteError(code: 0, message: "the test delivery vanished", context: "in \(connection.path)")
            }
            return claimed
        }
    }

    /// Puts an endpoint's failed deliveries back in the queue, due now with a fresh schedule.
    /// Returns how many.
    public func requeueFailed(webhook endpoint: String, now: Int64) throws -> Int {
        try connection.write {
            try connection.statement("""
                UPDATE deliveries SET status = 'pending', next_attempt_at = ?1, attempts = 0, updated_at = ?1
                WHERE endpoint = ?2 AND status = 'failed'
                """).bind(1, now).bind(2, endpoint).run()
            return connection.changes
        }
    }

    /// Sends again every event stored at or after `since` that went to `endpoint`, whatever
    /// became of it (delivered, failed or skipped; pending ones wait already): due now, with a
    /// fresh schedule and the same `webhook-id`. Returns how many deliveries were re-queued.
    ///
    /// In transactions of at most ``bulkBatch`` deliveries (``recoverBatch(endpoint:since:now:progress:)``),
    /// pausing between them for other writers.
    public func recover(webhook endpoint: String, since: Int64, now: Int64) throws -> Int {
        var progress = RecoverProgress()
        while true {
            progress = try recoverBatch(webhook: endpoint, since: since, now: now, progress: progress)
            if progress.isDone { return progress.requeued }
            Self.pauseBetweenBatches()
        }
    }
}

/// A webhook's recent activity, for the web page's list.
public struct WebhookActivity: Sendable, Equatable {
    /// When its latest delivered delivery was made (Unix ms).
    public var lastDeliveredAt: Int64?
    public var pending: Int
    /// Deliveries that failed since the time asked about.
    public var failedRecently: Int

    public init(lastDeliveredAt: Int64? = nil, pending: Int, failedRecently: Int) {
        self.lastDeliveredAt = lastDeliveredAt
        self.pending = pending
        self.failedRecently = failedRecently
    }
}

extension SQLiteSpool {
    /// Each endpoint's activity: its latest delivery, its pending deliveries, and those that
    /// failed at or after `since`.
    public func activity(webhook endpoint: String, since: Int64) throws -> WebhookActivity {
        let last = try connection.statement(
            "SELECT updated_at FROM deliveries WHERE endpoint = ?1 AND status = 'delivered' ORDER BY id DESC LIMIT 1")
        last.bind(1, endpoint)
        let lastDeliveredAt = try last.step() ? last.int(0) : nil
        try last.run()
        // Pending from the counts `/metrics` reads too (schema 5): one row, however many wait.
        let counts = try connection.statement("""
            SELECT (SELECT coalesce(sum(n), 0) FROM delivery_counts WHERE endpoint = ?1 AND status = 'pending'),
                   (SELECT count(*) FROM deliveries WHERE endpoint = ?1 AND status = 'failed' AND updated_at >= ?2)
            """)
        counts.bind(1, endpoint).bind(2, since)
        _ = try counts.step()
        let activity = WebhookActivity(lastDeliveredAt: lastDeliveredAt, pending: Int(counts.int(0)), failedRecently: Int(counts.int(1)))
        try counts.run()
        return activity
    }

    /// Deliveries that ended delivered and failed, per hour (`hour` is Unix ms / 3,600,000),
    /// from the hour of `since` on: the counts the triggers keep (schema 11), a row per hour
    /// and status, however many deliveries ended in it.
    public func hourlyOutcomes(webhook endpoint: String, since: Int64) throws -> [(hour: Int64, delivered: Int, failed: Int)] {
        let statement = try connection.statement("""
            SELECT hour, sum(CASE status WHEN 'delivered' THEN n ELSE 0 END), sum(CASE status WHEN 'failed' THEN n ELSE 0 END)
            FROM delivery_hours WHERE endpoint = ?1 AND hour >= ?2 / 3600000
            GROUP BY hour HAVING sum(n) > 0 ORDER BY hour
            """)
        statement.bind(1, endpoint).bind(2, since)
        var hours: [(Int64, Int, Int)] = []
        while try statement.step() { hours.append((statement.int(0), Int(statement.int(1)), Int(statement.int(2)))) }
        try statement.run()
        return hours
    }
}

extension TicketNote {
    /// A note from its two columns, when both are set.
    public init?(_ ticket: String?, _ action: String?) {
        guard let ticket, let action = action.flatMap(TicketAction.init(rawValue:)) else { return nil }
        self.init(ticket: ticket, action: action)
    }
}
