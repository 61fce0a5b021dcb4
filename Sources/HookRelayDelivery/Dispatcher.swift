import HookRelayCore
import HookRelayStore
import Synchronization

/// Hands due deliveries from a ``DeliveryStore`` to workers, and records what they did.
///
/// One worker at a time (the leader) claims from the store; the others wait for it. Outcomes
/// are written in batches, one transaction per batch. The dispatcher finishes when the input
/// is done, nothing is in flight, and nothing pending falls due before `waitUntil`.
public final class Dispatcher: Sendable {
    /// Something that wants to hear about deliveries that reached a final state, or not.
    public typealias Report = @Sendable (DeliveryState) -> Void

    private struct State: ~Copyable {
        var store: any DeliveryStore
        var buffer: [ClaimedDelivery] = []
        var next = 0
        var inFlight = 0
        var outcomes: [DeliveryOutcome] = []
        var inputDone = false
        var finished = false
        var leading = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var gone: Set<String> = []
        /// Deliveries attempted in this run and not yet delivered or failed.
        var unfinished: Set<Int64> = []
    }

    private let state: Mutex<State>
    private let claimBatch: Int
    private let lease: Int64
    private let now: @Sendable () -> Int64
    private let report: Report
    /// No waiting for deliveries due after this time (Unix ms); nil waits for all of them.
    private let waitUntil: Int64?

    static let outcomeBatch = 64
    static let idlePoll = Duration.milliseconds(20)

    public init(
        store: sending any DeliveryStore, claimBatch: Int, lease: Duration, waitUntil: Int64?,
        now: @escaping @Sendable () -> Int64, report: @escaping Report
    ) {
        state = Mutex(State(store: store))
        self.claimBatch = max(1, claimBatch)
        self.lease = lease.milliseconds
        self.waitUntil = waitUntil
        self.now = now
        self.report = report
    }

    /// Appends messages to the dispatcher's own store (the in-memory store, which the reader
    /// shares with the workers). Returns how many deliveries were added.
    @discardableResult
    public func append(_ messages: [NewMessage]) throws -> Int {
        try state.withLock { try $0.store.append(messages, now: now()) }
    }

    /// Deliveries of the in-memory store not yet delivered or failed.
    public var outstanding: Int {
        state.withLock { ($0.store as? MemoryStore)?.outstanding ?? 0 }
    }

    /// The input has no more messages.
    public func inputFinished() {
        state.withLock { $0.inputDone = true }
    }

    /// The next delivery to attempt, or nil when the run is over.
    public func next() async throws -> ClaimedDelivery? {
        while true {
            enum Step { case job(ClaimedDelivery), done, wait, lead }
            let step: Step = state.withLock { state in
                if state.next < state.buffer.count {
                    state.next += 1
                    state.inFlight += 1
                    return .job(state.buffer[state.next - 1])
                }
                if state.finished { return .done }
                if state.leading { return .wait }
                state.leading = true
                return .lead
            }
            switch step {
            case let .job(job): return job
            case .done: return nil
            case .wait:
                await withCheckedContinuation { continuation in
                    state.withLock { state in
                        if state.finished || !state.leading || state.next < state.buffer.count {
                            continuation.resume()
                        } else {
                            state.waiters.append(continuation)
                        }
                    }
                }
            case .lead:
                try await lead()
            }
        }
    }

    /// Claims until there is work or the run is over, then wakes the waiting workers.
    private func lead() async throws {
        while true {
            enum Step { case work, done, sleep(Duration) }
            let step: Step = try state.withLock { state in
                do {
                    try flush(&state)
                    let time = now()
                    let claimed = try state.store.claim(limit: claimBatch, now: time, lease: lease)
                    if !claimed.isEmpty {
                        state.buffer = claimed
                        state.next = 0
                        return .work
                    }
                    let due = try state.store.nextDue()
                    if state.inputDone, state.inFlight == 0 {
                        if due == nil || (waitUntil.map { due! > $0 } ?? false) {
                            state.finished = true
                            return .done
                        }
                    }
                    let untilDue = due.map { Duration.milliseconds(max(1, $0 - time)) } ?? Self.idlePoll
                    return .sleep(min(untilDue, Self.idlePoll))
                } catch {
                    state.finished = true
                    Self.wake(&state)
                    throw error
                }
            }
            switch step {
            case .work, .done:
                state.withLock { state in
                    state.leading = false
                    Self.wake(&state)
                }
                return
            case let .sleep(duration):
                try await Task.sleep(for: duration)
            }
        }
    }

    private static func wake(_ state: inout State) {
        let waiters = state.waiters
        state.waiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    /// Records an attempt. Deliveries to an endpoint that answered 410 are failed at once.
    public func finish(_ outcome: DeliveryOutcome, endpointGone: Bool = false) throws {
        try state.withLock { state in
            state.inFlight -= 1
            state.outcomes.append(outcome)
            if endpointGone, state.gone.insert(outcome.delivery.endpoint).inserted {
                try flush(&state)
                let error = outcome.attempt.error ?? "410 Gone"
                for failed in try state.store.failPending(endpoint: outcome.delivery.endpoint, error: error, now: now()) {
                    state.unfinished.remove(failed.id)
                    report(failed)
                }
            }
            if state.outcomes.count >= Self.outcomeBatch || state.inFlight == 0 { try flush(&state) }
        }
    }

    /// Whether an endpoint answered 410 Gone earlier in this run.
    public func isGone(_ endpoint: String) -> Bool {
        state.withLock { $0.gone.contains(endpoint) }
    }

    private func flush(_ state: inout State) throws {
        guard !state.outcomes.isEmpty else { return }
        let outcomes = state.outcomes
        state.outcomes.removeAll(keepingCapacity: true)
        let states = try state.store.complete(outcomes, now: now())
        for case let delivery? in states {
            if delivery.status == .pending {
                state.unfinished.insert(delivery.id)
            } else {
                state.unfinished.remove(delivery.id)
                report(delivery)
            }
        }
    }

    /// Writes outstanding outcomes and returns the deliveries this run attempted that are still pending.
    public func close() throws -> [DeliveryState] {
        try state.withLock { state in
            try flush(&state)
            return try state.store.states(ids: state.unfinished.sorted()).filter { $0.status == .pending }
        }
    }
}
