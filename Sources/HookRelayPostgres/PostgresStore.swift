import Foundation
import HookRelayCore
import HookRelayStore
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The PostgreSQL implementation of the store's roles (HookRelayStore's StoreRoles.swift), for
/// several `serve` instances sharing one database: the same semantics as ``SQLiteSpool``, with
/// claims that skip what other instances hold (`FOR UPDATE SKIP LOCKED`) and fencing tokens
/// from one sequence.
///
/// Threads: the protocols are synchronous, and each call blocks its thread while the work runs
/// as a task on the store's NIO event loop (``BlockingBridge``). Call it from a thread that may
/// block (the dispatcher's `Thread`, a serial `DispatchQueue`, a command's main thread), never
/// from the event loop and preferably not from Swift's cooperative pool (two cores: two waiting
/// calls hold the whole pool).
///
/// Connections: a store runs its calls on a ``PostgresPool``, its own (a pool of at most
/// ``maximumConnections``, what an admin command opens) or one that every store of a `serve`
/// process shares.
///
/// Every change runs in one transaction (`READ COMMITTED`), every read in one statement or one
/// read-only snapshot; a deadlock or serialization failure is retried up to three times.
public final class PostgresStore: ServeStore, ChainedRounds {
    /// The most connections one store's pool opens (one store is used by one thread at a time).
    public static let maximumConnections = 2

    let pool: PostgresPool
    var client: PostgresClient { pool.client }
    var bridge: BlockingBridge { pool.bridge }
    let logger: Logger
    /// The database's URL without its password.
    public var location: String { pool.location }
    /// Who holds a claim: `pid:<pid>@<host>`; ``recoverOrphans(now:)`` releases the claims of
    /// this host's processes that no longer run.
    let owner: String
    /// Who holds this store's slot grants (PostgresStore+Grants.swift): the owner and a name of
    /// this store's own.
    let grantHolder: String

    public var healthPolicy: HealthPolicy?
    public var onHealthChange: (@Sendable (_ webhook: String, _ from: WebhookHealth, _ to: WebhookHealth) -> Void)?
    /// The most rows one transaction of a bulk change (deletion, recovery) changes.
    public var bulkBatch = 1_000
    private var durableCommits = true

    /// Connects to the database `location` names with a pool of its own, and migrates it to the
    /// current schema; a `reader`'s sessions refuse writes.
    public convenience init(location: PostgresLocation, role: ConnectionRole = .writer, logger: Logger = PostgresStore.defaultLogger) throws {
        try self.init(pool: PostgresPool(location: location, connections: Self.maximumConnections, readOnly: role == .reader, logger: logger))
    }

    /// A store on `pool`, which other stores may share.
    public init(pool: PostgresPool) {
        self.pool = pool
        logger = pool.logger
        owner = "pid:\(getpid())@\(Self.hostName())"
        grantHolder = owner + "/" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }

    /// Warnings and errors only: postgres-nio reports each failed connection attempt at `info`.
    public static var defaultLogger: Logger {
        var logger = Logger(label: "hookrelay.postgres")
        logger.logLevel = .warning
        return logger
    }

    /// Opens the database at `url` (`postgres://…`) for `role`; `password` when the URL has none.
    public static func open(_ url: String, role: ConnectionRole, password: String? = nil) throws -> PostgresStore {
        try PostgresStore(location: PostgresLocation(url, password: password), role: role)
    }

    private static func hostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count) == 0 else { return "localhost" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: Running statements

    /// How long one call may take: a statement is stopped by the server after 60 s
    /// (`statement_timeout`), and a connection must be had before the rest.
    public var timeout: Duration = .seconds(75)

    /// How long a call waits for a connection: while the server is down a call fails within it
    /// (transient, see ``PostgresStoreError/isTransient(_:)``), and after such a failure within
    /// ``reconnectWait`` until one succeeds (postgres-nio's pool keeps connecting meanwhile, and
    /// the connection it makes waits in the pool).
    public var connectionWait: Duration = .seconds(2)
    public var reconnectWait: Duration = .milliseconds(250)
    /// Whether the last call failed for a transient error: the next waits ``reconnectWait`` for
    /// a connection. Atomic: a chained round (``ChainedRounds``) ends on the event loop.
    private let unreachable = Unreachable()

    /// Runs `body` on one connection of the pool, on the event loop, and waits for it. For reads:
    /// a change belongs in ``transaction(_:snapshot:_:)``, whose commit is durable (a session's
    /// own commits are not, ``PostgresPool``).
    func run<T: Sendable>(
        _ what: String, timeout: Duration? = nil, _ body: @escaping @Sendable (Session) async throws -> T
    ) throws -> T {
        do {
            let result = try bridge.run(timeout: timeout ?? self.timeout, connectWithin: connectWithin, session(body))
            unreachable.flag.store(false, ordering: .relaxed)
            return result
        } catch {
            throw Self.failure(error, doing: what, location: location, unreachable: unreachable)
        }
    }

    /// Starts `body` as ``run(_:timeout:_:)`` does and returns at once; `then` gets the result
    /// on the event loop.
    func start<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (Session) async throws -> T,
        then: @escaping @Sendable (Result<T, PostgresStoreError>) -> Void
    ) {
        let (unreachable, location) = (unreachable, location)
        bridge.start(timeout: timeout, connectWithin: connectWithin, session(body)) { result in
            switch result {
            case let .success(value):
                unreachable.flag.store(false, ordering: .relaxed)
                then(.success(value))
            case let .failure(error):
                then(.failure(Self.failure(error, doing: what, location: location, unreachable: unreachable)))
            }
        }
    }

    private var connectWithin: Duration { unreachable.flag.load(ordering: .relaxed) ? reconnectWait : connectionWait }

    /// `body` on a connection of the pool, as the bridge runs it.
    private func session<T: Sendable>(
        _ body: @escaping @Sendable (Session) async throws -> T
    ) -> @Sendable (Connected) async throws -> T {
        let (client, logger, notifies) = (client, logger, pool.notifies)
        return { connected in
            try await client.withConnection { connection in
                connected()
                return try await body(Session(connection: connection, logger: logger, notifies: notifies))
            }
        }
    }

    private static func failure(_ error: any Error, doing what: String, location: String, unreachable: Unreachable) -> PostgresStoreError {
        let failure = PostgresStoreError(error, doing: what, location: location)
        unreachable.flag.store(failure.isTransient, ordering: .relaxed)
        return failure
    }

    private final class Unreachable: Sendable {
        let flag = Atomic<Bool>(false)
    }

    /// Runs `body` in one transaction (`BEGIN` … `COMMIT`, `ROLLBACK` when it throws), again
    /// when the server ended it for a deadlock or a serialization failure.
    func transaction<T: Sendable>(
        _ what: String, snapshot: Bool = false, _ body: @escaping @Sendable (Session) async throws -> T
    ) throws -> T {
        let durable = durableCommits
        return try run(what) { session in try await session.transaction(snapshot: snapshot, durable: durable, body) }
    }

    /// Not durable: the transactions commit without waiting for the disk (they leave the
    /// session's `synchronous_commit = off`; a crash of the server may forget a completion: sent
    /// again, with the same `webhook-id`).
    public func setDurableCommits(_ durable: Bool) throws {
        durableCommits = durable
    }

    // MARK: DeliveryQueue

    public func append(_ messages: [NewMessage], now: Int64) throws -> Int {
        guard !messages.isEmpty else { return 0 }
        var seen = Set<String>()
        var ids: [String] = [], bodies: [ByteBuffer] = []
        var pairs = Set<[String]>()
        var targetIDs: [String] = [], targets: [String] = []
        for message in messages {
            if seen.insert(message.messageID).inserted {
                ids.append(message.messageID)
                bodies.append(ByteBuffer(bytes: message.body))
            }
            for target in message.targets where pairs.insert([message.messageID, target]).inserted {
                targetIDs.append(message.messageID)
                targets.append(target)
            }
        }
        let endpoints = Array(Set(targets))
        return try transaction("appending messages") { [ids, bodies, targetIDs, targets] session in
            try await session.notifying(try await session.count("""
                WITH new AS (
                    INSERT INTO messages (webhook_id, body, created_at)
                    SELECT i.webhook_id, i.body, \(now) FROM unnest(\(ids)::text[], \(bodies)::bytea[]) WITH ORDINALITY AS i(webhook_id, body, n)
                    ORDER BY i.n
                    ON CONFLICT (webhook_id) DO NOTHING RETURNING id, webhook_id),
                stored AS (SELECT id, webhook_id FROM new UNION ALL SELECT id, webhook_id FROM messages WHERE webhook_id = ANY(\(ids)::text[])),
                added AS (
                    INSERT INTO deliveries (message_id, endpoint, status, next_attempt_at, updated_at)
                    SELECT stored.id, t.endpoint, 'pending', \(now), \(now)
                    FROM unnest(\(targetIDs)::text[], \(targets)::text[]) WITH ORDINALITY AS t(webhook_id, endpoint, n)
                    JOIN stored USING (webhook_id) ORDER BY stored.id, t.n
                    ON CONFLICT (message_id, endpoint) DO NOTHING RETURNING 1),
                turns AS (
                    -- The claims under a quota lock an endpoint's claim_turns row: every endpoint has one.
                    INSERT INTO claim_turns (endpoint) SELECT n.endpoint FROM unnest(\(endpoints)::text[]) AS n(endpoint)
                    WHERE NOT EXISTS (SELECT 1 FROM claim_turns c WHERE c.endpoint = n.endpoint) ON CONFLICT DO NOTHING)
                SELECT count(*) FROM added
                """))
        }
    }

    public func claim(limit: Int, now: Int64, lease: Int64, quota: TargetQuota?) throws -> [ClaimedDelivery] {
        try completeAndClaim([], limit: limit, now: now, lease: lease, quota: quota).claimed
    }

    public func complete(_ outcomes: [DeliveryOutcome], now: Int64) throws -> [DeliveryState?] {
        guard !outcomes.isEmpty else { return [] }
        return try completeAndClaim(outcomes, limit: 0, now: now, lease: 0, quota: nil).states
    }

    public func completeAndClaim(
        _ outcomes: [DeliveryOutcome], limit: Int, now: Int64, lease: Int64, quota: TargetQuota?
    ) throws -> (states: [DeliveryState?], claimed: [ClaimedDelivery]) {
        guard !outcomes.isEmpty || limit > 0 else { return ([], []) }
        let (what, body) = round(outcomes, limit: limit, now: now, lease: lease, quota: quota)
        let result = try run(what, body)
        Self.announce(result.0.changes, to: onHealthChange)
        return (result.0.states, result.1)
    }

    public func completeAndClaim(
        _ outcomes: [DeliveryOutcome], limit: Int, now: Int64, lease: Int64, quota: TargetQuota?,
        then: @escaping @Sendable (Result<(states: [DeliveryState?], claimed: [ClaimedDelivery]), any Error>) -> Void
    ) {
        guard !outcomes.isEmpty || limit > 0 else { return then(.success(([], []))) }
        let (what, body) = round(outcomes, limit: limit, now: now, lease: lease, quota: quota)
        let onHealthChange = onHealthChange
        start(what, body) { result in
            then(result.map { value in
                Self.announce(value.0.changes, to: onHealthChange)
                return (value.0.states, value.1)
            }.mapError { $0 })
        }
    }

    /// A dispatcher round's work: the outcomes recorded and the claim, in one statement where
    /// it can (``RoundStatement``). The claim commits by itself after the outcomes' (a lease need
    /// not reach the disk: one lost in a crash is claimed again when it expires).
    private func round(
        _ outcomes: [DeliveryOutcome], limit: Int, now: Int64, lease: Int64, quota: TargetQuota?
    ) -> (what: String, body: @Sendable (Session) async throws -> (Completion.Result, [ClaimedDelivery])) {
        let claim = ClaimRequest(limit: limit, now: now, leaseUntil: now + lease, owner: owner, quota: quota)
        let (policy, durable) = (healthPolicy, durableCommits)
        return (outcomes.isEmpty ? "claiming deliveries" : "recording attempts", { session in
            if let round = try await Completion.runWithClaim(outcomes, claim: claim, now: now, policy: policy, durable: durable, in: session) {
                return round
            }
            let completed = try await Completion.run(outcomes, now: now, policy: policy, durable: durable, in: session)
            return (completed, try await claim.run(in: session))
        })
    }

    private static func announce(_ changes: [Completion.HealthChange], to onHealthChange: (@Sendable (String, WebhookHealth, WebhookHealth) -> Void)?) {
        guard let onHealthChange else { return }
        for change in changes { onHealthChange(change.webhook, change.from, change.to) }
    }

    public func nextDue(excluding: Set<String>) throws -> Int64? {
        let excluded = excluding.sorted()
        return try run("reading the next due time") { session in
            try await session.optionalInt("""
                SELECT min(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at THEN lease_until ELSE next_attempt_at END)
                FROM deliveries WHERE status = 'pending' AND endpoint <> ALL(\(excluded)::text[])
                """)
        }
    }

    public func nextUnclaimedDue(excluding: Set<String>) throws -> Int64? {
        let excluded = excluding.sorted()
        return try run("reading the next due time") { session in
            // Per endpoint, the first unleased delivery in `deliveries_endpoint_due`'s order: as
            // one scan over all pending deliveries the planner, misled by a young table's
            // statistics, sorted the whole backlog.
            try await session.optionalInt("""
                SELECT min((SELECT d.next_attempt_at FROM deliveries d
                    WHERE d.endpoint = c.endpoint AND d.status = 'pending' AND d.lease_until IS NULL
                    ORDER BY d.next_attempt_at, d.id LIMIT 1))
                FROM claim_turns c
                WHERE c.endpoint <> ALL(\(excluded)::text[]) AND c.endpoint NOT IN (SELECT endpoint FROM discarding)
                """)
        }
    }

    public func failPending(target: String, error: String, now: Int64) throws -> [DeliveryState] {
        try transaction("failing pending deliveries") { session in
            try await session.states("""
                UPDATE deliveries SET status = 'failed', last_error = \(error), updated_at = \(now), lease_until = NULL, lease_owner = NULL
                WHERE endpoint = \(target) AND status = 'pending' AND (lease_until IS NULL OR lease_until <= \(now))
                RETURNING \(unescaped: Session.stateColumns)
                """)
        }.sorted { $0.id < $1.id }
    }

    public func requeueFailed(now: Int64) throws -> Int {
        try transaction("re-queueing failed deliveries") { session in
            try await session.notifying(try await session.count("""
                WITH requeued AS (
                    UPDATE deliveries SET status = 'pending', next_attempt_at = \(now), attempts = 0, updated_at = \(now)
                    WHERE status = 'failed' RETURNING 1)
                SELECT count(*) FROM requeued
                """))
        }
    }

    public func pendingStates(now: Int64) throws -> [DeliveryState] {
        try run("reading pending deliveries") { [owner] session in
            try await session.states("""
                SELECT \(unescaped: Session.stateColumns) FROM deliveries
                WHERE status = 'pending' AND (lease_until IS NULL OR lease_until <= \(now) OR lease_owner = \(owner))
                ORDER BY id
                """)
        }
    }

    public func release(_ deliveries: [ClaimedDelivery]) throws {
        guard !deliveries.isEmpty else { return }
        let ids = deliveries.map(\.id), claims = deliveries.map(\.claim)
        try transaction("releasing claims") { session in
            try await session.execute("""
                UPDATE deliveries d SET lease_until = NULL, lease_owner = NULL
                FROM unnest(\(ids)::bigint[], \(claims)::bigint[]) AS r(id, claim)
                WHERE d.id = r.id AND d.claim = r.claim
                """)
            // Another instance may claim them now.
            try await session.notify(.deliveries)
        }
    }

    /// Whether a write can be made now (`/readyz`): the server answers and is not a read-only standby.
    public func isWritable() -> Bool {
        (try? run("checking the database", timeout: .seconds(2)) { session in
            try await session.optionalInt("SELECT CASE WHEN pg_is_in_recovery() THEN 0 ELSE 1 END")
        }) == 1
    }
}

extension PostgresStore {
    /// Runs `statements` one after another on the database at `location`, outside any
    /// transaction and without the store's schema: what a test or a setup script does first
    /// (`CREATE DATABASE`, `CREATE SCHEMA`).
    public static func execute(_ statements: [String], at location: PostgresLocation, logger: Logger = defaultLogger) throws {
        let bridge = BlockingBridge()
        let client = PostgresClient(configuration: location.configuration, eventLoopGroup: bridge.eventLoop, backgroundLogger: logger)
        let runner = Task.detached(executorPreference: bridge.executor) { await client.run() }
        defer { runner.cancel() }
        do {
            try bridge.run(timeout: location.configuration.options.connectTimeout + .seconds(60)) {
                try await client.withConnection { connection in
                    for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                }
            }
        } catch {
            throw PostgresStoreError(error, doing: "running statements", location: location.redacted)
        }
    }
}
