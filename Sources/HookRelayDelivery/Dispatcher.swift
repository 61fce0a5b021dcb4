import Foundation
import HookRelayCore
import HookRelayStore

/// Hands due deliveries from a ``DeliveryQueue`` to workers, and records what they did.
///
/// The store is used by one thread of the dispatcher's own (store calls block: disk writes,
/// lock waits), which in each round writes the outcomes the workers reported and claims more
/// due deliveries, in one transaction. Workers only wait for a job and report its outcome, so
/// no worker ever waits for the disk. The run is over when the input is done, nothing is in
/// flight or buffered, and nothing pending falls due before `waitUntil`.
public final class Dispatcher: @unchecked Sendable {
    /// Hears about deliveries that reached a final state, and (at the end) those still pending.
    public typealias Report = @Sendable (DeliveryState) -> Void

    // Everything below is guarded by `condition`.
    private let condition = NSCondition()
    private var store: any DeliveryQueue
    private var buffer: [ClaimedDelivery] = []
    private var bufferStart = 0
    private var waiters: [CheckedContinuation<ClaimedDelivery?, Never>] = []
    private var outcomes: [DeliveryOutcome] = []
    private var appends: [NewMessage] = []
    private var gone: Set<String> = []
    private var newlyGone: [(endpoint: String, error: String)] = []
    /// Claimed but not handed out when stopping, to hand back to the store.
    private var releasing: [ClaimedDelivery] = []
    /// Deliveries attempted in this run and waiting for a retry (for the progress line).
    private var unfinished: Set<Int64> = []
    private var inFlight = 0
    /// Deliveries claimed (buffered or in flight) per endpoint, when a per-endpoint limit is set.
    private var perEndpoint: [String: Int] = [:]
    private var outstanding = 0
    private var inputDone = false
    /// Shutting down: no new jobs; in-flight ones are recorded, buffered ones given back.
    private var stopping = false
    /// The store thread has told the store that the input is done.
    private var ingestFinishedSeen = false
    private var finished = false
    private var failure: (any Error)?

    private let claimBatch: Int
    private let maxPerEndpoint: Int?
    /// Endpoints that get nothing for now (paused webhooks), asked each round.
    private let heldEndpoints: (@Sendable () -> Set<String>)?
    private let lease: Int64
    private let now: @Sendable () -> Int64
    private let report: Report
    private let promptOutcomes: Bool
    private let progress: @Sendable (_ retrying: Int) -> Void
    /// No waiting for deliveries due after this time (Unix ms); nil waits for all of them.
    private let waitUntil: Int64?
    /// The longest idle sleep while the input goes on (`serve`): the store thread then sleeps
    /// until the next delivery falls due or it is woken (``inputArrived()``), at most this long
    /// (what another process changed is seen within it). Nil polls every ``idlePoll`` ms.
    private let idleWait: Int64?
    /// Woken since the store thread last looked: new input or a change to act on.
    private var woken = false

    /// Outcomes that make the store thread write a batch before workers run short of jobs.
    static let outcomeBatch = 64

    /// How long the store thread sleeps when nothing is due and nothing happens.
    static let idlePoll: Int64 = 20

    public init(
        store: sending any DeliveryQueue, claimBatch: Int, lease: Duration, waitUntil: Int64?,
        maxPerEndpoint: Int? = nil, heldEndpoints: (@Sendable () -> Set<String>)? = nil, idleWait: Duration? = nil,
        now: @escaping @Sendable () -> Int64, report: @escaping Report,
        progress: @escaping @Sendable (_ retrying: Int) -> Void = { _ in }
    ) {
        self.idleWait = idleWait?.milliseconds
        self.maxPerEndpoint = maxPerEndpoint
        self.heldEndpoints = heldEndpoints
        self.progress = progress
        // Outcomes arriving while a transaction runs are written together by the next one.
        promptOutcomes = store.inMemoryOutstanding == nil
        self.store = store
        self.claimBatch = max(1, claimBatch)
        self.lease = lease.milliseconds
        self.waitUntil = waitUntil
        self.now = now
        self.report = report
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    // MARK: The reader's side

    /// Queues messages for the store thread to append (the in-memory store, which only that
    /// thread touches), then waits while more than `limit` deliveries are outstanding.
    public func append(_ messages: [NewMessage], limit: Int) {
        condition.lock()
        defer { condition.unlock() }
        appends += messages
        outstanding += messages.reduce(0) { $0 + $1.endpoints.count }
        condition.broadcast()
        while outstanding >= limit, !finished { condition.wait() }
    }

    /// New messages are in the store (a spool written by another connection), or deliveries
    /// became due (a webhook resumed, failed ones re-queued): claim now.
    public func inputArrived() {
        locked {
            woken = true
            condition.broadcast()
        }
    }

    /// The input has no more messages.
    public func inputFinished() {
        locked {
            inputDone = true
            condition.broadcast()
        }
    }

    /// Stops handing out deliveries; the store thread records what is in flight, gives back what
    /// it had claimed but not handed out, and ends the run.
    public func stop() {
        locked {
            stopping = true
            for waiter in waiters { waiter.resume(returning: nil) }
            waiters.removeAll()
            condition.broadcast()
        }
    }

    // MARK: The workers' side

    /// The next delivery to attempt, or nil when the run is over.
    public func next() async -> ClaimedDelivery? {
        await withCheckedContinuation { continuation in
            locked {
                if stopping {
                    continuation.resume(returning: nil)
                } else if bufferStart < buffer.count {
                    inFlight += 1
                    bufferStart += 1
                    continuation.resume(returning: buffer[bufferStart - 1])
                } else if finished {
                    continuation.resume(returning: nil)
                } else {
                    waiters.append(continuation)
                    condition.broadcast()
                }
            }
        }
    }

    /// Records an attempt. Deliveries to an endpoint that answered 410 are failed at once.
    public func finish(_ outcome: DeliveryOutcome, endpointGone: Bool = false) {
        locked {
            inFlight -= 1
            if maxPerEndpoint != nil { perEndpoint[outcome.delivery.endpoint, default: 1] -= 1 }
            outcomes.append(outcome)
            if endpointGone, gone.insert(outcome.delivery.endpoint).inserted {
                newlyGone.append((outcome.delivery.endpoint, outcome.attempt.error ?? "410 Gone"))
            }
            // A durable store records each outcome at once (what a crash would otherwise resend);
            // in memory, the store thread is woken for a batch's worth.
            if promptOutcomes || outcomes.count >= Self.outcomeBatch || inFlight == 0 || !waiters.isEmpty || !newlyGone.isEmpty {
                condition.broadcast()
            }
        }
    }

    /// Whether an endpoint answered 410 Gone earlier in this run.
    public func isGone(_ endpoint: String) -> Bool {
        locked { gone.contains(endpoint) }
    }

    // MARK: The store thread

    /// Runs the store thread until the run is over; returns the deliveries still pending in
    /// the store (but those another running process holds) when `reportingPending`, or throws
    /// the store's error.
    @discardableResult
    public func run(reportingPending: Bool = true) async throws -> [DeliveryState] {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[DeliveryState], any Error>) in
            let thread = Thread { [self] in
                do {
                    try loop()
                    continuation.resume(returning: reportingPending ? try store.pendingStates(now: now()) : [])
                } catch {
                    locked {
                        failure = error
                        finishLocked()
                    }
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "hookrelay-store"
            thread.start()
        }
    }

    private func loop() throws {
        while true {
            condition.lock()
            let outcomes = self.outcomes
            let appends = self.appends
            let release = releasing
            releasing.removeAll()
            let gone = newlyGone
            self.outcomes.removeAll(keepingCapacity: true)
            self.appends.removeAll(keepingCapacity: true)
            newlyGone.removeAll()
            var wanted = max(0, claimBatch - (buffer.count - bufferStart))
            let stoppingNow = stopping
            if stopping {
                wanted = 0
                releasing += buffer[bufferStart...]
                buffer.removeAll()
                bufferStart = 0
            }
            // Endpoints at their limit get nothing this round: a slow one cannot take every worker.
            var quota = maxPerEndpoint.map { EndpointQuota(limit: $0, held: perEndpoint) }
            if let held = heldEndpoints?(), !held.isEmpty {
                quota = EndpointQuota(limit: maxPerEndpoint ?? Int.max, held: perEndpoint, paused: held)
            }
            let ingestJustFinished = inputDone && !ingestFinishedSeen
            ingestFinishedSeen = inputDone
            // This round claims whatever the wake-up was about.
            woken = false
            condition.unlock()

            if ingestJustFinished { try store.ingestFinished() }
            let time = now()
            if !appends.isEmpty { _ = try store.append(appends, now: time) }
            if !release.isEmpty { try store.release(release) }
            var failedByGone: [DeliveryState] = []
            if !gone.isEmpty {
                // Outcomes first, so the 410 itself is recorded before the rest are failed.
                apply(try store.complete(outcomes, now: time))
                for (endpoint, error) in gone {
                    failedByGone += try store.failPending(endpoint: endpoint, error: error, now: time)
                }
            }
            let (states, claimed) = try store.completeAndClaim(
                gone.isEmpty ? outcomes : [], limit: wanted, now: time, lease: lease, quota: quota)
            apply(states)
            for state in failedByGone { report(state) }
            let memoryOutstanding = store.inMemoryOutstanding

            condition.lock()
            if let memoryOutstanding {
                outstanding = memoryOutstanding + self.appends.reduce(0) { $0 + $1.endpoints.count }
            }
            for state in failedByGone { unfinished.remove(state.id) }
            // Drop the jobs already handed out, so the buffer holds only what waits.
            if bufferStart > 0 {
                buffer.removeFirst(bufferStart)
                bufferStart = 0
            }
            if maxPerEndpoint != nil {
                for job in claimed { perEndpoint[job.endpoint, default: 0] += 1 }
            }
            buffer += claimed
            while !waiters.isEmpty, bufferStart < buffer.count {
                inFlight += 1
                bufferStart += 1
                waiters.removeFirst().resume(returning: buffer[bufferStart - 1])
            }
            condition.broadcast()
            let busy = !self.outcomes.isEmpty || !self.appends.isEmpty || !newlyGone.isEmpty || !releasing.isEmpty
            let idle = claimed.isEmpty && outcomes.isEmpty && appends.isEmpty && !busy
            condition.unlock()
            guard idle else { continue }
            if stoppingNow {
                condition.lock()
                let done = inFlight == 0 && self.outcomes.isEmpty && releasing.isEmpty
                if done { finishLocked() } else { _ = condition.wait(until: Date().addingTimeInterval(0.02)) }
                condition.unlock()
                if done { return }
                continue
            }

            // Until the input is done the run cannot end. `deliver` polls for what falls due
            // while it reads (no need to ask the store: a scan of every pending delivery);
            // `serve` asks the store when the next unclaimed delivery falls due and sleeps until
            // then or until woken. Held endpoints' deliveries are not waited for.
            let held = heldEndpoints?() ?? []
            let due: Int64?
            if ingestFinishedSeen {
                due = try store.nextDue(excluding: held)
            } else if let idleWait {
                due = try store.nextUnclaimedDue(excluding: held) ?? (now() + idleWait)
            } else {
                due = nil
            }
            condition.lock()
            if ingestFinishedSeen, inFlight == 0, bufferStart == buffer.count, self.outcomes.isEmpty, self.appends.isEmpty,
               due == nil || waitUntil.map({ due! > $0 }) ?? false {
                finishLocked()
                condition.unlock()
                return
            }
            let sleep: Int64
            if !ingestFinishedSeen, let idleWait, let due {
                // Due now but not claimed: its endpoints are at their limit (a finishing attempt
                // wakes this thread) or held; look again soon.
                let wait = due - now()
                sleep = wait <= 0 ? Self.idlePoll : min(idleWait, wait)
            } else {
                sleep = min(Self.idlePoll, max(1, (due ?? Int64.max) - now()))
            }
            if !woken, self.outcomes.isEmpty, self.appends.isEmpty, releasing.isEmpty, !stopping {
                _ = condition.wait(until: Date().addingTimeInterval(Double(sleep) / 1000))
            }
            condition.unlock()
        }
    }

    /// Ends the run: waiting workers get nil, a waiting reader is let go.
    private func finishLocked() {
        finished = true
        for waiter in waiters { waiter.resume(returning: nil) }
        waiters.removeAll()
        condition.broadcast()
    }

    /// Reports deliveries that reached a final state; remembers the ones still pending.
    private func apply(_ states: [DeliveryState?]) {
        var pending: [Int64] = []
        var done: [Int64] = []
        for case let delivery? in states {
            if delivery.status == .pending {
                pending.append(delivery.id)
            } else {
                done.append(delivery.id)
                report(delivery)
            }
        }
        guard !pending.isEmpty || !done.isEmpty else { return }
        let retrying = locked {
            unfinished.formUnion(pending)
            unfinished.subtract(done)
            return unfinished.count
        }
        progress(retrying)
    }
}
