/// An in-memory ``DeliveryQueue`` for `deliver` without `--spool`: the same queue semantics
/// with nothing kept after the process ends. Finished deliveries are forgotten at once, so
/// memory holds only what is outstanding; there is no de-duplication across messages.
public final class MemoryStore: DeliveryQueue {
    private struct Entry {
        var state: DeliveryState
        var body: [UInt8]
        var claim: Int64 = 0
        var leaseUntil: Int64?
        var createdAt: Int64
        /// When it can next be claimed: the end of its lease, else its next attempt.
        var dueAt: Int64 { leaseUntil ?? state.nextAttemptAt }
    }

    private var entries: [Int64: Entry] = [:]
    private var nextID: Int64 = 1
    /// Pending deliveries by `dueAt` (a min-heap of (time, id); entries whose time no longer
    /// matches are stale and skipped).
    private var due = Heap()

    public init() {}

    /// Deliveries neither delivered nor failed: what a reader's backpressure counts.
    public private(set) var outstanding = 0

    public var inMemoryOutstanding: Int? { outstanding }

    /// Nothing here reaches a disk.
    public func setDurableCommits(_ durable: Bool) throws {}

    public func append(_ messages: [NewMessage], now: Int64) throws -> Int {
        var added = 0
        for message in messages {
            for endpoint in message.targets {
                let id = nextID
                nextID += 1
                entries[id] = Entry(
                    state: DeliveryState(
                        id: id, messageID: message.messageID, target: endpoint, status: .pending, attempts: 0,
                        lastHTTPStatus: nil, lastError: nil, lastLatencyMilliseconds: nil, nextAttemptAt: now),
                    body: message.body, createdAt: now)
                due.push((now, id))
                added += 1
                outstanding += 1
            }
        }
        return added
    }

    public func claim(limit: Int, now: Int64, lease: Int64, quota: TargetQuota?) throws -> [ClaimedDelivery] {
        // Entries of finished or rescheduled deliveries stay in the heap until their time; when
        // they outnumber the live ones, rebuild it so memory follows what is outstanding.
        if due.count > 2 * entries.count + 1024 {
            due = Heap()
            for (id, entry) in entries { due.push((entry.dueAt, id)) }
        }
        var claimed: [ClaimedDelivery] = []
        var held: [(Int64, Int64)] = []
        var quota = quota
        defer { for item in held { due.push(item) } }
        while claimed.count < limit, let (time, id) = due.top, time <= now {
            due.pop()
            guard var entry = entries[id], entry.dueAt == time else { continue }
            if let free = quota?.free(entry.state.target) {
                guard free > 0 else {
                    held.append((time, id))
                    continue
                }
                quota?.held[entry.state.target, default: 0] += 1
            }
            entry.claim += 1
            entry.leaseUntil = now + lease
            entries[id] = entry
            due.push((entry.dueAt, id))
            claimed.append(ClaimedDelivery(
                id: id, claim: entry.claim, messageID: entry.state.messageID, body: entry.body,
                target: entry.state.target, attempts: entry.state.attempts, createdAt: entry.createdAt))
        }
        return claimed
    }

    public func complete(_ outcomes: [DeliveryOutcome], now: Int64) throws -> [DeliveryState?] {
        outcomes.map { outcome in
            guard var entry = entries[outcome.delivery.id], entry.claim == outcome.delivery.claim else { return nil }
            entry.leaseUntil = nil
            if outcome.counted { entry.state.attempts += 1 }
            entry.state.lastHTTPStatus = outcome.attempt.httpStatus
            entry.state.lastError = outcome.attempt.error
            entry.state.lastLatencyMilliseconds = outcome.attempt.latencyMilliseconds
            switch outcome.next {
            case .delivered, .failed, .settled:
                let stored = outcome.next.stored(now: now)
                entry.state.status = stored.status
                entry.state.ref = stored.ref
                outstanding -= 1
                entries[outcome.delivery.id] = nil
                return entry.state
            case let .retry(at):
                entry.state.nextAttemptAt = at
                due.push((at, outcome.delivery.id))
            }
            entries[outcome.delivery.id] = entry
            return entry.state
        }
    }

    public func nextDue(excluding: Set<String>) throws -> Int64? {
        if !excluding.isEmpty {
            return entries.values.lazy.filter { !excluding.contains($0.state.target) }.map(\.dueAt).min()
        }
        // The heap's top may be stale (finished or moved); skip those.
        while let (time, id) = due.top {
            if let entry = entries[id], entry.dueAt == time { return time }
            due.pop()
        }
        return nil
    }

    public func nextUnclaimedDue(excluding: Set<String>) throws -> Int64? {
        try nextDue(excluding: excluding)
    }

    public func release(_ deliveries: [ClaimedDelivery]) throws {
        for delivery in deliveries {
            guard var entry = entries[delivery.id], entry.claim == delivery.claim else { continue }
            entry.leaseUntil = nil
            entries[delivery.id] = entry
            due.push((entry.dueAt, delivery.id))
        }
    }

    public func failPending(target endpoint: String, error: String, now: Int64) throws -> [DeliveryState] {
        var failed: [DeliveryState] = []
        for (id, var entry) in entries where entry.state.target == endpoint && entry.state.status == .pending && entry.leaseUntil == nil {
            entry.state.status = .failed
            entry.state.lastError = error
            entries[id] = nil
            outstanding -= 1
            failed.append(entry.state)
        }
        return failed
    }

    public func requeueFailed(now: Int64) throws -> Int { 0 }

    public func pendingStates(now: Int64) throws -> [DeliveryState] {
        entries.values.map(\.state).sorted { $0.id < $1.id }
    }
}

/// A binary min-heap of (time, id).
private struct Heap {
    private var items: [(Int64, Int64)] = []

    var top: (Int64, Int64)? { items.first }
    var count: Int { items.count }

    private static func less(_ a: (Int64, Int64), _ b: (Int64, Int64)) -> Bool { a.0 < b.0 || (a.0 == b.0 && a.1 < b.1) }

    mutating func push(_ item: (Int64, Int64)) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count, Self.less(items[left], items[smallest]) { smallest = left }
            if right < items.count, Self.less(items[right], items[smallest]) { smallest = right }
            if smallest == parent { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
