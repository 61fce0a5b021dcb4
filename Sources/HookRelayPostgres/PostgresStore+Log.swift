import HookRelayCore
import HookRelayStore
import NIOCore
import PostgresNIO

/// The delivery log (``DeliveryLog``) and `/metrics`' counts (``StatisticsSource``): reads, each
/// one statement or one read-only snapshot.
extension PostgresStore {
    static let recordColumns = """
        d.id, m.webhook_id, d.endpoint, d.status, d.attempts, d.last_http_status, d.last_error, d.last_latency_ms,
        d.next_attempt_at, m.created_at, d.updated_at, d.ref, d.ticket, d.ticket_action
        """

    static func record(_ row: PostgresRow) throws -> DeliveryRecord {
        // By position: a row may carry more columns after these (the event's body).
        let c = row.makeRandomAccess()
        func column<T: PostgresDecodable>(_ n: Int, _: T.Type = T.self) throws -> T { try c[n].decode(T.self) }
        return DeliveryRecord(
            state: DeliveryState(
                id: try column(0), messageID: try column(1), target: try column(2),
                status: DeliveryStatus(rawValue: try column(3)) ?? .pending, attempts: Int(try column(4, Int64.self)),
                lastHTTPStatus: try column(5, Int64?.self).map(Int.init), lastError: try column(6),
                lastLatencyMilliseconds: try column(7, Int64?.self).map(Int.init), nextAttemptAt: try column(8), ref: try column(11)),
            createdAt: try column(9), updatedAt: try column(10), ticket: TicketNote(try column(12), try column(13)))
    }

    /// A page of the delivery log, newest first, in one statement (one snapshot). Only the
    /// filters given are in its text: sessions plan every statement once for any parameters
    /// (`force_generic_plan`, PostgresPool), and a plan for "this webhook or any" cannot use
    /// the `(endpoint, status, id)` index (the admin command's page of one webhook's failed
    /// deliveries took 91 ms at 1,000,000 deliveries).
    public func deliveries(webhook: String?, status: DeliveryStatus?, since: Int64?, before: Int64?, limit: Int) throws -> [DeliveryRecord] {
        var conditions: [String] = [], binds = PostgresBindings()
        func condition(_ sql: String, _ value: some PostgresThrowingDynamicTypeEncodable) throws {
            try binds.append(value)
            conditions.append(sql.replacingOccurrences(of: "?", with: "$\(binds.count)"))
        }
        if let webhook { try condition("d.endpoint = ?", webhook) }
        if let status { try condition("d.status = ?", status.rawValue) }
        if let before { try condition("d.id < ?", before) }
        if let since { try condition("m.created_at >= ?", since) }
        binds.append(Int64(limit))
        let query = PostgresQuery(unsafeSQL: """
            SELECT \(Self.recordColumns) FROM deliveries d JOIN messages m ON m.id = d.message_id
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY d.id DESC LIMIT $\(binds.count)
            """, binds: binds)
        return try run("reading the delivery log") { session in try await session.rows(query).map(Self.record) }
    }

    public func delivery(id: Int64) throws -> DeliveryDetail? {
        try transaction("reading a delivery", snapshot: true) { session in
            guard let row = try await session.rows("""
                SELECT \(unescaped: Self.recordColumns), m.body FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE d.id = \(id)
                """).first else { return nil }
            let record = try Self.record(row)
            let event = try row.makeRandomAccess()[14].decode(ByteBuffer.self)
            let attempts = try await session.rows("""
                SELECT started_at, http_status, latency_ms, error, response_body FROM attempts WHERE delivery_id = \(id) ORDER BY id
                """).map { row in
                let (startedAt, http, latency, error, body) = try row.decode((Int64, Int64?, Int64, String?, ByteBuffer?).self)
                return AttemptEntry(
                    startedAt: startedAt, httpStatus: http.map(Int.init), latencyMilliseconds: Int(latency), error: error,
                    responseBody: body?.bytes ?? [])
            }
            return DeliveryDetail(record: record, event: event.bytes, attempts: attempts)
        }
    }

    public func activity(webhook: String, since: Int64) throws -> WebhookActivity {
        try run("reading a webhook's activity") { session in
            guard let row = try await session.rows("""
                SELECT (SELECT updated_at FROM deliveries WHERE endpoint = \(webhook) AND status = 'delivered' ORDER BY id DESC LIMIT 1),
                    (SELECT coalesce(sum(n), 0)::bigint FROM delivery_counts WHERE endpoint = \(webhook) AND status = 'pending'),
                    (SELECT count(*) FROM deliveries WHERE endpoint = \(webhook) AND status = 'failed' AND updated_at >= \(since))
                """).first else { return WebhookActivity(lastDeliveredAt: nil, pending: 0, failedRecently: 0) }
            let (last, pending, failed) = try row.decode((Int64?, Int64, Int64).self)
            return WebhookActivity(lastDeliveredAt: last, pending: Int(pending), failedRecently: Int(failed))
        }
    }

    /// From the hour of `since` on, as SQLite's hourly counts: the counts migration 8's triggers
    /// keep, summed over their slots (a few hundred rows for a day, however many deliveries).
    public func hourlyOutcomes(webhook: String, since: Int64) throws -> [(hour: Int64, delivered: Int, failed: Int)] {
        let hours = try run("reading a webhook's outcomes") { session in
            try await session.rows("""
                SELECT hour, sum(n) FILTER (WHERE status = 'delivered')::bigint, sum(n) FILTER (WHERE status = 'failed')::bigint
                FROM delivery_hours WHERE endpoint = \(webhook) AND hour >= \(since / 3_600_000)
                GROUP BY hour HAVING sum(n) > 0 ORDER BY hour
                """).map { try $0.decode((Int64, Int64?, Int64?).self) }
        }
        return hours.map { (hour: $0.0, delivered: Int($0.1 ?? 0), failed: Int($0.2 ?? 0)) }
    }

    /// The counts of deliveries and webhooks, and the oldest due delivery, from one statement.
    ///
    /// The deliveries from the counts migration 10's triggers keep (summed over their slots), as
    /// SQLite reads its `delivery_counts`: a few rows however many deliveries are stored.
    public func statistics(now: Int64) throws -> StoreStatistics {
        try run("reading statistics") { session in
            var statistics = StoreStatistics()
            for row in try await session.rows("""
                SELECT 'delivery', status, sum(n)::bigint FROM delivery_counts GROUP BY status HAVING sum(n) <> 0
                UNION ALL SELECT 'webhook', state, count(*) FROM webhooks GROUP BY state
                UNION ALL SELECT 'due', '', (SELECT next_attempt_at FROM deliveries
                    WHERE status = 'pending' AND next_attempt_at <= \(now) ORDER BY next_attempt_at LIMIT 1)
                UNION ALL SELECT 'size', '', pg_database_size(current_database())
                """)
            {
                let (kind, name, value) = try row.decode((String, String, Int64?).self)
                switch kind {
                case "delivery": if let status = DeliveryStatus(rawValue: name), let value { statistics.deliveries[status] = Int(value) }
                case "webhook": if let state = WebhookHealth(rawValue: name), let value { statistics.webhooks[state] = Int(value) }
                case "size": statistics.databaseBytes = value
                default: statistics.oldestDueAt = value
                }
            }
            return statistics
        }
    }
}
