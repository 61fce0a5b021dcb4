@testable import HookRelayDelivery
@testable import HookRelayStore
import Testing

/// When a round may follow the last on a ``ChainedRounds`` store's own thread, and when the chain
/// may wait for an outcome instead of ending (Dispatcher+Chain.swift).
@Suite struct DispatchMachineChainTests {
    let serve = DispatchMachineTests.serve

    func claimed(_ machine: inout DispatchMachine, _ endpoints: String...) throws -> [ClaimedDelivery] {
        let queue = MemoryStore()
        _ = try queue.append(endpoints.enumerated().map { NewMessage(messageID: "m\($0.offset)", body: [], targets: [$0.element]) }, now: 0)
        let jobs = try queue.claim(limit: endpoints.count, now: 0, lease: 100)
        _ = machine.endRound(machine.beginRound(paused: []), claimed: jobs, memoryOutstanding: nil)
        return jobs
    }

    func delivered(_ job: ClaimedDelivery) -> DeliveryOutcome {
        DeliveryOutcome(delivery: job, attempt: AttemptRecord(startedAt: 0, httpStatus: 204, latencyMilliseconds: 1, error: nil), next: .delivered)
    }

    @Test func outcomesAloneChainAndAChainWaitsWhileAttemptsAreInFlight() throws {
        var machine = DispatchMachine(serve)
        _ = try claimed(&machine, "a", "a")
        guard case let .job(first) = machine.workerAsks(), case let .job(second) = machine.workerAsks() else {
            Issue.record("two jobs expected")
            return
        }
        #expect(!machine.chainable, "nothing to record yet")
        #expect(machine.chainMayWait, "two attempts in flight: their outcomes will come")
        _ = machine.attemptFinished(delivered(first), targetGone: false)
        #expect(machine.chainable)
        let round = machine.beginRound(paused: [])
        #expect(round.outcomes.map(\.delivery.id) == [first.id])
        _ = machine.endRound(round, claimed: [], memoryOutstanding: nil)
        #expect(machine.chainMayWait, "one still in flight")
        _ = machine.attemptFinished(delivered(second), targetGone: false)
        _ = machine.endRound(machine.beginRound(paused: []), claimed: [], memoryOutstanding: nil)
        #expect(!machine.chainMayWait, "nothing in flight: no outcome would come")
    }

    @Test(arguments: ["input", "append", "gone", "stop", "end of input"])
    func whatOnlyTheStoreThreadDoesEndsTheChain(_ event: String) throws {
        var machine = DispatchMachine(serve)
        _ = try claimed(&machine, "a", "b")
        guard case let .job(first) = machine.workerAsks(), case .job = machine.workerAsks() else {
            Issue.record("two jobs expected")
            return
        }
        _ = machine.attemptFinished(delivered(first), targetGone: event == "gone")
        #expect(machine.chainable == (event == "gone" ? false : true))
        switch event {
        case "input": machine.inputArrived()
        case "append": machine.append([NewMessage(messageID: "n", body: [], targets: ["a"])])
        case "stop": _ = machine.stop()
        case "end of input": machine.inputFinished()
        default: break
        }
        if event == "input" {
            // New input alone is claimed by the chained round itself; once that round began, the chain may not wait on it.
            #expect(machine.chainable)
            _ = machine.endRound(machine.beginRound(paused: []), claimed: [], memoryOutstanding: nil)
            machine.inputArrived()
            #expect(!machine.chainMayWait, "new input: the store thread claims it")
        } else {
            #expect(!machine.chainable, "\(event): the store thread's round")
            #expect(!machine.chainMayWait)
        }
    }

    @Test func outcomesThatMayGatherEndTheChain() throws {
        var settings = serve
        settings.gatherOutcomes = 5
        var machine = DispatchMachine(settings)
        _ = try claimed(&machine, "a", "b")
        guard case let .job(first) = machine.workerAsks(), case .job = machine.workerAsks() else {
            Issue.record("two jobs expected")
            return
        }
        _ = machine.attemptFinished(delivered(first), targetGone: false)
        #expect(machine.mayGather, "no worker waits, one attempt in flight")
        #expect(!machine.chainable, "the store thread gathers")
        #expect(machine.workerAsks().isWait)
        #expect(machine.chainable, "a worker waits: no gathering")
    }
}
