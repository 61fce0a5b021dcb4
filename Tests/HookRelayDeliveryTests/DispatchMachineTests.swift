@testable import HookRelayDelivery
@testable import HookRelayStore
import Testing

/// The dispatcher's decisions as a value, driven with made-up times: no thread, no lock, no sleep.
@Suite struct DispatchMachineTests {
    static let serve = DispatchMachine.Settings(
        claimBatch: 4, maxPerEndpoint: 2, waitUntil: nil, idleWait: 1_000, promptOutcomes: true, countsRetrying: false)
    static let deliver = DispatchMachine.Settings(claimBatch: 4, maxPerEndpoint: nil, waitUntil: nil, idleWait: nil, promptOutcomes: false)

    /// Claimed deliveries, one per endpoint given, from a real in-memory queue.
    func jobs(_ endpoints: String...) throws -> [ClaimedDelivery] {
        let queue = MemoryStore()
        _ = try queue.append(endpoints.enumerated().map { NewMessage(messageID: "m\($0.offset)", body: [], targets: [$0.element]) }, now: 0)
        return try queue.claim(limit: endpoints.count, now: 0, lease: 100)
    }

    func outcome(_ job: ClaimedDelivery, _ next: DeliveryOutcome.Next) -> DeliveryOutcome {
        DeliveryOutcome(delivery: job, attempt: AttemptRecord(startedAt: 0, httpStatus: 410, latencyMilliseconds: 1, error: "HTTP 410"), next: next)
    }

    @Test func aWaitingWorkerGetsTheNextClaimAndTheQuotaCountsWhatEachEndpointHolds() throws {
        var machine = DispatchMachine(Self.serve)
        guard case .wait = machine.workerAsks() else { Issue.record("a job before any claim"); return }
        let round = machine.beginRound(paused: [])
        #expect(round.wanted == 4)
        #expect(round.quota?.held == [:])
        let claimed = try jobs("a", "a", "b")
        let (handOut, idle) = machine.endRound(round, claimed: claimed, memoryOutstanding: nil)
        #expect(handOut.map(\.id) == [claimed[0].id], "the waiting worker gets the oldest")
        #expect(!idle)
        guard case let .job(second) = machine.workerAsks() else { Issue.record("no buffered job"); return }
        #expect(second.id == claimed[1].id)
        // Two claimed for a, one for b: the next round's quota says so, and asks for what the buffer lacks.
        let next = machine.beginRound(paused: ["c"])
        #expect(next.quota?.held == ["a": 2, "b": 1])
        #expect(next.quota?.paused == ["c"])
        #expect(next.wanted == 3)
        let prompt = machine.attemptFinished(outcome(second, .delivered), targetGone: false).urgent
        #expect(prompt, "a durable store records each outcome at once")
        let after = machine.beginRound(paused: [])
        #expect(after.quota?.held == ["a": 1, "b": 1])
    }

    /// A delivery left in the buffer past its lease less an attempt's longest time is not sent
    /// (another round or process would claim and send it again while it runs): it goes back to
    /// the store in the next round, and stops counting towards its endpoint's limit.
    @Test func aClaimHeldTooLongForItsLeaseIsGivenBackNotSent() throws {
        var settings = Self.serve
        settings.handOutWithin = 1_000
        var machine = DispatchMachine(settings)
        let claimed = try jobs("a", "b", "c")
        _ = machine.endRound(machine.beginRound(paused: []), claimed: claimed, memoryOutstanding: nil, at: 10_000)
        guard case let .job(first) = machine.workerAsks(now: 10_900) else { Issue.record("no job within the limit"); return }
        #expect(first.id == claimed[0].id)
        #expect(!machine.releasesWaiting)
        // 1,001 ms after the claim: the other two are given back, and the worker waits.
        #expect(machine.workerAsks(now: 11_001).isWait)
        #expect(machine.releasesWaiting)
        let next = machine.beginRound(paused: [])
        #expect(next.release.map(\.id) == [claimed[1].id, claimed[2].id])
        #expect(next.quota?.held == ["a": 1, "b": 0, "c": 0], "only what is in flight counts")
        #expect(next.wanted == 4)
    }

    @Test func anIdleDaemonSleepsUntilTheNextDueTimeOrItsLongestWait() {
        var machine = DispatchMachine(Self.serve)
        _ = machine.beginRound(paused: [])
        #expect(machine.dueQuery == .nextUnclaimedDue)
        #expect(machine.idle(due: nil, now: 5_000) == .sleep(1_000), "nothing waits: the longest sleep")
        #expect(machine.idle(due: 5_300, now: 5_000) == .sleep(300))
        #expect(machine.idle(due: 9_000, now: 5_000) == .sleep(1_000))
        #expect(machine.idle(due: 4_000, now: 5_000) == .sleep(DispatchMachine.idlePoll), "due but held back: look again soon")
        machine.inputArrived()
        #expect(machine.idle(due: nil, now: 5_000) == .runAgain, "woken: claim now")
    }

    @Test func aRunWhoseInputEndedFinishesWhenNothingIsLeftBeforeItsDeadline() {
        var settings = Self.deliver
        settings.waitUntil = 10_000
        var machine = DispatchMachine(settings)
        #expect(machine.dueQuery == DispatchMachine.DueQuery.none, "deliver polls while it reads")
        #expect(machine.idle(due: nil, now: 0) == .sleep(DispatchMachine.idlePoll))
        machine.inputFinished()
        let first = machine.beginRound(paused: [])
        let second = machine.beginRound(paused: [])
        #expect(first.ingestJustFinished)
        #expect(!second.ingestJustFinished, "told once")
        #expect(machine.dueQuery == .nextDue)
        #expect(machine.idle(due: 9_000, now: 8_995) == .sleep(5))
        #expect(machine.idle(due: 11_000, now: 8_995) == .finish, "due after the deadline: not waited for")
        #expect(machine.idle(due: nil, now: 8_995) == .finish)
    }

    @Test func stoppingEndsWaitersGivesBackTheBufferAndWaitsForWhatIsInFlight() throws {
        var machine = DispatchMachine(Self.serve)
        _ = machine.workerAsks()
        let claimed = try jobs("a", "b", "c")
        let round = machine.beginRound(paused: [])
        let handed = machine.endRound(round, claimed: claimed, memoryOutstanding: nil).handOut
        _ = machine.workerAsks()
        let noneWaiting = machine.stop()
        #expect(noneWaiting == 0)
        let answer = machine.workerAsks()
        #expect(answer.isEnd)
        let last = machine.beginRound(paused: [])
        #expect(last.stopping && last.wanted == 0)
        #expect(last.release.map(\.id) == [claimed[2].id], "claimed but never handed out")
        var done = machine.stoppedIdle()
        #expect(!done, "two attempts in flight")
        _ = machine.attemptFinished(outcome(handed[0], .delivered), targetGone: false)
        _ = machine.attemptFinished(outcome(claimed[1], .delivered), targetGone: false)
        done = machine.stoppedIdle()
        #expect(!done, "their outcomes are not recorded yet")
        let recording = machine.beginRound(paused: [])
        #expect(recording.outcomes.count == 2)
        done = machine.stoppedIdle()
        #expect(done)
    }

    @Test func stoppingEndsTheWorkersThatWait() {
        var machine = DispatchMachine(Self.serve)
        let answer = machine.workerAsks()
        #expect(answer.isWait)
        let ended = machine.stop()
        #expect(ended == 1)
        #expect(machine.waiting == 0)
    }

    @Test func aGoneEndpointIsReportedOnceAndRemembered() throws {
        var machine = DispatchMachine(Self.deliver)
        let claimed = try jobs("a", "a")
        _ = machine.endRound(machine.beginRound(paused: []), claimed: claimed, memoryOutstanding: nil)
        for _ in claimed { _ = machine.workerAsks() }
        let atOnce = machine.attemptFinished(outcome(claimed[0], .failed), targetGone: true).urgent
        #expect(atOnce, "a 410 is acted on at once")
        _ = machine.attemptFinished(outcome(claimed[1], .failed), targetGone: true)
        let round = machine.beginRound(paused: [])
        #expect(round.gone.map(\.target) == ["a"])
        #expect(round.gone.first?.error == "HTTP 410")
        #expect(machine.isGone("a") && !machine.isGone("b"))
    }

    @Test func withoutASpoolTheReaderWaitsWhileTooMuchIsOutstanding() {
        var machine = DispatchMachine(Self.deliver)
        machine.append([NewMessage(messageID: "m", body: [], targets: ["a", "b", "c"])])
        #expect(machine.mustWait(limit: 3))
        let round = machine.beginRound(paused: [])
        #expect(round.appends.count == 1)
        _ = machine.endRound(round, claimed: [], memoryOutstanding: 2)
        #expect(!machine.mustWait(limit: 3))
    }

    @Test func progressCountsAttemptedDeliveriesWaitingForARetry() {
        var machine = DispatchMachine(Self.deliver)
        func state(_ id: Int64, _ status: DeliveryStatus) -> DeliveryState {
            DeliveryState(id: id, messageID: "m", target: "a", status: status, attempts: 1, nextAttemptAt: 0)
        }
        var result = machine.record([])
        #expect(result.retrying == nil)
        result = machine.record([state(1, .pending), state(2, .pending), nil])
        #expect(result.retrying == 2)
        result = machine.record([state(1, .delivered)])
        #expect(result.final.map(\.id) == [1] && result.retrying == 1)
        result = machine.record([], failedByGone: [state(2, .failed)])
        #expect(result.retrying == nil)
        result = machine.record([state(3, .delivered)])
        #expect(result.retrying == 0)
        // A daemon reports no progress, and keeps no set of what waits for a retry.
        var daemon = DispatchMachine(Self.serve)
        let retrying = daemon.record([state(4, .pending), state(5, .delivered)])
        #expect(retrying.retrying == nil && retrying.final.map(\.id) == [5])
    }
}

extension DispatchMachine.Answer {
    var isWait: Bool { if case .wait = self { true } else { false } }
    var isEnd: Bool { if case .end = self { true } else { false } }
}

/// Gathering outcomes before a round (PostgreSQL's `serve`): only while nothing is urgent.
@Suite struct DispatchMachineGatheringTests {
    func outcome(_ job: ClaimedDelivery) -> DeliveryOutcome {
        DeliveryOutcome(delivery: job, attempt: AttemptRecord(startedAt: 0, httpStatus: 204, latencyMilliseconds: 1, error: nil), next: .delivered)
    }

    /// A machine with `claimed` handed to three workers and one left in the buffer.
    func running(gather: Int64?) throws -> (DispatchMachine, [ClaimedDelivery]) {
        var settings = DispatchMachineTests.serve
        settings.maxPerEndpoint = nil
        settings.gatherOutcomes = gather
        var machine = DispatchMachine(settings)
        let claimed = try DispatchMachineTests().jobs("a", "b", "c", "d")
        _ = machine.endRound(machine.beginRound(paused: []), claimed: claimed, memoryOutstanding: nil)
        for _ in 0..<3 { _ = machine.workerAsks() }
        return (machine, claimed)
    }

    @Test func outcomesGatherWhileWorkersAreBusyAndNoneWaits() throws {
        var (machine, claimed) = try running(gather: 5)
        #expect(!machine.mayGather, "nothing to write yet")
        _ = machine.attemptFinished(outcome(claimed[0]), targetGone: false)
        #expect(machine.mayGather, "an outcome, two attempts in flight, a job buffered")
        machine.inputArrived()
        #expect(machine.mayGather, "new input waits for a worker to ask")
        _ = machine.attemptFinished(outcome(claimed[1]), targetGone: false)
        #expect(machine.mayGather)
        #expect(machine.beginRound(paused: []).outcomes.count == 2, "the round writes what gathered")
        #expect(!machine.mayGather)
    }

    @Test func aWaitingWorkerAGoneTargetStoppingOrTheLastAttemptEndTheGathering() throws {
        var (machine, claimed) = try running(gather: 5)
        _ = machine.attemptFinished(outcome(claimed[0]), targetGone: false)
        _ = machine.workerAsks()
        #expect(machine.mayGather, "the buffered job went to the worker: none waits")
        _ = machine.workerAsks()
        #expect(!machine.mayGather, "a worker waits for a job")

        (machine, claimed) = try running(gather: 5)
        _ = machine.attemptFinished(outcome(claimed[0]), targetGone: true)
        #expect(!machine.mayGather, "a target answered 410: fail its queue now")

        (machine, claimed) = try running(gather: 5)
        _ = machine.attemptFinished(outcome(claimed[0]), targetGone: false)
        _ = machine.stop()
        #expect(!machine.mayGather, "stopping")

        (machine, claimed) = try running(gather: 5)
        for job in claimed.prefix(3) { _ = machine.attemptFinished(outcome(job), targetGone: false) }
        #expect(!machine.mayGather, "nothing in flight: no more outcomes would come")

        (machine, claimed) = try running(gather: nil)
        _ = machine.attemptFinished(outcome(claimed[0]), targetGone: false)
        #expect(!machine.mayGather, "SQLite writes each at once")
    }
}
