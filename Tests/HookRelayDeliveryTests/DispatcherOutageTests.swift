import Foundation
import HookRelayDelivery
import HookRelayStore
import Synchronization
import Testing

/// The dispatcher through a store that fails for a while: transient errors keep the outcomes and
/// retry the round; other errors end the run. No database: a ``FlakyQueue`` over a ``MemoryStore``,
/// also as a ``ChainedRounds`` store whose rounds end on a thread of its own (PostgreSQL's way).
@Suite struct DispatcherOutageTests {
    struct Unreachable: TransientStoreError, CustomStringConvertible {
        var isTransient: Bool
        var description: String { isTransient ? "the database is unreachable" : "a constraint failed" }
    }

    /// A durable-looking queue (outcomes written at once) whose calls throw while ``failures`` is
    /// above zero, each failure counting one down.
    class FlakyQueue: DeliveryQueue, @unchecked Sendable {
        let memory = MemoryStore()
        let error: Unreachable
        let state = Mutex((failures: 0, failed: 0, completed: [Int64](), released: [Int64]()))

        init(transient: Bool) { error = Unreachable(isTransient: transient) }

        func fail(_ count: Int) { state.withLock { $0.failures = count } }

        private func check() throws {
            try state.withLock {
                guard $0.failures > 0 else { return }
                $0.failures -= 1
                $0.failed += 1
                throw error
            }
        }

        var inMemoryOutstanding: Int? { nil }
        func setDurableCommits(_ durable: Bool) throws {}
        func append(_ messages: [NewMessage], now: Int64) throws -> Int { try memory.append(messages, now: now) }
        func claim(limit: Int, now: Int64, lease: Int64, quota: TargetQuota?) throws -> [ClaimedDelivery] {
            try check()
            return try memory.claim(limit: limit, now: now, lease: lease, quota: quota)
        }
        func complete(_ outcomes: [DeliveryOutcome], now: Int64) throws -> [DeliveryState?] {
            try check()
            let states = try memory.complete(outcomes, now: now)
            state.withLock { $0.completed += outcomes.map(\.delivery.id) }
            return states
        }
        func nextDue(excluding: Set<String>) throws -> Int64? {
            try check()
            return try memory.nextDue(excluding: excluding)
        }
        /// Set to 1: the next `nextUnclaimedDue` (the store thread's idle look), once it has
        /// passed its check, sets it to 2 and waits for `gateOpen`.
        let gate = Mutex(0)
        let gateOpen = DispatchSemaphore(value: 0)

        func nextUnclaimedDue(excluding: Set<String>) throws -> Int64? {
            try check()
            if gate.withLock({ gate in
                defer { if gate == 1 { gate = 2 } }
                return gate == 1
            }) { gateOpen.wait() }
            return try memory.nextUnclaimedDue(excluding: excluding)
        }
        func failPending(target: String, error: String, now: Int64) throws -> [DeliveryState] {
            try memory.failPending(target: target, error: error, now: now)
        }
        func requeueFailed(now: Int64) throws -> Int { try memory.requeueFailed(now: now) }
        func pendingStates(now: Int64) throws -> [DeliveryState] { try memory.pendingStates(now: now) }
        func release(_ deliveries: [ClaimedDelivery]) throws {
            try memory.release(deliveries)
            state.withLock { $0.released += deliveries.map(\.id) }
        }
    }

    /// A ``FlakyQueue`` whose rounds are started and answered on a thread of its own, as
    /// PostgreSQL's are on its event loop; counts them.
    final class ChainedFlakyQueue: FlakyQueue, ChainedRounds, @unchecked Sendable {
        let io = IOThread()
        let chained = Mutex(0)
        /// Rounds started (counted where they start, before they run).
        let started = Mutex(0)

        deinit { io.stop() }

        func completeAndClaim(
            _ outcomes: [DeliveryOutcome], limit: Int, now: Int64, lease: Int64, quota: TargetQuota?,
            then: @escaping @Sendable (Result<(states: [DeliveryState?], claimed: [ClaimedDelivery]), any Error>) -> Void
        ) {
            started.withLock { $0 += 1 }
            io.run { [self] in
                chained.withLock { $0 += 1 }
                then(Result { try completeAndClaim(outcomes, limit: limit, now: now, lease: lease, quota: quota) })
            }
        }
    }

    /// A thread of its own that runs what it is given in order, as an event loop does (not a
    /// dispatch queue: with the whole suite running, the shared pool's threads may all be
    /// blocked for seconds).
    final class IOThread: @unchecked Sendable {
        let name = "chained-flaky-queue"
        private let condition = NSCondition()
        private var work: [@Sendable () -> Void] = []
        private var stopped = false

        init() {
            let thread = Thread { [self] in
                while true {
                    condition.lock()
                    while work.isEmpty, !stopped { condition.wait() }
                    if work.isEmpty {
                        condition.unlock()
                        return
                    }
                    let next = work.removeFirst()
                    condition.unlock()
                    next()
                }
            }
            thread.name = name
            thread.start()
        }

        func run(_ body: @escaping @Sendable () -> Void) {
            condition.lock()
            work.append(body)
            condition.signal()
            condition.unlock()
        }

        /// Ends the thread once what it was given has run.
        func stop() {
            condition.lock()
            stopped = true
            condition.signal()
            condition.unlock()
        }
    }

    /// What the dispatcher reported: final states and its store troubles.
    final class Reports: Sendable {
        let final = Mutex<[DeliveryState]>([])
        let troubles = Mutex<[String]>([])
    }

    func dispatcher(_ queue: FlakyQueue, _ reports: Reports, retrying: Bool) -> Dispatcher {
        Dispatcher(
            store: queue, claimBatch: 4, lease: .seconds(60), waitUntil: nil, idleWait: .milliseconds(20), now: { 1_000 },
            report: { state in reports.final.withLock { $0.append(state) } },
            storeRetry: retrying ? (.milliseconds(1), .milliseconds(8)) : nil,
            storeTrouble: { trouble in
                reports.troubles.withLock {
                    switch trouble {
                    case .unavailable: $0.append("unavailable")
                    case .recovered: $0.append("recovered")
                    }
                }
            })
    }

    /// A dispatcher running over `count` messages to one target, and the first job it handed out.
    func started(
        _ count: Int, transient: Bool = true, retrying: Bool = true, chained: Bool
    ) async throws -> (FlakyQueue, Reports, Dispatcher, Task<[DeliveryState], any Error>, ClaimedDelivery) {
        let queue = chained ? ChainedFlakyQueue(transient: transient) : FlakyQueue(transient: transient)
        _ = try queue.append((0..<count).map { NewMessage(messageID: "m\($0)", body: [], targets: ["x"]) }, now: 0)
        let reports = Reports()
        let dispatcher = dispatcher(queue, reports, retrying: retrying)
        let run = Task { try await dispatcher.run(reportingPending: false) }
        return (queue, reports, dispatcher, run, try #require(await dispatcher.next()))
    }

    func outcome(_ job: ClaimedDelivery) -> DeliveryOutcome {
        DeliveryOutcome(delivery: job, attempt: AttemptRecord(startedAt: 1_000, httpStatus: 204, latencyMilliseconds: 3, error: nil), next: .delivered)
    }

    func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let end = ContinuousClock.now + .seconds(20)
        while !condition() {
            guard ContinuousClock.now < end else { throw DispatcherTimeout(what: what) }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    struct DispatcherTimeout: Error, CustomStringConvertible {
        let what: String
        var description: String { "\(what) did not happen within 20 s" }
    }

    @Test(arguments: [false, true])
    func anOutcomeFinishedWhileTheStoreIsDownIsWrittenWhenItIsBackAndNothingNewIsHandedOut(chained: Bool) async throws {
        let (queue, reports, dispatcher, run, first) = try await started(2, chained: chained)
        // The store goes away while the attempt is in flight; the round writing its outcome fails 5 times.
        queue.fail(5)
        dispatcher.finish(outcome(first))
        try await eventually("five failed rounds") { queue.state.withLock { $0.failed == 5 } }
        try await eventually("the kept outcome written") { queue.state.withLock { $0.completed.contains(first.id) } }
        #expect(queue.state.withLock { $0.completed } == [first.id], "written once, after the outage")
        let second = try #require(await dispatcher.next(), "handed out again once the store is back")
        #expect(second.id != first.id)
        dispatcher.finish(outcome(second))
        try await eventually("both delivered") { reports.final.withLock { $0.count } == 2 }
        #expect(reports.final.withLock { $0.map(\.status) } == [.delivered, .delivered])
        #expect(reports.troubles.withLock { $0 } == ["unavailable", "recovered"], "once per outage, not per retry")
        if let chained = queue as? ChainedFlakyQueue { #expect(chained.chained.withLock { $0 } > 0, "the rounds with outcomes ran chained") }
        dispatcher.stop()
        _ = try await run.value
    }

    @Test(arguments: [false, true])
    func aWorkerGetsNothingWhileTheStoreIsDown(chained: Bool) async throws {
        let (queue, _, dispatcher, run, first) = try await started(3, chained: chained)
        // Two more are claimed and buffered; while rounds fail, none of them is handed out.
        queue.fail(1_000_000)
        dispatcher.finish(outcome(first))
        try await eventually("rounds failing") { queue.state.withLock { $0.failed } >= 3 }
        let asked = Task { await dispatcher.next() }
        try await Task.sleep(for: .milliseconds(50))
        #expect(queue.state.withLock { $0.completed }.isEmpty)
        queue.fail(0)
        let next = try #require(await asked.value, "handed out once a round succeeds")
        #expect(next.id != first.id)
        #expect(queue.state.withLock { $0.completed } == [first.id])
        dispatcher.finish(outcome(next))
        dispatcher.stop()
        _ = try await run.value
    }

    @Test(arguments: [(transient: false, retrying: true), (transient: true, retrying: false)], [false, true])
    func aStoreErrorThatIsNotTransientOrWithoutRetriesEndsTheRun(_ case: (transient: Bool, retrying: Bool), chained: Bool) async throws {
        // Without retries is `deliver`: its exit status tells to run it again.
        let (queue, _, dispatcher, run, first) = try await started(
            1, transient: `case`.transient, retrying: `case`.retrying, chained: chained)
        queue.fail(1)
        dispatcher.finish(outcome(first))
        await #expect(throws: Unreachable.self) { try await run.value }
        #expect(await dispatcher.next().map(\.id) == nil, "the run is over")
    }
}
