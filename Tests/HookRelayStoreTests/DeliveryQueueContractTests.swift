import Foundation
import HookRelayPostgres
import Testing
@testable import HookRelayStore

/// Every ``DeliveryQueue`` implementation, for the contract suite. PostgreSQL's case runs when
/// the tests have a server (``PostgresTestServer``; skipped with a note otherwise).
enum QueueKind: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, memory, postgres

    static var allCases: [QueueKind] { PostgresTestServer.runs ? [.sqlite, .memory, .postgres] : [.sqlite, .memory] }

    func make() throws -> any DeliveryQueue {
        switch self {
        case .sqlite: try SQLiteSpool(path: temporarySpool())
        case .memory: MemoryStore()
        case .postgres: try PostgresStore.open(PostgresTestServer.freshURL(), role: .writer)
        }
    }

    var testDescription: String { rawValue }
}

/// The delivery queue's contract: what every implementation (the SQLite spool, the in-memory
/// store, and any backend to come) must do alike. What only one of them does (the SQLite
/// spool's de-duplication and attempt log) is tested beside it.
@Suite struct DeliveryQueueContractTests {
    @Test(arguments: QueueKind.allCases)
    func appendClaimComplete(_ kind: QueueKind) throws {
        let store = try kind.make()
        #expect(try store.append([message("a", ["u1", "u2"]), message("b")], now: 1000) == 3)
        let claimed = try store.claim(limit: 10, now: 1000, lease: 60_000)
        #expect(claimed.map(\.messageID) == ["a", "a", "b"])
        #expect(claimed.map(\.target) == ["u1", "u2", "https://a.example/hook"])
        #expect(claimed[0].body == Array(#"{"id":"a"}"#.utf8))
        // Claimed deliveries are not handed out again while leased.
        #expect(try store.claim(limit: 10, now: 1001, lease: 60_000).isEmpty)
        let states = try store.complete([outcome(claimed[0], .delivered), outcome(claimed[1], .retry(at: 5000), status: 500), outcome(claimed[2], .failed, status: 400)], now: 1002)
        #expect(states.map { $0?.status } == [.delivered, .pending, .failed])
        #expect(states[1]?.attempts == 1)
        #expect(states[1]?.lastHTTPStatus == 500)
        #expect(try store.nextDue() == 5000)
        #expect(try store.claim(limit: 10, now: 4999, lease: 60_000).isEmpty)
        let retried = try store.claim(limit: 10, now: 5000, lease: 60_000)
        #expect(retried.map(\.target) == ["u2"])
        #expect(retried[0].attempts == 1)
    }

    @Test(arguments: QueueKind.allCases)
    func expiredLeaseIsClaimedAgainAndTheLateCompletionLoses(_ kind: QueueKind) throws {
        let store = try kind.make()
        _ = try store.append([message("a")], now: 0)
        let first = try store.claim(limit: 1, now: 0, lease: 100)
        #expect(try store.nextDue() == 100)
        // The first worker froze past its lease: another claims the same delivery.
        let second = try store.claim(limit: 1, now: 150, lease: 100)
        #expect(second.map(\.id) == first.map(\.id))
        #expect(try store.complete([outcome(second[0], .delivered)], now: 160).first??.status == .delivered)
        // The frozen worker wakes and reports a failure: it must not overwrite the newer state.
        #expect(try store.complete([outcome(first[0], .retry(at: 999), status: 500)], now: 170).map { $0 == nil } == [true])
    }

    @Test(arguments: QueueKind.allCases)
    func goneEndpointFailsItsPendingDeliveries(_ kind: QueueKind) throws {
        let store = try kind.make()
        _ = try store.append([message("a", ["gone", "ok"]), message("b", ["gone"])], now: 0)
        let failed = try store.failPending(target: "gone", error: "410 Gone", now: 1)
        #expect(failed.map(\.messageID).sorted() == ["a", "b"])
        #expect(failed.allSatisfy { $0.status == .failed && $0.lastError == "410 Gone" })
        #expect(try store.claim(limit: 10, now: 2, lease: 100).map(\.target) == ["ok"])
    }

    @Test(arguments: QueueKind.allCases)
    func claimsKeepToEachEndpointsQuotaOldestFirstAndReleaseGivesBack(_ kind: QueueKind) throws {
        let store = try kind.make()
        _ = try store.append([message("m1", ["slow", "fast"]), message("m2", ["slow", "fast"])], now: 0)
        _ = try store.append([message("m3", ["slow", "fast"])], now: 1)
        let quota = TargetQuota(limit: 2, held: ["slow": 2, "fast": 1])
        let claimed = try store.claim(limit: 10, now: 5, lease: 100, quota: quota)
        #expect(claimed.map(\.target) == ["fast"])
        #expect(claimed.map(\.messageID) == ["m1"], "each endpoint's oldest first")
        // What this process holds is what it claimed (a store may also count what other
        // processes lease: PostgreSQL's limit holds across instances).
        let more = try store.claim(limit: 10, now: 5, lease: 100, quota: TargetQuota(limit: 2, held: ["fast": 1]))
        #expect(more.map(\.target).sorted() == ["fast", "slow", "slow"])
        let slow = more.filter { $0.target == "slow" }
        #expect(slow.map(\.messageID) == ["m1", "m2"])
        #expect(more.filter { $0.target == "fast" }.map(\.messageID) == ["m2"])
        try store.release(slow)
        #expect(try store.claim(limit: 10, now: 5, lease: 100).map(\.messageID).sorted() == ["m1", "m2", "m3", "m3"])
    }

    @Test(arguments: QueueKind.allCases)
    func aRetryIsNotClaimedBeforeItIsDueAndTheIdleWaitEndsWhenItIs(_ kind: QueueKind) throws {
        let store = try kind.make()
        _ = try store.append([message("a", ["u1"]), message("b", ["u2"])], now: 100)
        #expect(try store.nextUnclaimedDue(excluding: []) == 100)
        let claimed = try store.claim(limit: 10, now: 100, lease: 1_000)
        _ = try store.complete(claimed.map { outcome($0, .retry(at: $0.target == "u1" ? 700 : 500), status: 503) }, now: 110)
        #expect(try store.nextUnclaimedDue(excluding: []) == 500)
        #expect(try store.nextUnclaimedDue(excluding: ["u2"]) == 700, "an excluded (paused) endpoint is not waited for")
        #expect(try store.nextDue(excluding: ["u1", "u2"]) == nil)
        #expect(try store.claim(limit: 10, now: 499, lease: 1_000).isEmpty)
        #expect(try store.claim(limit: 10, now: 500, lease: 1_000).map(\.target) == ["u2"])
    }

    @Test(arguments: QueueKind.allCases)
    func aPausedEndpointGetsNothingAndTheOthersGoOn(_ kind: QueueKind) throws {
        let store = try kind.make()
        _ = try store.append([message("a", ["paused", "open"])], now: 0)
        let quota = TargetQuota(limit: 10, held: [:], paused: ["paused"])
        #expect(try store.claim(limit: 10, now: 0, lease: 100, quota: quota).map(\.target) == ["open"])
        #expect(try store.claim(limit: 10, now: 0, lease: 100, quota: quota).isEmpty)
        #expect(try store.claim(limit: 10, now: 0, lease: 100).map(\.target) == ["paused"], "resumed")
    }

    @Test(arguments: QueueKind.allCases)
    func anAttemptHeldBackDoesNotCountAndOneCutOffDoes(_ kind: QueueKind) throws {
        let store = try kind.make()
        _ = try store.append([message("a")], now: 0)
        var job = try store.claim(limit: 1, now: 0, lease: 100)[0]
        var held = outcome(job, .retry(at: 10), status: nil)
        held.counted = false
        #expect(try store.complete([held], now: 5).first??.attempts == 0)
        job = try store.claim(limit: 1, now: 10, lease: 100)[0]
        #expect(job.attempts == 0)
        var cutOff = outcome(job, .retry(at: 20), status: nil)
        cutOff.interrupted = true
        #expect(try store.complete([cutOff], now: 15).first??.attempts == 1)
        #expect(try store.claim(limit: 1, now: 20, lease: 100).first?.attempts == 1)
    }

    @Test(arguments: QueueKind.allCases)
    func completeAndClaimRecordsFirstThenClaimsAndReleaseMakesDueAtOnce(_ kind: QueueKind) throws {
        let store = try kind.make()
        _ = try store.append([message("a"), message("b")], now: 0)
        let first = try store.claim(limit: 1, now: 0, lease: 1_000)
        #expect(first.map(\.messageID) == ["a"])
        let (states, claimed) = try store.completeAndClaim([outcome(first[0], .delivered)], limit: 10, now: 1, lease: 1_000, quota: nil)
        #expect(states.map { $0?.status } == [.delivered])
        #expect(claimed.map(\.messageID) == ["b"])
        #expect(try store.pendingStates(now: 2).map(\.messageID) == ["b"])
        try store.release(claimed)
        #expect(try store.nextUnclaimedDue(excluding: []) == 0)
        let again = try store.claim(limit: 10, now: 3, lease: 1_000)
        #expect(again.map(\.messageID) == ["b"])
        #expect(again[0].claim != claimed[0].claim, "a new claim gets a new fencing token")
        #expect(try store.complete([outcome(claimed[0], .delivered)], now: 4).map { $0 == nil } == [true], "the released claim is superseded")
    }
}
