import Foundation
import HookRelayCore
import HookRelayDelivery
import HookRelayStore
import Logging
import Synchronization

/// The daemon's shared state: the API's database connection (on a serial queue of its own,
/// since SQLite calls block), the webhooks as last written, and ingest with group commit.
final class ServerState: Sendable {
    let configuration: ServeConfiguration
    let logger: Logger
    let sender: HTTPSender
    /// The webhooks, kept equal to the database by every change made through this state.
    private let directory: Mutex<[String: Webhook]>
    /// What ingest needs of each webhook, rebuilt when one changes rather than for every event.
    private let matchers = Mutex<[(id: String, filter: Filter, disabled: Bool)]>([])

    private let queue = DispatchQueue(label: "hookrelay.store")
    private let box: StoreBox
    /// A read-only connection for `GET /metrics`, on a queue of its own: a scrape's queries never
    /// wait behind ingest's commits, nor hold them up (WAL readers do not block the writer).
    private let statisticsQueue = DispatchQueue(label: "hookrelay.statistics")
    private let statisticsBox: StoreBox
    let metrics = ServerMetrics()
    private let pending = Mutex<(batch: [IngestRequest], committing: Bool)>(([], false))
    private let layout = EventLayout()

    /// One `POST /v1/events` waiting for the commit that includes it.
    private struct IngestRequest {
        var events: [IngestedEvent]
        var continuation: CheckedContinuation<[Bool], any Error>
    }

    init(configuration: ServeConfiguration, logger: Logger, sender: HTTPSender) throws {
        self.configuration = configuration
        self.logger = logger
        self.sender = sender
        let store = try SQLiteSpool(path: configuration.database, durableWrites: true)
        box = StoreBox(store)
        statisticsBox = StoreBox(try SQLiteSpool.statisticsReader(path: configuration.database))
        directory = Mutex(Dictionary(uniqueKeysWithValues: try store.webhooks().map { ($0.id, $0) }))
        rebuildMatchers()
    }

    /// Changes the directory and the matchers derived from it.
    private func changeDirectory<T: Sendable>(_ body: (inout [String: Webhook]) -> T) -> T {
        let result = directory.withLock { body(&$0) }
        rebuildMatchers()
        return result
    }

    private func rebuildMatchers() {
        let snapshot = directory.withLock { $0.values.sorted { $0.id < $1.id } }
        matchers.withLock { $0 = snapshot.map { ($0.id, $0.filter, $0.state == .disabled) } }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Runs `body` with the store on the store queue.
    private func withStore<T: Sendable>(_ body: @escaping @Sendable (SQLiteSpool) throws -> T) async throws -> T {
        let box = self.box
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body(box.spool) }) }
        }
    }

    // MARK: Webhooks

    /// The webhooks as stored, with the health the dispatcher last wrote (for the API).
    func storedWebhooks() async throws -> [Webhook] {
        try await withStore { try $0.webhooks() }
    }

    func storedWebhook(_ id: String) async throws -> Webhook? {
        try await withStore { try $0.webhook(id: id) }
    }

    /// The webhook as the dispatcher sees it (settings and health state).
    func webhook(_ id: String) -> Webhook? {
        directory.withLock { $0[id] }
    }

    func create(_ webhook: Webhook) async throws {
        try await withStore { try $0.save(webhook) }
        changeDirectory { $0[webhook.id] = webhook }
    }

    /// Saves new settings; the health columns stay as the dispatcher left them.
    func update(_ webhook: Webhook) async throws -> Webhook? {
        guard let stored = try await withStore({ try $0.updateSettings(webhook) }) else { return nil }
        changeDirectory { $0[stored.id] = stored }
        return stored
    }

    /// Deletes a webhook with its pending deliveries; nil when there is no such webhook.
    func delete(_ id: String) async throws -> Int? {
        let discarded = try await withStore { try $0.deleteWebhook(id: id) }
        changeDirectory { $0[id] = nil }
        if let discarded { logger.info("webhook deleted", metadata: ["webhook": "\(id)", "discarded": "\(discarded)"]) }
        return discarded
    }

    func enable(_ id: String) async throws -> Webhook? {
        let now = Self.now()
        guard try await withStore({ try $0.enableWebhook(id: id, now: now) }) else { return nil }
        return changeDirectory { directory in
            directory[id]?.state = .healthy
            directory[id]?.consecutiveFailures = 0
            directory[id]?.failingSince = nil
            directory[id]?.updatedAt = now
            return directory[id]
        }
    }

    /// Notes a health change the dispatcher committed.
    func healthChanged(_ id: String, from: Webhook.Health, to: Webhook.Health) {
        changeDirectory { $0[id]?.state = to }
        logger.notice("webhook health changed", metadata: ["webhook": "\(id)", "from": "\(from.rawValue)", "to": "\(to.rawValue)"])
    }

    /// The metrics in the Prometheus text format, with the gauges read from the database now.
    func renderMetrics() async throws -> [UInt8] {
        let box = statisticsBox
        let metrics = self.metrics
        return try await withCheckedThrowingContinuation { continuation in
            // Rendering on the same serial queue keeps concurrent scrapes from interleaving
            // their gauge values.
            statisticsQueue.async {
                continuation.resume(with: Result {
                    let now = Self.now()
                    return metrics.render(try box.spool.statistics(now: now), now: now)
                })
            }
        }
    }

    func isReady() async -> Bool {
        (try? await withStore { $0.isWritable() }) ?? false
    }

    // MARK: Ingest

    /// The deliveries an event gets: one per webhook whose filter it matches (skipped when the
    /// webhook is disabled).
    func targets(for record: RecordView) -> [(webhook: String, skipped: Bool)] {
        matchers.withLock { matchers in
            matchers.compactMap { $0.filter.evaluate(record, layout: layout).matches ? ($0.id, $0.disabled) : nil }
        }
    }

    /// Commits events with their deliveries; returns, per event, whether it was a duplicate.
    /// Requests arriving while a commit runs are written together by the next one (group commit).
    func ingest(_ events: [IngestedEvent]) async throws -> [Bool] {
        try await withCheckedThrowingContinuation { continuation in
            let lead = pending.withLock { state -> Bool in
                state.batch.append(IngestRequest(events: events, continuation: continuation))
                if state.committing { return false }
                state.committing = true
                return true
            }
            if lead { queue.async { self.commitPending() } }
        }
    }

    /// On the store queue: commits every waiting request, one transaction per round, until none wait.
    private func commitPending() {
        while true {
            let batch = pending.withLock { state -> [IngestRequest] in
                let batch = state.batch
                state.batch.removeAll()
                if batch.isEmpty { state.committing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let duplicates = try box.spool.ingest(batch.flatMap(\.events), now: Self.now())
                var offset = 0
                for request in batch {
                    request.continuation.resume(returning: Array(duplicates[offset..<(offset + request.events.count)]))
                    offset += request.events.count
                }
            } catch {
                logger.error("ingest failed", metadata: ["error": "\(error)"])
                for request in batch { request.continuation.resume(throwing: error) }
            }
        }
    }
}

/// A connection only ever used on one of the state's serial queues, which is what makes it safe
/// to share.
private final class StoreBox: @unchecked Sendable {
    let spool: SQLiteSpool

    init(_ spool: SQLiteSpool) { self.spool = spool }
}
