import CSQLite
import HookRelayCore
#if canImport(Glibc)
import Glibc
#endif

/// An event to store with the webhooks it goes to.
public struct IngestedEvent: Sendable {
    public var id: String
    public var body: [UInt8]
    /// Webhook ids, each with whether its delivery is `skipped` (the webhook is disabled).
    public var targets: [(webhook: String, skipped: Bool)]

    public init(id: String, body: [UInt8], targets: [(webhook: String, skipped: Bool)]) {
        self.id = id
        self.body = body
        self.targets = targets
    }
}

/// Events to store with the webhooks each goes to, as `serve` builds them from one request: the
/// bodies in one buffer and each event's webhooks as indexes into ``webhooks``, so a request of
/// a thousand events costs a few allocations rather than a few per event.
public struct IngestBatch: Sendable {
    /// The webhooks the events may go to; an event's targets index this list.
    public let webhooks: [String]
    /// The W3C `traceparent` stored with each of the events: the ingest span's, while `serve`
    /// exports traces; nil otherwise.
    public var traceparent: String?
    /// Each event's message id (`webhook-id`), in order.
    public private(set) var ids: [String] = []
    private var bytes: [UInt8] = []
    private var bodyEnds: [Int] = []
    /// Each event's targets: a webhook's index times two, plus one when its delivery is skipped.
    private var targets: [UInt32] = []
    private var targetEnds: [Int] = []

    /// - Parameter events: how many events will be added, when known.
    public init(webhooks: [String], events: Int = 0) {
        self.webhooks = webhooks
        ids.reserveCapacity(events)
        bodyEnds.reserveCapacity(events)
        targetEnds.reserveCapacity(events)
    }

    public var count: Int { ids.count }

    /// The deliveries of all its events.
    public var targetCount: Int { targets.count }

    /// Adds a delivery to `webhooks[webhook]` to the event that the next ``append(id:body:)`` ends.
    public mutating func addTarget(_ webhook: Int, skipped: Bool) {
        targets.append(UInt32(webhook) << 1 | (skipped ? 1 : 0))
    }

    /// Ends an event: its message id and its bytes; the targets added since the last one are its.
    public mutating func append(id: String, body: UnsafeRawBufferPointer) {
        ids.append(id)
        bytes.append(contentsOf: body)
        bodyEnds.append(bytes.count)
        targetEnds.append(targets.count)
    }

    /// Calls `body` with each event's message id, bytes and targets: a webhook's index times
    /// two, plus one when its delivery is skipped.
    public func forEach(_ body: (_ id: String, _ bytes: UnsafeRawBufferPointer, _ targets: ArraySlice<UInt32>) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { all in
            var bodyStart = 0
            var targetStart = 0
            for event in ids.indices {
                try body(ids[event], UnsafeRawBufferPointer(rebasing: all[bodyStart..<bodyEnds[event]]), targets[targetStart..<targetEnds[event]])
                bodyStart = bodyEnds[event]
                targetStart = targetEnds[event]
            }
        }
    }
}

extension IngestBatch {
    /// The same events in a batch's form.
    public init(_ events: [IngestedEvent]) {
        self.init(events, id: \.id, body: \.body, targets: \.targets)
    }

    /// Messages in a batch's form: their targets (URLs in `deliver`) are the webhooks.
    public init(_ messages: [NewMessage]) {
        self.init(messages, id: \.messageID, body: \.body) { $0.targets.map { ($0, false) } }
    }

    private init<Item>(
        _ items: [Item], id: (Item) -> String, body: (Item) -> [UInt8], targets: (Item) -> [(webhook: String, skipped: Bool)]
    ) {
        var webhooks: [String] = []
        var index: [String: Int] = [:]
        for item in items {
            for target in targets(item) where index[target.webhook] == nil {
                index[target.webhook] = webhooks.count
                webhooks.append(target.webhook)
            }
        }
        self.init(webhooks: webhooks, events: items.count)
        for item in items {
            for target in targets(item) { addTarget(index[target.webhook]!, skipped: target.skipped) }
            body(item).withUnsafeBytes { append(id: id(item), body: $0) }
        }
    }
}

extension WebhookQueue {
    /// Stores events and their deliveries in one transaction (one commit for the whole batch).
    /// An event whose id is already stored is a duplicate: nothing is added for it.
    /// Returns, per event, whether it was a duplicate.
    public func ingest(_ events: [IngestedEvent], now: Int64) throws -> [Bool] {
        try ingest([IngestBatch(events)], now: now)[0]
    }
}

extension SQLiteSpool {
    /// Deliveries inserted by one statement, rather than a statement each.
    static let deliveryRowsPerStatement = 64
    /// The delivery rows' statements: `[rows > 1][ignoringExisting]`.
    static let insertDeliveries = [false, true].map { many in
        [false, true].map { DeliveryRows.sql(rows: many ? deliveryRowsPerStatement : 1, ignoringExisting: $0) }
    }

    /// Stores the events of several batches and their deliveries in one transaction (group
    /// commit). An event whose id is already stored (or came earlier in the same transaction) is
    /// a duplicate: nothing is added for it. No delivery is added for a webhook being deleted
    /// (`discarding`): this process may not have heard of the deletion yet. Returns, per batch
    /// and event, whether it was a duplicate.
    ///
    /// `delivery_counts` is kept here rather than by its trigger when there are many deliveries:
    /// the trigger's upsert for each row was a third of the transaction's time, so the triggers
    /// are off for this connection while it runs and the counts are added once per webhook and
    /// status. Below ``deliveryRowsPerStatement`` deliveries the triggers count: switching them
    /// costs preparing the statements again, more than a few upserts. Every trigger on
    /// `messages` and `deliveries` must be accounted for here (a test lists them).
    public func ingest(_ batches: [IngestBatch], now: Int64) throws -> [[Bool]] {
        defer { boundWAL() }
        let countHere = batches.reduce(0) { $0 + $1.targetCount } >= Self.deliveryRowsPerStatement
        return try connection.withTriggers(off: countHere) {
            try connection.write {
                let inserted = try insert(batches, now: now, stored: .duplicate)
                if countHere { try addCounts(inserted.counts) }
                return inserted.duplicates
            }
        }
    }

    /// What ``insert(_:now:stored:)`` does with an event whose id is already stored.
    enum StoredMessage {
        /// It is a duplicate: nothing is added (`serve`'s ingest, a test event).
        case duplicate
        /// It gets deliveries to the targets it does not have yet (`deliver --spool`: the same
        /// event for another URL).
        case addTargets
    }

    /// The one insert path of messages and their deliveries, in the caller's transaction: for
    /// ingest, ``append(_:now:)`` and ``appendClaimed(_:body:endpoint:now:lease:)``. No delivery
    /// is added for a webhook being deleted (`discarding`): this process may not have heard of
    /// the deletion yet. Returns, per batch and event, whether its id was stored before (or
    /// earlier in this transaction); how many deliveries were added; and, per webhook, the
    /// pending and skipped deliveries of the new events (what the triggers count).
    func insert(_ batches: [IngestBatch], now: Int64, stored: StoredMessage) throws -> Inserted {
        let discarding = try discardingEndpoints()
        let insertMessage = try connection.statement(
            "INSERT INTO messages(webhook_id, body, created_at, traceparent) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(webhook_id) DO NOTHING")
        let findMessage = try connection.statement("SELECT id FROM messages WHERE webhook_id = ?1")
        // A repeated delivery is an error where each event's targets are distinct (the counts
        // rely on every row being added), and skipped where a stored message gets more.
        var deliveries = try DeliveryRows(connection, now: now, ignoringExisting: stored == .addTargets)
        var added: [String: (pending: Int, skipped: Int)] = [:]
        let duplicates = try batches.map { batch in
            let gone = batch.webhooks.map(discarding.contains)
            var counts = [Int](repeating: 0, count: 2 * batch.webhooks.count)
            var duplicates: [Bool] = []
            duplicates.reserveCapacity(batch.count)
            try batch.forEach { id, body, targets in
                try insertMessage.bind(1, id).bind(2, blob: body).bind(3, now).bind(4, batch.traceparent).run()
                let isNew = connection.changes == 1
                duplicates.append(!isNew)
                let messageRow: Int64
                if isNew {
                    messageRow = connection.lastInsertedRow
                } else {
                    guard stored == .addTargets, try findMessage.bind(1, id).step() else { return }
                    messageRow = findMessage.int(0)
                    try findMessage.run()
                }
                for target in targets where !gone[Int(target >> 1)] {
                    try deliveries.add(message: messageRow, webhook: batch.webhooks[Int(target >> 1)], skipped: target & 1 == 1)
                    if isNew { counts[Int(target)] += 1 }
                }
            }
            for (webhook, name) in batch.webhooks.enumerated() where counts[2 * webhook] + counts[2 * webhook + 1] > 0 {
                added[name, default: (0, 0)].pending += counts[2 * webhook]
                added[name, default: (0, 0)].skipped += counts[2 * webhook + 1]
            }
            return duplicates
        }
        try deliveries.flush()
        return Inserted(duplicates: duplicates, added: deliveries.inserted, counts: added)
    }

    struct Inserted {
        var duplicates: [[Bool]]
        var added: Int
        var counts: [String: (pending: Int, skipped: Int)]
    }

    /// Adds to `delivery_counts` what the triggers would have for the deliveries of new events.
    private func addCounts(_ counts: [String: (pending: Int, skipped: Int)]) throws {
        let count = try connection.statement("""
            INSERT INTO delivery_counts (endpoint, status, n) VALUES (?1, ?2, ?3)
                ON CONFLICT (endpoint, status) DO UPDATE SET n = n + excluded.n
            """)
        for (webhook, n) in counts {
            if n.pending > 0 { try count.bind(1, webhook).bind(2, DeliveryStatus.pending.rawValue).bind(3, n.pending).run() }
            if n.skipped > 0 { try count.bind(1, webhook).bind(2, DeliveryStatus.skipped.rawValue).bind(3, n.skipped).run() }
        }
    }

    /// The WAL's size past which ingest, after its commit, empties it: twice the automatic
    /// checkpoint's 32 MiB (`wal_autocheckpoint`). The automatic checkpoint may copy the whole
    /// WAL, but the WAL is only started over when no reader is still using it as the next write
    /// begins; in a stream of short reads (scrapes) that hardly happened, and ingest as fast as
    /// this grew the WAL to 150 MB in the scrape torture test.
    static let walLimit = 64 << 20
    /// After a try that a reader outlasted, how much the WAL grows before the next one.
    static let walRetryGrowth = 512 << 10

    /// When the WAL has grown past ``walLimit``: a checkpoint that copies it whole, waits up to
    /// 20 ms for the readers still using it, and empties it. Other writers wait for it that long
    /// at most (in their busy handler). When a reader outlasts it (SQLITE_BUSY), what could be
    /// copied was, and the next try comes once the WAL has grown ``walRetryGrowth`` more (a long
    /// reader would otherwise cost every commit 20 ms).
    private func boundWAL() {
        var status = stat()
        guard stat(connection.path + "-wal", &status) == 0 else { return }
        let size = Int(status.st_size)
        // Smaller than when stuck: the WAL was started over.
        if size < walStuckAt { walStuckAt = 0 }
        guard size > Self.walLimit, size >= walStuckAt + Self.walRetryGrowth else { return }
        let code = connection.waitingWhenBusy(tries: 20_000 / SQLiteConnection.busyStep) {
            sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
        }
        walStuckAt = code == SQLITE_OK ? 0 : size
    }
}

/// New `deliveries` rows, inserted ``SQLiteSpool/deliveryRowsPerStatement`` at a time: one
/// statement a row cost as much again in stepping and resetting as the rows themselves.
private struct DeliveryRows {
    let connection: SQLiteConnection
    let now: Int64
    let many: Statement
    var waiting: [(message: Int64, webhook: String, skipped: Bool)] = []
    /// Rows inserted so far (a row whose message already goes to its webhook is not).
    private(set) var inserted = 0

    let ignoringExisting: Bool

    init(_ connection: SQLiteConnection, now: Int64, ignoringExisting: Bool) throws {
        self.connection = connection
        self.now = now
        self.ignoringExisting = ignoringExisting
        many = try connection.statement(SQLiteSpool.insertDeliveries[1][ignoringExisting ? 1 : 0])
        waiting.reserveCapacity(SQLiteSpool.deliveryRowsPerStatement)
    }

    /// `?1` is the time; row `k` binds `?(3k + 2)` (message), `?(3k + 3)` (webhook), `?(3k + 4)` (status).
    /// `ignoringExisting`: a row whose message already goes to its webhook is not added (else
    /// it fails the statement).
    static func sql(rows: Int, ignoringExisting: Bool) -> String {
        "INSERT INTO deliveries(message_id, endpoint, status, next_attempt_at, updated_at) VALUES "
            + (0..<rows).map { row in "(?\(3 * row + 2), ?\(3 * row + 3), ?\(3 * row + 4), ?1, ?1)" }.joined(separator: ", ")
            + (ignoringExisting ? " ON CONFLICT(message_id, endpoint) DO NOTHING" : "")
    }

    mutating func add(message: Int64, webhook: String, skipped: Bool) throws {
        waiting.append((message, webhook, skipped))
        if waiting.count == SQLiteSpool.deliveryRowsPerStatement { try flush() }
    }

    /// Inserts the rows waiting: a full statement's worth at once, fewer a row at a time.
    mutating func flush() throws {
        guard !waiting.isEmpty else { return }
        let full = waiting.count == SQLiteSpool.deliveryRowsPerStatement
        let statement = full ? many : try connection.statement(SQLiteSpool.insertDeliveries[0][ignoringExisting ? 1 : 0])
        statement.bind(1, now)
        for (row, delivery) in waiting.enumerated() {
            let first = Int32(full ? 3 * row + 2 : 2)
            statement.bind(first, delivery.message).bind(first + 1, delivery.webhook)
                .bind(first + 2, delivery.skipped ? DeliveryStatus.skipped.rawValue : DeliveryStatus.pending.rawValue)
            if !full {
                try statement.run()
                inserted += connection.changes
            }
        }
        if full {
            try statement.run()
            inserted += connection.changes
        }
        waiting.removeAll(keepingCapacity: true)
    }
}

extension SQLiteConnection {
    /// Runs `body` with this connection's triggers off when `off` (only ingest does, and keeps
    /// up what they would have). Switching expires the connection's prepared statements, which
    /// SQLite prepares again when they are next run.
    func withTriggers<T>(off: Bool, _ body: () throws -> T) rethrows -> T {
        guard off else { return try body() }
        hookrelay_enable_triggers(handle, 0)
        defer { hookrelay_enable_triggers(handle, 1) }
        return try body()
    }
}
