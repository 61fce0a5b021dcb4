import Foundation
import HookRelayCore
import HookRelayStore

/// Hands due deliveries from a ``DeliveryQueue`` to workers, and records what they did: the
/// driver of a ``DispatchMachine``, which makes every decision. The driver owns the store
/// connection, the store thread, the lock and the workers' continuations.
///
/// The store is used by one thread of the dispatcher's own (store calls block: disk writes,
/// lock waits), which in each round writes the outcomes the workers reported and claims more
/// due deliveries, in one transaction. Workers only wait for a job and report its outcome, so
/// no worker ever waits for the disk. The run is over when the input is done, nothing is in
/// flight or buffered, and nothing pending falls due before `waitUntil`.
public final class Dispatcher: @unchecked Sendable {
    /// Hears about deliveries that reached a final state, and (at the end) those still pending.
    public typealias Report = @Sendable (DeliveryState) -> Void

    // `machine`, `waiters` and the chain's state are guarded by `condition`; `store` is used by the
    // store thread only, or by a chain of rounds while the store thread waits for it to end.
    let condition = NSCondition()
    var machine: DispatchMachine
    var waiters: [CheckedContinuation<ClaimedDelivery?, Never>] = []
    private let store: any DeliveryQueue
    /// The same store when its rounds can be chained (Dispatcher+Chain.swift), else nil.
    let chained: (any ChainedRounds)?
    /// The same store when it grants slots (``SlotGrants``) and a per-endpoint limit is set,
    /// with that limit.
    let grants: (store: any SlotGrants, limit: Int)?
    /// How long a grant lasts (ms): ``grantLength(lease:longestAttempt:)``.
    let grantLength: Int64
    /// A chain of rounds: its state, the failure that ended it, and the states its rounds
    /// recorded for the store thread to report (guarded by `condition`); `chainEvents` is
    /// signalled when it ends and when many states wait.
    let chainEvents = DispatchSemaphore(value: 0)
    var chain = ChainState.off
    var chainFailure: (any Error, DispatchMachine.Round)?
    var chainReports: [[DeliveryState?]] = []

    let lease: Int64
    /// Endpoints that get nothing for now (paused webhooks), asked each round.
    let heldEndpoints: (@Sendable () -> Set<String>)?
    /// Endpoints claimed under their own rate limit or ordering (``RuledClaims``), asked each
    /// round; the ordinary claim leaves them out.
    let ruledEndpoints: (@Sendable () -> [String: DeliveryRules])?
    /// When each rate-limited endpoint with a due delivery has its next token (store thread only).
    private var tokenWait: [String: Int64] = [:]
    let now: @Sendable () -> Int64
    private let report: Report
    private let progress: (@Sendable (_ retrying: Int) -> Void)?
    let storeTrouble: @Sendable (StoreTrouble) -> Void
    /// Whether rounds are failing for a transient store error (guarded by `condition`).
    var storeFailing = false
    /// How long (ms) the store thread lets a chain of rounds wait for an outcome before it takes
    /// over (Dispatcher+Chain.swift); tests make it long.
    var chainWaitLimit = DispatchMachine.idlePoll

    public init(
        store: sending any DeliveryQueue, claimBatch: Int, lease: Duration, waitUntil: Int64?,
        maxPerEndpoint: Int? = nil, heldEndpoints: (@Sendable () -> Set<String>)? = nil,
        ruledEndpoints: (@Sendable () -> [String: DeliveryRules])? = nil, idleWait: Duration? = nil,
        now: @escaping @Sendable () -> Int64, report: @escaping Report,
        progress: (@Sendable (_ retrying: Int) -> Void)? = nil,
        storeRetry: (first: Duration, cap: Duration)? = nil, gatherOutcomes: Duration? = nil,
        longestAttempt: Duration? = nil, storeTrouble: @escaping @Sendable (StoreTrouble) -> Void = { _ in }
    ) {
        let grants = maxPerEndpoint.flatMap { limit in (store as? any SlotGrants).map { ($0, limit) } }
        let grantLength = Self.grantLength(lease: lease, longestAttempt: longestAttempt ?? .zero)
        machine = DispatchMachine(DispatchMachine.Settings(
            claimBatch: max(1, claimBatch), maxPerEndpoint: maxPerEndpoint, waitUntil: waitUntil, idleWait: idleWait?.milliseconds,
            // Outcomes arriving while a transaction runs are written together by the next one.
            promptOutcomes: store.inMemoryOutstanding == nil, gatherOutcomes: gatherOutcomes.map { max(1, $0.milliseconds) },
            storeRetryFirst: storeRetry.map { max(1, $0.first.milliseconds) }, storeRetryCap: max(1, storeRetry?.cap.milliseconds ?? 1),
            handOutWithin: longestAttempt.map { max(0, lease.milliseconds - $0.milliseconds) }, countsRetrying: progress != nil,
            grantRenewal: grants == nil ? nil : Self.grantRenewal, grantUsable: longestAttempt.map { grantLength - $0.milliseconds }))
        self.storeTrouble = storeTrouble
        self.heldEndpoints = heldEndpoints
        self.ruledEndpoints = ruledEndpoints
        self.progress = progress
        chained = store as? any ChainedRounds
        self.grants = grants
        self.grantLength = grantLength
        self.store = store
        self.lease = lease.milliseconds
        self.now = now
        self.report = report
    }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
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
        machine.append(messages)
        wakeStoreThread()
        while machine.mustWait(limit: limit) { condition.wait() }
    }

    /// New messages are in the store (a spool written by another connection), or deliveries
    /// became due (a webhook resumed, failed ones re-queued): claim now.
    public func inputArrived() {
        locked {
            machine.inputArrived()
            wakeStoreThread()
        }
    }

    /// The input has no more messages.
    public func inputFinished() {
        locked {
            machine.inputFinished()
            wakeStoreThread()
        }
    }

    /// Stops handing out deliveries; the store thread records what is in flight, gives back what
    /// it had claimed but not handed out, and ends the run.
    public func stop() {
        locked {
            endWaiters(machine.stop())
            wakeStoreThread()
        }
    }

    /// Wakes the store thread for something only it does, ending a chain of rounds that waits
    /// for an outcome (Dispatcher+Chain.swift). Called with `condition` held.
    private func wakeStoreThread() {
        condition.broadcast()
        endWaitingChain()
    }

    // MARK: The workers' side

    /// The next delivery to attempt, or nil when the run is over.
    public func next() async -> ClaimedDelivery? {
        await withCheckedContinuation { continuation in
            locked {
                let answer = machine.workerAsks(now: now())
                // Claims held too long to be sent within their lease go back in the next round.
                if machine.releasesWaiting { wakeStoreThread() }
                switch answer {
                case let .job(job): continuation.resume(returning: job)
                case .end: continuation.resume(returning: nil)
                case .wait:
                    waiters.append(continuation)
                    condition.broadcast()
                }
            }
        }
    }

    /// Records an attempt. Deliveries to a target that answered 410 are failed at once.
    public func finish(_ outcome: DeliveryOutcome, targetGone: Bool = false) {
        let time = now()
        let next: DispatchMachine.Round? = locked {
            let (urgent, handOut) = machine.attemptFinished(outcome, targetGone: targetGone, now: time)
            if grants != nil { machine.checkRenewal(uptime: Self.uptime()) }
            // Under slot grants the slot this attempt frees is taken again at once.
            for job in handOut { waiters.removeFirst().resume(returning: job) }
            if urgent { condition.broadcast() }
            return resumeChain()
        }
        if let next { startChained(next) }
    }

    /// Whether a target answered 410 Gone earlier in this run.
    public func isGone(_ target: String) -> Bool {
        locked { machine.isGone(target) }
    }

    /// Resumes the first `count` waiting workers with nothing: the run is over for them.
    private func endWaiters(_ count: Int) {
        for waiter in waiters.prefix(count) { waiter.resume(returning: nil) }
        waiters.removeFirst(min(count, waiters.count))
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
                    let pending = reportingPending ? try store.pendingStates(now: now()) : []
                    // Nothing is in flight any more: the slots are free for the other instances.
                    // (After a failure attempts may still run: the grants then end with their lease.)
                    try? grants?.store.releaseGrants()
                    continuation.resume(returning: pending)
                } catch {
                    locked {
                        endWaiters(machine.finish())
                        condition.broadcast()
                    }
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "hookrelay-store"
            thread.start()
        }
    }

    /// Runs rounds until the run is over. A round that fails for a transient store error
    /// (`StoreOutage.isTransient`: the database unreachable, a connection lost, a timeout) keeps
    /// what it could not write, hands out nothing, and is run again after the capped backoff of
    /// `storeRetry` (`serve`); without it (`deliver`), and for any other store error, the run ends.
    private func loop() throws {
        while true {
            var unwritten: DispatchMachine.Round?
            do {
                if try round(&unwritten) { return }
                if locked({ recovered() }) { storeTrouble(.recovered) }
            } catch where StoreOutage.isTransient(error) {
                let (wait, first) = locked { () -> (Int64?, Bool) in
                    guard let wait = machine.roundFailed(unwritten) else { return (nil, false) }
                    defer { storeFailing = true }
                    return (wait, !storeFailing)
                }
                guard let wait else { throw error }
                if first { storeTrouble(.unavailable(error)) }
                locked {
                    let until = Date().addingTimeInterval(Double(wait) / 1000)
                    // Woken by a finished attempt or new input: keep waiting; by stop: run the last round.
                    while !machine.stopping, condition.wait(until: until) {}
                }
            }
        }
    }

    /// After a round that succeeded, with `condition` held: whether rounds were failing until
    /// now (the store is back: reported once per outage, by the store thread or by a chained
    /// round, which may go on for long).
    func recovered() -> Bool {
        defer { storeFailing = false }
        return storeFailing
    }

    /// One round; returns whether the run is over. `unwritten` follows what the round has yet
    /// to write, for ``DispatchMachine/roundFailed(_:)``.
    private func round(_ unwritten: inout DispatchMachine.Round?) throws -> Bool {
        gather()
        let held = heldEndpoints?() ?? []
        let rules = ruledEndpoints?() ?? [:]
        try renewGrants(excluded: held.union(rules.keys))
        let round = locked { machine.beginRound(paused: held.union(rules.keys), ruled: Set(rules.keys)) }
        unwritten = round
        if round.ingestJustFinished {
            try store.ingestFinished()
            unwritten?.ingestJustFinished = false
        }
        let time = now()
        if !round.appends.isEmpty {
            _ = try store.append(round.appends, now: time)
            unwritten?.appends = []
        }
        if !round.release.isEmpty {
            try store.release(round.release)
            unwritten?.release = []
        }
        var failedByGone: [DeliveryState] = []
        if !round.gone.isEmpty {
            // Outcomes first, so the 410 itself is recorded before the rest are failed.
            let states = try store.complete(round.outcomes, now: time)
            unwritten?.outcomes = []
            apply(states)
            for (target, error) in round.gone {
                failedByGone += try store.failPending(target: target, error: error, now: time)
                unwritten?.gone.removeFirst()
            }
        }
        if !round.outcomes.isEmpty, round.gone.isEmpty, rules.isEmpty, !round.stopping, chained != nil {
            // This round and those that follow it on the store's own thread (Dispatcher+Chain.swift).
            try runChain(unwritten ?? round, unwritten: &unwritten)
            return false
        }
        var (states, claimed) = try store.completeAndClaim(
            round.gone.isEmpty ? round.outcomes : [], limit: round.wanted, now: time, lease: lease, quota: round.quota)
        unwritten = nil
        apply(states, failedByGone: failedByGone)
        if !rules.isEmpty {
            do {
                claimed += try claimRuled(rules, held: held, room: round.wanted - claimed.count, quota: round.quota, now: time)
            } catch where StoreOutage.isTransient(error) {
                // What was claimed and written stands; the next round claims these webhooks' deliveries.
            }
        }
        for state in failedByGone { report(state) }
        let memoryOutstanding = store.inMemoryOutstanding

        let idle: Bool = locked {
            let (handOut, idle) = machine.endRound(round, claimed: claimed, memoryOutstanding: memoryOutstanding, at: time)
            for job in handOut { waiters.removeFirst().resume(returning: job) }
            condition.broadcast()
            return idle
        }
        guard idle else { return false }
        if round.stopping {
            return locked {
                guard machine.stoppedIdle() else {
                    _ = condition.wait(until: Date().addingTimeInterval(Double(DispatchMachine.idlePoll) / 1000))
                    return false
                }
                endWaiters(machine.finish())
                condition.broadcast()
                return true
            }
        }

        // Until the input is done the run cannot end. Held targets' deliveries are not
        // waited for.
        // A rate-limited endpoint's due deliveries wait for its next token, not for a poll.
        let clock = now()
        tokenWait = tokenWait.filter { $0.value > clock }
        let excluded = held.union(tokenWait.keys)
        let due: Int64? = switch locked({ machine.dueQuery }) {
        case .nextDue: try store.nextDue(excluding: excluded)
        case .nextUnclaimedDue: try store.nextUnclaimedDue(excluding: excluded)
        case .none: nil
        }
        let nextToken = tokenWait.values.min()
        return locked {
            switch machine.idle(due: due, now: now()) {
            case .finish:
                endWaiters(machine.finish())
                condition.broadcast()
                return true
            case var .sleep(milliseconds):
                if let nextToken { milliseconds = max(1, min(milliseconds, nextToken - clock)) }
                _ = condition.wait(until: Date().addingTimeInterval(Double(milliseconds) / 1000))
                return false
            case .runAgain:
                return false
            }
        }
    }

    /// Lets outcomes gather for up to `gatherOutcomes` while the machine allows it
    /// (``DispatchMachine/mayGather``): re-checked at each wake-up, so a worker asking for a job
    /// or a stop ends the wait at once.
    private func gather() {
        locked {
            guard machine.mayGather, let window = machine.settings.gatherOutcomes else { return }
            let until = Date().addingTimeInterval(Double(window) / 1000)
            while machine.mayGather, condition.wait(until: until) {}
        }
    }

    /// The ruled endpoints' claims (``RuledClaims``), in order, within `room` and each one's
    /// share of the per-endpoint limit; skips those waiting for a token.
    private func claimRuled(
        _ rules: [String: DeliveryRules], held: Set<String>, room: Int, quota: TargetQuota?, now: Int64
    ) throws -> [ClaimedDelivery] {
        guard let ruled = store as? any RuledClaims else { return [] }
        var room = room
        var claimed: [ClaimedDelivery] = []
        for (endpoint, rule) in rules.sorted(by: { $0.key < $1.key }) where room > 0 && !held.contains(endpoint) {
            if let at = tokenWait[endpoint], at > now { continue }
            let limit = quota?.limit ?? Int.max
            let free = min(room, max(0, limit - (quota?.held[endpoint] ?? 0)))
            guard free > 0 else { continue }
            let (got, tokenAt) = try ruled.claimRuled(endpoint: endpoint, rules: rule, room: free, perEndpoint: limit, now: now, lease: lease)
            tokenWait[endpoint] = tokenAt
            claimed += got
            room -= got.count
        }
        return claimed
    }

    /// What the store thread reports about its store (`serve` logs it): once when rounds begin to
    /// fail for a transient error, once when one succeeds again.
    public enum StoreTrouble: Sendable {
        case unavailable(any Error)
        case recovered
    }

    /// Reports deliveries that reached a final state, and how many wait for a retry.
    func apply(_ states: [DeliveryState?], failedByGone: [DeliveryState] = []) {
        let (final, retrying) = locked { machine.record(states, failedByGone: failedByGone) }
        for state in final { report(state) }
        if let retrying { progress?(retrying) }
    }
}
