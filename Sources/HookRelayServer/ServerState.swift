import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayDelivery
import HookRelayStore
import Logging
import Synchronization
import Tracing

/// The daemon's shared state: the one writer connection (on a serial queue of its own, since
/// SQLite calls block; ingest, the API and the dispatcher share it), the readers, the webhooks as last written, and ingest with group commit.
final class ServerState: StoreAccess {
    let configuration: ServeConfiguration
    let logger: Logger
    let sender: any DeliverySending
    /// The wall clock, Unix milliseconds: tests give a fake one.
    let now: @Sendable () -> Int64
    /// The webhooks and what ingest and the dispatcher derive from them, replaced whole by each
    /// change (``refreshWebhook(_:)``, ``reloadWebhooks()``, ``healthChanged(_:from:to:)``).
    private let directory: Mutex<WebhookDirectory>
    /// The operator's actions, on this state's connection.
    let admin: Admin
    /// Parses event bodies off the cooperative pool, within the parse budget.
    let parser: IngestParser
    /// Holds off clients that keep sending wrong tokens.
    let authThrottle: AuthThrottle
    /// The stored API tokens, as ``BearerAuth`` checks them.
    let tokens: TokenDirectory
    let teamIngest: TeamIngestLimiter
    /// What the stores share (PostgreSQL's client) and the changes other processes announce.
    let database: ServeDatabase
    /// The longest the idle dispatcher sleeps, and the pause between two looks at the webhooks'
    /// version: what another process changed is seen within them when nothing announces it.
    let idleWait: Duration
    let webhookPoll: Duration

    private let store: SerialStore
    /// A read-only connection for `GET /metrics`, on a queue of its own: a scrape's queries never
    /// wait behind ingest's commits, nor hold them up (WAL readers do not block the writer).
    private let statistics: SerialStore
    /// The API's and the web page's reads: a read-only connection on a queue of its own, so
    /// they never wait behind (or hold up) ingest's group commits on ``store``.
    private let reader: SerialStore
    let metrics: ServerMetrics
    /// The `delivery.failed` alerts' windows (AlertService.swift).
    let alerter = Alerter()
    /// The tracer while traces are exported (`otel_endpoint`); nil: no span work at all.
    let tracer: (any Tracer)?
    /// The requests waiting for a commit; whether one is under way; and whether ingest's last
    /// commit failed for want of the database (such failures are logged once per outage, not
    /// once per group commit). One lock: the flag as a `Mutex<Bool>` of its own crashed the
    /// release build's compiler in `init` (Swift 6.3.1, "Found ownership error").
    private let pending = Mutex<(batch: [IngestRequest], committing: Bool, outage: Bool)>(([], false, false))

    /// One `POST /v1/events` waiting for the commit that includes it.
    private struct IngestRequest {
        var events: IngestBatch
        var continuation: CheckedContinuation<[Bool], any Error>
    }

    init(
        configuration: ServeConfiguration, logger: Logger, sender: any DeliverySending, now: @escaping @Sendable () -> Int64 = UnixTime.now,
        idleWait: Duration? = nil, tracer: (any Tracer)? = nil
    ) throws {
        self.now = now
        self.tracer = tracer
        self.configuration = configuration
        self.logger = logger
        self.sender = sender
        parser = IngestParser(budget: configuration.effectiveParseBudget, teamField: configuration.teamField)
        authThrottle = AuthThrottle(limits: configuration.limits, logger: logger)
        metrics = ServerMetrics(perWebhook: configuration.metricsPerWebhook ? configuration.metricsWebhooks : nil)
        database = try ServeDatabase(configuration: configuration, logger: logger)
        // Heard changes wake the dispatcher and reload the webhooks at once: the polls are a safety net.
        let heard = database.changes != nil
        self.idleWait = idleWait ?? (heard ? DispatchService.heardIdleWait : DispatchService.idleWait)
        webhookPoll = heard ? .seconds(30) : .seconds(1)
        let store = try database.open(role: .writer)
        // Attempts made here (an operator's retry or test) count towards health like the dispatcher's.
        store.healthPolicy = configuration.healthPolicy
        directory = Mutex(WebhookDirectory(try store.webhooks(), version: try store.webhooksVersion()))
        self.store = SerialStore(store)
        statistics = SerialStore(try database.open(role: .reader), label: "hookrelay.statistics")
        reader = SerialStore(try database.open(role: .reader), label: "hookrelay.reader")
        admin = Admin(
            store: self.store, reader: reader, sender: sender, configuration: configuration, metrics: metrics, tracer: tracer, now: now)
        tokens = TokenDirectory(admin: admin, now: now)
        teamIngest = TeamIngestLimiter(rate: configuration.teamIngestRate)
        store.onHealthChange = { [unowned self] in healthChanged($0, from: $1, to: $2) }
        // For the admin commands and the web page: how long the log is kept.
        try store.storeRetention(configuration.retention?.milliseconds ?? 0)
        if configuration.retention != nil, try !store.canReclaimSpace() {
            logger.notice("""
                this database file was made before hookrelay gave pruned space back: its free pages are reused, but the file \
                does not shrink; to turn that on, stop serve once and run sqlite3 FILE 'PRAGMA auto_vacuum = INCREMENTAL; VACUUM'
                """, metadata: ["db": "\(configuration.database)"])
        }
    }

    /// Reads the webhooks again when they changed (through the API, in another process, or in
    /// health). Returns whether their settings had changed.
    @discardableResult
    func reloadWebhooks() async throws -> Bool {
        let known = directory.withLock { $0.version }
        guard let (webhooks, version) = try await withStore({ store -> ([Webhook], WebhooksVersion)? in
            let version = try store.webhooksVersion()
            return version == known ? nil : (try store.webhooks(), version)
        }) else { return false }
        // Reloads may end out of order: an older snapshot never replaces a newer one.
        let replaced = directory.withLock { directory -> WebhooksVersion? in
            guard let next = directory.replaced(by: webhooks, at: version) else { return nil }
            defer { directory = next }
            return directory.version
        }
        guard let replaced else { return false }
        wakeDispatcher()
        return version.settings != replaced.settings
    }

    /// Applies a change this process made to one webhook, without reading the others: the
    /// directory takes the webhook as stored, and moves to the stored version when that is the
    /// next one (else another change came between, and the watcher reloads everything).
    func refreshWebhook(_ id: String) async throws {
        let (webhook, version) = try await withStore { store in (try store.webhook(id: id), try store.webhooksVersion()) }
        let applied = directory.withLock { directory -> Bool in
            guard let next = directory.refreshed(id, to: webhook, at: version) else { return false }
            directory = next
            return true
        }
        guard applied else { return }
        wakeDispatcher()
    }

    /// Wakes the dispatcher's store thread, which otherwise sleeps until the next delivery
    /// falls due (at most ``idleWait``): new deliveries were committed or made due.
    func wakeDispatcher() {
        dispatcherWake.withLock { $0 }?()
    }

    /// Set by the dispatch service once its dispatcher runs.
    func setDispatcherWake(_ wake: (@Sendable () -> Void)?) {
        dispatcherWake.withLock { $0 = wake }
    }

    private let dispatcherWake = Mutex<(@Sendable () -> Void)?>(nil)

    /// The webhooks whose deliveries wait.
    var pausedWebhooks: Set<String> { directory.withLock { $0.paused } }
    /// The webhooks with a rate limit or an ordering, claimed under them.
    var ruledWebhooks: [String: DeliveryRules] { directory.withLock { $0.ruled } }

    /// The dispatcher's queue. SQLite: the same connection as ingest and the API, each call in
    /// its turn on the writer's queue (``SharedWriterQueue``). A database server orders
    /// concurrent writers itself: a store of the dispatcher's own on the shared pool, whose
    /// rounds neither wait for ingest's commits nor make ingest wait, and go on from one to the
    /// next on the pool's event loop (``ChainedRounds``).
    func dispatcherQueue() throws -> sending any DeliveryQueue {
        guard database.isServer else { return SharedWriterQueue(store) }
        let queue = try database.open(role: .writer)
        queue.healthPolicy = configuration.healthPolicy
        queue.onHealthChange = { [unowned self] in healthChanged($0, from: $1, to: $2) }
        try queue.setDurableCommits(false)
        return queue
    }

    func withStore<T: Sendable>(_ body: @escaping @Sendable (any ServeStore) throws -> T) async throws -> T {
        try await store.withStore(body)
    }

    /// Runs a read on the reader connection (see ``reader``).
    func read<T: Sendable>(_ body: @escaping @Sendable (any ServeStore) throws -> T) async throws -> T {
        try await reader.withStore(body)
    }

    // MARK: Webhooks

    /// The webhook as the dispatcher sees it (settings and health state).
    func webhook(_ id: String) -> Webhook? {
        directory.withLock { $0.webhooks[id] }
    }

    /// Notes a health change the dispatcher or an operator's attempt committed: the webhook's
    /// state, and whether ingest skips its deliveries (its filter and pause are as they were).
    func healthChanged(_ id: String, from: Webhook.Health, to: Webhook.Health) {
        directory.withLock { $0 = $0.healthChanged(id, to: to) }
        logger.notice("webhook health changed", metadata: ["webhook": "\(id)", "from": "\(from.rawValue)", "to": "\(to.rawValue)"])
        raiseTransition(id, from: from, to: to)
    }

    /// Where alerts about `webhook` go: the config's destinations and its team's, but never
    /// its own URL.
    func alertDestinations(for webhook: Webhook) -> [Webhook] {
        directory.withLock { directory in
            directory.webhooks.values.filter { $0.receivesAlerts(of: webhook.team) && $0.url != webhook.url }.sorted { $0.id < $1.id }
        }
    }

    /// The metrics in the Prometheus text format, with the gauges read from the database now.
    /// Rendering on the statistics queue keeps concurrent scrapes from interleaving their gauge values.
    func renderMetrics() async throws -> [UInt8] {
        let metrics = self.metrics
        let existing = Set(directory.withLock { $0.webhooks.keys })
        return try await statistics.withStore { spool in
            let now = self.now()
            return metrics.render(try spool.statistics(now: now), now: now, existing: existing)
        }
    }

    func isReady() async -> Bool {
        (try? await withStore { $0.isWritable() }) ?? false
    }

    // MARK: Ingest

    /// What decides the deliveries of the events being parsed now: one per webhook whose filter
    /// an event matches, skipped when the webhook is disabled. A request takes it once.
    var ingestMatchers: IngestMatchers { directory.withLock { $0.matchers } }

    /// Commits events with their deliveries; returns, per event, whether it was a duplicate.
    /// Requests arriving while a commit runs are written together by the next one (group commit).
    func ingest(_ events: IngestBatch) async throws -> [Bool] {
        try await withCheckedThrowingContinuation { continuation in
            let lead = pending.withLock { state -> Bool in
                state.batch.append(IngestRequest(events: events, continuation: continuation))
                if state.committing { return false }
                state.committing = true
                return true
            }
            if lead { store.queue.async { self.commitPending() } }
        }
    }

    /// On the store queue: commits every waiting request in one transaction, then queues itself
    /// again while requests wait, so the dispatcher's calls and the API's changes queued
    /// meanwhile take their turn between two commits.
    private func commitPending() {
        let batch = pending.withLock { state -> [IngestRequest] in
            let batch = state.batch
            state.batch.removeAll()
            if batch.isEmpty { state.committing = false }
            return batch
        }
        guard !batch.isEmpty else { return }
        do {
            let duplicates = try store.durably { try $0.ingest(batch.map(\.events), now: now()) }
            if duplicates.contains(where: { $0.contains(false) }) { wakeDispatcher() }
            for (request, duplicates) in zip(batch, duplicates) { request.continuation.resume(returning: duplicates) }
            if pending.withLock({ state in defer { state.outage = false }; return state.outage }) {
                logger.notice("ingest: the database is back")
            }
        } catch {
            if !StoreOutage.isTransient(error) {
                logger.error("ingest failed", metadata: ["error": "\(error)"])
            } else if !pending.withLock({ state in defer { state.outage = true }; return state.outage }) {
                logger.error("ingest failed: the database is unavailable; answering 503 until it is back", metadata: ["error": "\(error)"])
            }
            for request in batch { request.continuation.resume(throwing: error) }
        }
        store.queue.async { self.commitPending() }
    }
}
