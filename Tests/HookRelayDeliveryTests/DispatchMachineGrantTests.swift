@testable import HookRelayDelivery
@testable import HookRelayStore
import Testing

/// The machine under slot grants (``GrantedSlots``): an attempt starts only on a free slot of a
/// grant that outlasts it, a finished attempt's slot is taken again at once, claims run ahead,
/// and a renewal caps each endpoint at what it reported until it ends.
@Suite struct DispatchMachineGrantTests {
    static let granted: DispatchMachine.Settings = {
        var settings = DispatchMachineTests.serve
        settings.claimBatch = 8
        settings.maxPerEndpoint = 3
        settings.handOutWithin = 1_000
        settings.grantUsable = 1_000
        settings.grantRenewal = 100
        return settings
    }()

    let tests = DispatchMachineTests()

    func delivered(_ job: ClaimedDelivery) -> DeliveryOutcome {
        DeliveryOutcome(delivery: job, attempt: AttemptRecord(startedAt: 0, httpStatus: 204, latencyMilliseconds: 1, error: nil), next: .delivered)
    }

    /// A machine granted `grants` at 10,000 (uptime 0), holding `claimed` from a round at 10,000.
    func machine(_ grants: [String: Int], claimed: [ClaimedDelivery]) -> DispatchMachine {
        var machine = DispatchMachine(Self.granted)
        #expect(machine.grantsDue(uptime: 0), "never renewed: due")
        _ = machine.beginRenewal()
        _ = machine.grantsRenewed(grants, at: 10_000, uptime: 0)
        _ = machine.endRound(machine.beginRound(paused: []), claimed: claimed, memoryOutstanding: nil, at: 10_000)
        return machine
    }

    @Test func attemptsStartOnFreeSlotsAndAFinishedOnesSlotIsTakenAtOnce() throws {
        let jobs = try tests.jobs("a", "b", "a", "a")
        var machine = machine(["a": 2], claimed: jobs)
        guard case let .job(first) = machine.workerAsks(now: 10_000), case let .job(second) = machine.workerAsks(now: 10_000) else {
            Issue.record("two slots granted for a")
            return
        }
        #expect([first.id, second.id] == [jobs[0].id, jobs[2].id], "b has no grant: skipped, not handed out")
        #expect(machine.workerAsks(now: 10_000).isWait, "a's two slots are taken")
        let (_, handOut) = machine.attemptFinished(delivered(first), targetGone: false, now: 10_001)
        #expect(handOut.map(\.id) == [jobs[3].id], "the waiting worker takes the freed slot without a round")
        // Claims run ahead: two grants' worth (4) less the 2 a holds; b, not granted, gets nothing.
        let round = machine.beginRound(paused: [])
        #expect(round.quota?.granted?.map(\.target) == ["a"])
        #expect(round.quota?.granted?.map(\.claims) == [2])
    }

    @Test func noAttemptStartsOnceTheGrantCouldEndBeforeIt() throws {
        let jobs = try tests.jobs("a", "a")
        var machine = machine(["a": 3], claimed: [])
        _ = machine.endRound(machine.beginRound(paused: []), claimed: jobs, memoryOutstanding: nil, at: 10_900)
        guard case .job = machine.workerAsks(now: 11_000) else {
            Issue.record("the grant is usable for its length less the longest attempt (1,000 ms)")
            return
        }
        #expect(machine.workerAsks(now: 11_001).isWait, "past it: renewed first")
        #expect(machine.grantsDue(uptime: 100) && !machine.grantsDue(uptime: 99))
        _ = machine.beginRenewal()
        let handOut = machine.grantsRenewed(["a": 3], at: 11_001, uptime: 100)
        #expect(handOut.map(\.id) == [jobs[1].id], "the renewal hands out to the waiting worker")
    }

    @Test func duringARenewalNoEndpointGoesPastWhatItReported() throws {
        let jobs = try tests.jobs("a", "a", "a", "b")
        var machine = machine(["a": 3, "b": 1], claimed: jobs)
        guard case let .job(first) = machine.workerAsks(now: 10_000) else {
            Issue.record("no job")
            return
        }
        let (inFlight, holding, asking) = machine.beginRenewal()
        #expect(inFlight == ["a": 1] && holding == ["a", "b"] && asking)
        #expect(machine.workerAsks(now: 10_000).isWait, "a reported one in flight; b none")
        let (_, handOut) = machine.attemptFinished(delivered(first), targetGone: false, now: 10_001)
        #expect(handOut.map(\.id) == [jobs[1].id], "back to one in flight, within what was reported")
        #expect(machine.workerAsks(now: 10_001).isWait)
        let renewed = machine.grantsRenewed(["a": 2, "b": 1], at: 10_002, uptime: 100)
        #expect(renewed.map(\.id) == [jobs[2].id], "the new grant hands out to the waiting worker")
        guard case let .job(last) = machine.workerAsks(now: 10_002) else {
            Issue.record("b's slot is free again")
            return
        }
        #expect(last.id == jobs[3].id)
        // A renewal that failed (or committed unheard) keeps the grants held, capped at what it
        // reported in flight until one succeeds.
        _ = machine.beginRenewal()
        #expect(machine.grantsRenewed(nil, at: 10_003, uptime: 200).isEmpty)
        #expect(machine.grantsDue(uptime: 200), "renewed again next round")
        let (_, freed) = machine.attemptFinished(delivered(last), targetGone: false, now: 10_003)
        #expect(freed.isEmpty)
        _ = machine.endRound(machine.beginRound(paused: []), claimed: try tests.jobs("b", "b"), memoryOutstanding: nil, at: 10_003)
        #expect(!machine.workerAsks(now: 10_003).isWait)
        #expect(machine.workerAsks(now: 10_003).isWait, "b reported one in flight when the renewal began")
        // A renewal that took 20 ms (many webhooks with work): the next is 200 ms later, not 100;
        // one that took 90 ms, 250 ms later: a quarter of the time a grant may be used for.
        _ = machine.beginRenewal()
        _ = machine.grantsRenewed(["a": 2, "b": 1], at: 10_004, uptime: 200, took: 20)
        #expect(!machine.grantsDue(uptime: 399) && machine.grantsDue(uptime: 400))
        _ = machine.beginRenewal()
        _ = machine.grantsRenewed(["a": 2, "b": 1], at: 10_005, uptime: 400, took: 90)
        #expect(!machine.grantsDue(uptime: 649) && machine.grantsDue(uptime: 650))
    }

    @Test func aRuledEndpointIsLimitedByThePerEndpointLimitAlone() throws {
        let jobs = try tests.jobs("r", "r", "r", "r")
        var machine = machine([:], claimed: [])
        _ = machine.endRound(machine.beginRound(paused: ["r"], ruled: ["r"]), claimed: jobs, memoryOutstanding: nil, at: 10_000)
        for _ in 0..<3 { #expect(!machine.workerAsks(now: 10_000).isWait) }
        #expect(machine.workerAsks(now: 10_000).isWait, "the limit is 3")
    }

    @Test func grantsHeldWhileIdleAreGivenBackAtTheNextRenewal() {
        var machine = machine(["a": 3], claimed: [])
        #expect(machine.idle(due: nil, now: 10_000) == .sleep(100), "not the longest sleep: the grant goes back first")
        _ = machine.beginRenewal()
        _ = machine.grantsRenewed([:], at: 10_100, uptime: 100)
        #expect(machine.idle(due: nil, now: 10_100) == .sleep(1_000))
    }

    /// Claimed ahead, not yet sent: a target that answered 410 gets them given back before its
    /// queue is failed (the round releases, then fails what no lease holds), and a webhook paused
    /// since gets them given back at the next round, not kept until their lease runs short.
    @Test func whatWasClaimedAheadGoesBackForAGoneTargetAndAPausedWebhook() throws {
        let jobs = try tests.jobs("a", "a", "a", "b", "b")
        var machine = machine(["a": 1, "b": 1], claimed: jobs)
        guard case let .job(first) = machine.workerAsks(now: 10_000) else {
            Issue.record("no job")
            return
        }
        let (_, handOut) = machine.attemptFinished(
            DeliveryOutcome(delivery: first, attempt: AttemptRecord(startedAt: 0, httpStatus: 410, latencyMilliseconds: 1, error: "HTTP 410"), next: .failed),
            targetGone: true, now: 10_001)
        #expect(handOut.isEmpty)
        var round = machine.beginRound(paused: ["b"])
        #expect(round.release.map(\.id) == [jobs[1].id, jobs[2].id, jobs[3].id, jobs[4].id])
        #expect(round.gone.map(\.target) == ["a"])
        #expect(round.quota?.held == ["a": 0, "b": 0])
        _ = machine.endRound(round, claimed: [], memoryOutstanding: nil, at: 10_002)
        // A ruled webhook's claims stay: they are not the grants'.
        _ = machine.endRound(machine.beginRound(paused: ["r"], ruled: ["r"]), claimed: try tests.jobs("r"), memoryOutstanding: nil, at: 10_003)
        round = machine.beginRound(paused: ["r"], ruled: ["r"])
        #expect(round.release.isEmpty)
    }

    /// Of the endpoints holding as little, the one whose claims came back longest ago claims
    /// first: a webhook whose id sorts late is not left behind.
    @Test func claimsGoToTheEndpointServedLongestAgo() throws {
        var machine = machine(["a": 1, "b": 1, "c": 1], claimed: [])
        #expect(machine.beginRound(paused: []).quota?.granted?.map(\.target) == ["a", "b", "c"])
        _ = machine.endRound(machine.beginRound(paused: []), claimed: [], memoryOutstanding: nil, at: 10_000)
        for target in ["a", "b"] {
            let job = try tests.jobs(target)
            _ = machine.endRound(machine.beginRound(paused: []), claimed: job, memoryOutstanding: nil, at: 10_000)
            guard case let .job(taken) = machine.workerAsks(now: 10_000) else {
                Issue.record("no job")
                return
            }
            _ = machine.attemptFinished(delivered(taken), targetGone: false, now: 10_000)
        }
        #expect(machine.beginRound(paused: []).quota?.granted?.map(\.target) == ["c", "a", "b"])
    }

    /// A grant lasts the lease, but at least a second more than the longest attempt: a lease as
    /// short as an attempt (allowed) would leave no time to start one after a renewal.
    @Test func aGrantOutlastsTheLongestAttemptByASecond() {
        #expect(Dispatcher.grantLength(lease: .seconds(4), longestAttempt: .seconds(4)) == 5_000)
        #expect(Dispatcher.grantLength(lease: .seconds(60), longestAttempt: .seconds(40)) == 60_000)
    }
}
