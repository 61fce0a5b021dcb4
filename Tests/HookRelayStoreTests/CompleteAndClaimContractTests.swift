import Foundation
import Testing
@testable import HookRelayStore

/// A round's completions and its claim under a quota, alike on every backend (PostgreSQL runs a
/// round of successes as one statement, ``RoundStatement``, whose claim sees the snapshot from
/// before the completions): a completion frees its slot for the same round's claim, a delivery
/// completed after its lease expired is not claimed again by that claim; and on PostgreSQL,
/// where the per-webhook limit holds across instances, the lease of another instance's newer
/// claim still counts.
@Suite struct CompleteAndClaimContractTests {
    /// `count` events for webhook a, the store committing as `serve`'s dispatcher does (not
    /// waiting for the disk: PostgreSQL's one-statement round).
    func events(_ store: any ServeStore, _ count: Int) throws {
        try store.setDurableCommits(false)
        _ = try store.ingest((1...count).map { IngestedEvent(id: "e\($0)", body: Array(#"{"id":"e\#($0)"}"#.utf8), targets: [(webhook: "a", skipped: false)]) }, now: 1000)
    }

    @Test(arguments: StoreKind.allCases)
    func aCompletionFreesItsSlotForTheSameRoundsClaim(_ kind: StoreKind) throws {
        let store = try kind.make().store
        try events(store, 3)
        let first = try store.claim(limit: 10, now: 1000, lease: 60_000, quota: TargetQuota(limit: 1, held: [:]))
        #expect(first.map(\.messageID) == ["e1"], "one at a time")
        let (states, claimed) = try store.completeAndClaim(
            [outcome(first[0], .delivered)], limit: 10, now: 2000, lease: 60_000, quota: TargetQuota(limit: 1, held: [:]))
        #expect(states.map { $0?.status } == [.delivered])
        #expect(claimed.map(\.messageID) == ["e2"], "the slot e1 held is free for the next")
    }

    @Test(arguments: StoreKind.allCases)
    func aDeliveryCompletedAfterItsLeaseExpiredIsNotClaimedAgain(_ kind: StoreKind) throws {
        let store = try kind.make().store
        try events(store, 1)
        let first = try store.claim(limit: 10, now: 1000, lease: 100, quota: TargetQuota(limit: 1, held: [:]))
        let (states, claimed) = try store.completeAndClaim(
            [outcome(first[0], .delivered)], limit: 10, now: 5000, lease: 60_000, quota: TargetQuota(limit: 1, held: [:]))
        #expect(states.map { $0?.status } == [.delivered], "no one claimed it meanwhile: the completion stands")
        #expect(claimed.isEmpty, "delivered in this round: nothing to claim")
        #expect(try store.statistics(now: 6000).deliveries == [.delivered: 1])
    }

    @Test(.enabled(if: PostgresTestServer.runs, PostgresTestServer.note))
    func theLeaseOfANewerClaimStillCountsWhenALateCompletionIsRefused() throws {
        let (store, open) = try StoreKind.postgres.make()
        try events(store, 2)
        let late = try store.claim(limit: 10, now: 1000, lease: 100, quota: TargetQuota(limit: 1, held: [:]))
        // Another instance claims the expired delivery again.
        let other = try open(.writer)
        let again = try other.claim(limit: 10, now: 5000, lease: 60_000, quota: TargetQuota(limit: 1, held: [:]))
        #expect(again.map(\.messageID) == late.map(\.messageID))
        let (states, claimed) = try store.completeAndClaim(
            [outcome(late[0], .delivered)], limit: 10, now: 5001, lease: 60_000, quota: TargetQuota(limit: 1, held: [:]))
        #expect(states == [nil], "fenced: the newer claim owns it")
        #expect(claimed.isEmpty, "the other instance holds the webhook's one slot")
    }
}
