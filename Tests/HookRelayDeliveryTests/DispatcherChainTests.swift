import HookRelayDelivery
import HookRelayStore
import Synchronization
import Testing

/// Rounds chained on a ``ChainedRounds`` store's own thread (Dispatcher+Chain.swift), with
/// workers running: every outcome recorded once, the per-endpoint limit kept, the run ending.
@Suite struct DispatcherChainTests {
    typealias Queue = DispatcherOutageTests.ChainedFlakyQueue

    /// What the workers and the reports saw: the deliveries reported, and per endpoint the
    /// attempts in flight now and at most.
    final class Tally: Sendable {
        let reported = Mutex<[Int64]>([])
        let held = Mutex((now: [String: Int](), most: 0))
    }

    func dispatcher(_ queue: Queue, report: @escaping Dispatcher.Report) -> Dispatcher {
        Dispatcher(
            store: queue, claimBatch: 8, lease: .seconds(60), waitUntil: nil, maxPerEndpoint: 2, idleWait: .milliseconds(20),
            now: { 1_000 }, report: report, storeRetry: (.milliseconds(1), .milliseconds(8)))
    }

    @Test func everyOutcomeIsRecordedOnceWithinTheLimitAndStopEndsTheRun() async throws {
        let queue = Queue(transient: true)
        let count = 300
        _ = try queue.append((0..<count).map { NewMessage(messageID: "m\($0)", body: [], targets: [$0 % 3 == 0 ? "b" : "a"]) }, now: 0)
        let tally = Tally()
        let dispatcher = dispatcher(queue) { state in tally.reported.withLock { $0.append(state.id) } }
        // The dispatcher and the workers on the sender's event loop, as serve's workers: the
        // cooperative pool may be held for a minute by blocking calls of the suite's other tests.
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
