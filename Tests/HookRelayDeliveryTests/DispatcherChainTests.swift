@testable import HookRelayDelivery
import HookRelayStore
import Synchronization
import Testing

/// Rounds chained on a ``ChainedRounds`` store's own thread (Dispatcher+Chain.swift), with
/// workers running: every outcome recorded once, the per-endpoint limit kept, the run ending.
/// Each test runs on the sender's event loop: with the whole suite running, the cooperative pool
/// can be held for over a minute by other tests' blocking calls (a waiting chain was once taken
/// back by the store thread while this test's task waited that long for a thread).
@Suite struct DispatcherChainTests {
    typealias Queue = DispatcherOutageTests.ChainedFlakyQueue

    /// What the workers and the reports saw: the deliveries reported, and per endpoint the
    /// attempts in flight now and at most.
    final class Tally: Sendable {
        let reported = Mutex<[Int64]>([])
        let held = Mutex((now: [String: Int](), most: 0))
    }

    /// A clock the test moves (Unix ms).
    final class TestClock: Sendable {
        let now = Mutex<Int64>(1_000)
    }

    func dispatcher(
        _ queue: Queue, claimBatch: Int = 8, clock: TestClock = TestClock(), longestAttempt: Duration? = nil,
        report: @escaping Dispatcher.Report
    ) -> Dispatcher {
        Dispatcher(
            store: queue, claimBatch: claimBatch, lease: .seconds(60), waitUntil: nil, maxPerEndpoint: 2, idleWait: .milliseconds(20),
            now: { clock.now.withLock { $0 } }, report: report, storeRetry: (.milliseconds(1), .milliseconds(8)),
            longestAttempt: longestAttempt)
    }

    func delivered(_ job: ClaimedDelivery) -> DeliveryOutcome {
        DeliveryOutcome(delivery: job, attempt: AttemptRecord(startedAt: 1_000, httpStatus: 204, latencyMilliseconds: 1, error: nil), next: .delivered)
    }

    func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let end = ContinuousClock.now + .seconds(60)
        while !condition() {
            guard ContinuousClock.now < end else { throw DispatcherOutageTests.DispatcherTimeout(what: what) }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    @Test func everyOutcomeIsRecordedOnceWithinTheLimitAndStopEndsTheRun() async throws {
        try await withTaskExecutorPreference(HTTPSender.taskExecutor) { [self] in
            let queue = Queue(transient: true)
            let count = 300
            _ = try queue.append((0..<count).map { NewMessage(messageID: "m\($0)", body: [], targets: [$0 % 3 == 0 ? "b" : "a"]) }, now: 0)
            let tally = Tally()
            let dispatcher = dispatcher(queue) { state in tally.reported.withLock { $0.append(state.id) } }
            let run = Task(executorPreference: HTTPSender.taskExecutor) { try await dispatcher.run(reportingPending: false) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 {
                    group.addTask(executorPreference: HTTPSender.taskExecutor) {
                        while let job = await dispatcher.next() {
                            tally.held.withLock { held in
                                held.now[job.target, default: 0] += 1
                                held.most = max(held.most, held.now[job.target]!)
                            }
                            await Task.yield()
                            tally.held.withLock { $0.now[job.target]! -= 1 }
                            dispatcher.finish(DeliveryOutcome(
                                delivery: job, attempt: AttemptRecord(startedAt: 1_000, httpStatus: 204, latencyMilliseconds: 1, error: nil),
                                next: .delivered))
                        }
                    }
                }
                let end = ContinuousClock.now + .seconds(60)
                while tally.reported.withLock({ $0.count }) < count, ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(2)) }
                dispatcher.stop()
                try await group.waitForAll()
            }
            _ = try await run.value
            let ids = tally.reported.withLock { $0 }
            #expect(ids.count == count)
            #expect(Set(ids).count == count, "each delivery reported once")
            #expect(Set(queue.state.withLock { $0.completed }).count == count)
            #expect(queue.state.withLock { $0.completed }.count == count, "each outcome written once")
            #expect(tally.held.withLock { $0.most } <= 2, "no endpoint had more than its limit in flight")
            #expect(queue.chained.withLock { $0 } > 0, "rounds ran chained")
            #expect(try queue.pendingStates(now: 2_000).isEmpty)
        }
    }

    /// A chain that waits for an outcome is resumed by the worker that reports it: the round
    /// starts within its `finish`, not from the store thread (which would take the chain back
    /// only after `chainWaitLimit`, here ten minutes).
    @Test func theNextOutcomeResumesAWaitingChainFromItsWorker() async throws {
        try await withTaskExecutorPreference(HTTPSender.taskExecutor) { [self] in
            let queue = Queue(transient: true)
            _ = try queue.append((0..<2).map { NewMessage(messageID: "m\($0)", body: [], targets: ["a"]) }, now: 0)
            let tally = Tally()
            let dispatcher = dispatcher(queue) { state in tally.reported.withLock { $0.append(state.id) } }
            dispatcher.chainWaitLimit = 600_000
            let run = Task(executorPreference: HTTPSender.taskExecutor) { try await dispatcher.run(reportingPending: false) }
            let first = try #require(await dispatcher.next())
            let second = try #require(await dispatcher.next())
            dispatcher.finish(delivered(first))
            try await eventually("the first outcome reported") { tally.reported.withLock { $0 } == [first.id] }
            // The chain's round has ended with the second attempt in flight: the chain waits.
            try await Task.sleep(for: .milliseconds(50))
            let before = queue.started.withLock { $0 }
            dispatcher.finish(delivered(second))
            #expect(queue.started.withLock { $0 } == before + 1, "the round started within the worker's finish")
            try await eventually("the second outcome reported") { tally.reported.withLock { $0.count } == 2 }
            dispatcher.stop()
            _ = try await run.value
            #expect(queue.state.withLock { $0.completed } == [first.id, second.id])
        }
    }

    /// What the store thread wrote before a chained round (claims given back) is not written
    /// again when that round fails; its outcome is kept and written once.
    @Test func aFailedChainedRoundKeepsItsOutcomeAndNotWhatCameBeforeIt() async throws {
        try await withTaskExecutorPreference(HTTPSender.taskExecutor) { [self] in
            let queue = Queue(transient: true)
            _ = try queue.append((0..<3).map { NewMessage(messageID: "m\($0)", body: [], targets: ["x"]) }, now: 0)
            let clock = TestClock()
            // A claim may wait 100 ms in the buffer (a 60 s lease less a 59.9 s attempt).
            let dispatcher = dispatcher(queue, claimBatch: 4, clock: clock, longestAttempt: .milliseconds(59_900)) { _ in }
            queue.gate.withLock { $0 = 1 }
            let run = Task(executorPreference: HTTPSender.taskExecutor) { try await dispatcher.run(reportingPending: false) }
            let first = try #require(await dispatcher.next())
            // The store thread, idle, is held in its look for the next due time while the test sets up
            // a round with both claims to give back and an outcome.
            try await eventually("the store thread idle") { queue.gate.withLock { $0 } == 2 }
            clock.now.withLock { $0 = 2_000 }
            let asking = Task(executorPreference: HTTPSender.taskExecutor) { await dispatcher.next() }
            try await eventually("the buffered claims given up") { dispatcher.locked { dispatcher.machine.releasesWaiting } }
            dispatcher.finish(delivered(first))
            queue.fail(1)
            queue.gateOpen.signal()
            try await eventually("the outcome written after the failed round") { queue.state.withLock { $0.completed } == [first.id] }
            #expect(queue.state.withLock { $0.failed } == 1)
            let released = queue.state.withLock { $0.released }
            #expect(!released.isEmpty && Set(released).count == released.count, "each claim given back once: \(released)")
            #expect(!released.contains(first.id))
            dispatcher.stop()
            // The worker that asked got a claim given back and claimed again, or nothing once stopped.
            if let job = await asking.value { dispatcher.finish(delivered(job)) }
            _ = try await run.value
        }
    }
}
