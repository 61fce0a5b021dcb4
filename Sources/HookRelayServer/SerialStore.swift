import Dispatch
import HookRelayAdmin
import HookRelayStore

/// A connection on a serial queue of its own (SQLite calls block). Only ever used on that
/// queue, which is what makes it safe to share.
final class SerialStore: StoreAccess, @unchecked Sendable {
    let spool: any ServeStore
    let queue: DispatchQueue

    init(_ spool: any ServeStore, label: String = "hookrelay.store") {
        self.spool = spool
        queue = DispatchQueue(label: label)
    }

    func withStore<T: Sendable>(_ body: @escaping @Sendable (any ServeStore) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try self.durably(body) }) }
        }
    }

    /// On the queue: runs `body` with every commit durable. The dispatcher's calls relax that
    /// (``SharedWriterQueue``) and leave it so for the next of theirs; this sets it back.
    func durably<T>(_ body: (any ServeStore) throws -> T) throws -> T {
        try spool.setDurableCommits(true)
        return try body(spool)
    }
}

/// The dispatcher's side of `serve`'s one writer connection: each call waits its turn on the
/// writer's queue, between ingest's group commits and the API's changes (instead of meeting them
/// in SQLite's busy handler on a second connection), and commits with relaxed durability.
///
/// Called from the dispatcher's store thread only, never from the writer's queue itself.
final class SharedWriterQueue: RuledClaims, @unchecked Sendable {
    private let writer: SerialStore

    init(_ writer: SerialStore) {
        self.writer = writer
    }

    private func run<T>(_ body: (any ServeStore) throws -> T) throws -> T {
        try writer.queue.sync {
            // Left relaxed for the next dispatcher call; every other use sets it back (``SerialStore/durably(_:)``).
            try writer.spool.setDurableCommits(false)
            return try body(writer.spool)
        }
    }

    func append(_ messages: [NewMessage], now: Int64) throws -> Int {
        try run { try $0.append(messages, now: now) }
    }

    func claim(limit: Int, now: Int64, lease: Int64, quota: TargetQuota?) throws -> [ClaimedDelivery] {
        try run { try $0.claim(limit: limit, now: now, lease: lease, quota: quota) }
    }

    func complete(_ outcomes: [DeliveryOutcome], now: Int64) throws -> [DeliveryState?] {
        try run { try $0.complete(outcomes, now: now) }
    }

    func completeAndClaim(
        _ outcomes: [DeliveryOutcome], limit: Int, now: Int64, lease: Int64, quota: TargetQuota?
    ) throws -> (states: [DeliveryState?], claimed: [ClaimedDelivery]) {
        try run { try $0.completeAndClaim(outcomes, limit: limit, now: now, lease: lease, quota: quota) }
    }

    func claimRuled(
        endpoint: String, rules: DeliveryRules, room: Int, perEndpoint: Int, now: Int64, lease: Int64
    ) throws -> (claimed: [ClaimedDelivery], tokenAt: Int64?) {
        try run { try $0.claimRuled(endpoint: endpoint, rules: rules, room: room, perEndpoint: perEndpoint, now: now, lease: lease) }
    }

    func nextDue(excluding: Set<String>) throws -> Int64? {
        try run { try $0.nextDue(excluding: excluding) }
    }

    func nextUnclaimedDue(excluding: Set<String>) throws -> Int64? {
        try run { try $0.nextUnclaimedDue(excluding: excluding) }
    }

    func failPending(target: String, error: String, now: Int64) throws -> [DeliveryState] {
        try run { try $0.failPending(target: target, error: error, now: now) }
    }

    func requeueFailed(now: Int64) throws -> Int {
        try run { try $0.requeueFailed(now: now) }
    }

    func pendingStates(now: Int64) throws -> [DeliveryState] {
        try run { try $0.pendingStates(now: now) }
    }

    func release(_ deliveries: [ClaimedDelivery]) throws {
        try run { try $0.release(deliveries) }
    }

    /// The dispatcher sets nothing here: every call relaxes durability for itself.
    func setDurableCommits(_ durable: Bool) throws {}
}
