import HookRelayCore
#if canImport(Glibc)
import Glibc
#endif

/// The SQLite implementation of the store's roles (StoreRoles.swift): the `deliver --spool` file
/// (a ``DeliveryQueue``), and everything `serve` keeps (a ``ServeStore``).
///
/// WAL mode; every write is a `BEGIN IMMEDIATE` transaction. Appends run with
/// `synchronous=FULL`, so an event counted as spooled survives a power cut. Claims and
/// completions run with `synchronous=NORMAL` (``setDurableCommits(_:)``): a process crash loses
/// nothing, and a power cut can at worst forget that a delivery was made, which sends it again
/// with the same `webhook-id` (delivery is at-least-once anyway).
///
/// Claims record the claiming process; ``recoverOrphans(now:)`` releases the claims of processes
/// that no longer run, so a run after a crash resends in-flight deliveries at once instead of
/// waiting for their leases to expire.
public final class SQLiteSpool: ServeStore {
    public let connection: SQLiteConnection
    let owner: String
    /// With a policy (in `serve`), each attempt updates its webhook's health in the same transaction.
    public var healthPolicy: HealthPolicy?
    /// Hears each webhook health change once its transaction has committed.
    public var onHealthChange: (@Sendable (_ webhook: String, _ from: Webhook.Health, _ to: Webhook.Health) -> Void)?
    private var healthChanges: [(String, Webhook.Health, Webhook.Health)] = []
    /// The most rows one transaction of a bulk change changes (see ``discardPending(of:)`` and
    /// ``recoverBatch(endpoint:since:now:progress:)``), small so each holds the write lock briefly
    /// (`bench/scrape.sh` measures ingest beside a deletion).
    public var bulkBatch = 1_000
    private var durableCommits: Bool

    /// Opens or creates the spool at `path` and migrates it to the current schema.
    /// - Parameters:
    ///   - durableWrites: `synchronous=FULL` for every transaction (the ingest connection);
    ///     false gives `synchronous=NORMAL` (the dispatch connection).
    ///   - checkpoints: whether this connection copies the WAL back into the database when it
    ///     grows. A dispatch connection working beside an ingest connection leaves that to it,
    ///     so deliveries never wait for a checkpoint.
    public init(path: String, durableWrites: Bool = true, checkpoints: Bool = true) throws {
        connection = try SQLiteConnection(path: path)
        owner = "pid:\(getpid())"
        durableCommits = true
        try setDurableCommits(durableWrites)
        if !checkpoints { try connection.execute("PRAGMA wal_autocheckpoint=0") }
        try Schema.migrate(connection)
    }

    /// Opens a connection to the database at `path` for `role`.
    public static func open(path: String, role: ConnectionRole) throws -> SQLiteSpool {
        switch role {
        case .writer: return try SQLiteSpool(path: path, durableWrites: true)
        case .reader: return try reader(path: path)
        }
    }

    /// `synchronous=FULL` when durable, else `NORMAL`.
    public func setDurableCommits(_ durable: Bool) throws {
        guard durable != durableCommits else { return }
        try connection.execute(durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
        durableCommits = durable
    }

    public func append(_ messages: [NewMessage], now: Int64) throws -> Int {
        try connection.write { try insert([IngestBatch(messages)], now: now, stored: .addTargets).added }
    }

    public func claim(limit: Int, now: Int64, lease: Int64, quota: TargetQuota?) throws -> [ClaimedDelivery] {
        try connection.write { try claimInTransaction(limit: limit, now: now, lease: lease, quota: quota) }
    }

    public func completeAndClaim(
        _ outcomes: [DeliveryOutcome], limit: Int, now: Int64, lease: Int64, quota: TargetQuota?
    ) throws -> (states: [DeliveryState?], claimed: [ClaimedDelivery]) {
        try announcingHealth {
            try connection.write {
                (try completeInTransaction(outcomes, now: now),
                 try claimInTransaction(limit: limit, now: now, lease: lease, quota: quota))
            }
        }
    }

    /// Runs `write`, then announces the health changes it recorded, once it committed: a
    /// transaction that rolled back changed no webhook's health (announced, the daemon would
    /// take a webhook for disabled that the database still has healthy).
    private func announcingHealth<T>(_ write: () throws -> T) throws -> T {
        let result: T
        do {
            result = try write()
        } catch {
            healthChanges.removeAll()
            throw error
        }
        let changes = healthChanges
        healthChanges.removeAll()
        if let onHealthChange {
            for (webhook, from, to) in changes { onHealthChange(webhook, from, to) }
        }
        return result
    }

    /// Where the last claim under a quota stopped, so the next one starts with the endpoint after it.
    var claimCursor = ""

    /// Until when claims take the backlog for granted: every claim of a busy dispatcher scanning
    /// 2,048 due rows first halved `serve`'s deliveries per second (`bench/serve.sh`, (c)).
    var backlogUntil: Int64 = 0

    /// The WAL's size when ingest last failed to empty it (see `boundWAL`).
    var walStuckAt = 0

    public func complete(_ outcomes: [DeliveryOutcome], now: Int64) throws -> [DeliveryState?] {
        guard !outcomes.isEmpty else { return [] }
        return try announcingHealth { try connection.write { try completeInTransaction(outcomes, now: now) } }
    }

    private func completeInTransaction(_ outcomes: [DeliveryOutcome], now: Int64) throws -> [DeliveryState?] {
        do {
            let attempt = try connection.statement("""
                INSERT INTO attempts(delivery_id, started_at, http_status, latency_ms, error, response_body)
                SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM deliveries WHERE id = ?1)
                """)
            let update = try connection.statement("""
                UPDATE deliveries SET status = ?1, attempts = attempts + ?9, next_attempt_at = ?2,
                    lease_until = NULL, lease_owner = NULL, last_http_status = ?3, last_error = ?4,
                    last_latency_ms = ?5, updated_at = ?6, ref = ?10
                WHERE id = ?7 AND claim = ?8
                RETURNING \(Self.stateColumns)
                """)
            return try outcomes.map { outcome in
                attempt.reset()
                try attempt.bind(1, outcome.delivery.id).bind(2, outcome.attempt.startedAt)
                    .bind(3, outcome.attempt.httpStatus).bind(4, outcome.attempt.latencyMilliseconds)
                    .bind(5, outcome.attempt.error).bind(6, blob: outcome.attempt.responseBody).run()
                let (status, next, ref) = outcome.next.stored(now: now)
                update.reset()
                update.bind(1, status.rawValue).bind(2, next).bind(3, outcome.attempt.httpStatus)
                    .bind(4, outcome.attempt.error).bind(5, outcome.attempt.latencyMilliseconds).bind(6, now)
                    .bind(7, outcome.delivery.id).bind(8, outcome.delivery.claim).bind(9, outcome.counted ? 1 : 0)
                    .bind(10, ref)
                guard try update.step() else { return nil }
                let state = Self.state(update)
                try update.run()
                if let healthPolicy, !outcome.interrupted { try updateHealth(after: outcome, now: now, policy: healthPolicy) }
                return state
            }
        }
    }

    private func updateHealth(after outcome: DeliveryOutcome, now: Int64, policy: HealthPolicy) throws {
        let webhook = outcome.delivery.target
        guard let change = try recordHealth(
            webhook: webhook, succeeded: outcome.next == .delivered, gone: outcome.attempt.httpStatus == 410, now: now,
            policy: policy)
        else { return }
        if change.to == .disabled {
            // A disabled webhook gets nothing more: what waits for it fails now (re-queue after enabling).
            try connection.statement("""
                UPDATE deliveries SET status = 'failed', last_error = 'the webhook was disabled', updated_at = ?2
                WHERE endpoint = ?1 AND status = 'pending' AND (lease_until IS NULL OR lease_until <= ?2)
                """).bind(1, webhook).bind(2, now).run()
        }
        healthChanges.append((webhook, change.from, change.to))
    }

    public func nextDue(excluding: Set<String>) throws -> Int64? {
        let statement = try connection.statement("""
            SELECT min(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at THEN lease_until ELSE next_attempt_at END)
            FROM deliveries WHERE status = 'pending' \(excluding.isEmpty ? "" : "AND endpoint NOT IN (SELECT value FROM json_each(?1))")
            """)
        if !excluding.isEmpty { statement.bind(1, Self.jsonArray(excluding.sorted().map(JSONString.quote))) }
        guard try statement.step() else { return nil }
        let value = statement.optionalInt(0)
        try statement.run()
        return value
    }

    public func nextUnclaimedDue(excluding: Set<String>) throws -> Int64? {
        // The pending-only (next_attempt_at, id) index in order; claimed rows (a few, at its
        // front) are stepped over.
        let statement = try connection.statement("""
            SELECT next_attempt_at FROM deliveries INDEXED BY deliveries_due
            WHERE status = 'pending' AND lease_until IS NULL
                \(excluding.isEmpty ? "" : "AND endpoint NOT IN (SELECT value FROM json_each(?1))")
                AND endpoint NOT IN (SELECT endpoint FROM discarding)
            ORDER BY next_attempt_at LIMIT 1
            """)
        if !excluding.isEmpty { statement.bind(1, Self.jsonArray(excluding.sorted().map(JSONString.quote))) }
        guard try statement.step() else {
            try statement.run()
            return nil
        }
        let value = statement.int(0)
        try statement.run()
        return value
    }

    public func failPending(target endpoint: String, error: String, now: Int64) throws -> [DeliveryState] {
        try connection.write {
            let statement = try connection.statement("""
                UPDATE deliveries SET status = 'failed', last_error = ?1, updated_at = ?2, lease_until = NULL, lease_owner = NULL
                WHERE endpoint = ?3 AND status = 'pending' AND (lease_until IS NULL OR lease_until <= ?2)
                RETURNING \(Self.stateColumns)
                """)
            statement.bind(1, error).bind(2, now).bind(3, endpoint)
            var states: [DeliveryState] = []
            while try statement.step() { states.append(Self.state(statement)) }
            return states
        }
    }

    public func requeueFailed(now: Int64) throws -> Int {
        try connection.write {
            try connection.statement(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = ?1, attempts = 0, updated_at = ?1 WHERE status = 'failed'"
            ).bind(1, now).run()
            return connection.changes
        }
    }

    public func release(_ deliveries: [ClaimedDelivery]) throws {
        try connection.write {
            let statement = try connection.statement(
                "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL WHERE id = ?1 AND claim = ?2")
            for delivery in deliveries { try statement.bind(1, delivery.id).bind(2, delivery.claim).run() }
        }
    }

    /// Checkpoints again, now that the ingest connection that did them is gone.
    public func ingestFinished() throws {
        try connection.execute("PRAGMA wal_autocheckpoint=8192")
    }

    public func pendingStates(now: Int64) throws -> [DeliveryState] {
        let statement = try connection.statement("""
            SELECT \(Self.stateColumns) FROM deliveries
            WHERE status = 'pending' AND (lease_until IS NULL OR lease_until <= ?1 OR lease_owner = ?2)
            ORDER BY id
            """)
        statement.bind(1, now).bind(2, owner)
        var states: [DeliveryState] = []
        while try statement.step() { states.append(Self.state(statement)) }
        try statement.run()
        return states
    }

    /// Releases claims held by processes of this machine that are no longer running, and
    /// finishes discarding the pending deliveries of webhooks whose deletion was interrupted.
    /// Returns how many deliveries were released.
    @discardableResult
    public func recoverOrphans(now: Int64) throws -> Int {
        try finishInterruptedDiscards()
        let owners = try connection.statement("SELECT DISTINCT lease_owner FROM deliveries WHERE lease_owner IS NOT NULL AND lease_until > ?1")
        owners.bind(1, now)
        var dead: [String] = []
        while try owners.step() {
            guard let owner = owners.text(0), owner != self.owner,
                  owner.hasPrefix("pid:"), let pid = Int32(owner.dropFirst(4)) else { continue }
            if kill(pid, 0) != 0, errno == ESRCH { dead.append(owner) }
        }
        guard !dead.isEmpty else { return 0 }
        return try connection.write {
            var released = 0
            let release = try connection.statement(
                "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL WHERE lease_owner = ?1 AND status = 'pending'")
            for owner in dead {
                release.reset()
                try release.bind(1, owner).run()
                released += connection.changes
            }
            return released
        }
    }

    /// Counts of deliveries by status, as the triggers keep them (schema 5): a few rows read,
    /// however many deliveries are stored.
    public func counts() throws -> [DeliveryStatus: Int] {
        let statement = try connection.statement(
            "SELECT status, sum(n) FROM delivery_counts GROUP BY status HAVING sum(n) > 0")
        var counts: [DeliveryStatus: Int] = [:]
        while try statement.step() {
            if let status = statement.text(0).flatMap(DeliveryStatus.init(rawValue:)) { counts[status] = Int(statement.int(1)) }
        }
        try statement.run()
        return counts
    }

    /// A JSON array of already-encoded items, bound for `json_each(?)` (a list in one parameter).
    static func jsonArray(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }

    static let stateColumns = """
        id, (SELECT webhook_id FROM messages WHERE messages.id = message_id), endpoint, status, attempts,
        last_http_status, last_error, last_latency_ms, next_attempt_at, ref
        """

    static func state(_ row: Statement) -> DeliveryState {
        DeliveryState(
            id: row.int(0), messageID: row.text(1) ?? "", target: row.text(2) ?? "",
            status: row.text(3).flatMap(DeliveryStatus.init(rawValue:)) ?? .pending, attempts: Int(row.int(4)),
            lastHTTPStatus: row.optionalInt(5).map(Int.init), lastError: row.text(6),
            lastLatencyMilliseconds: row.optionalInt(7).map(Int.init), nextAttemptAt: row.int(8), ref: row.optionalInt(9))
    }
}
