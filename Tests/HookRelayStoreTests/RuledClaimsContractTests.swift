import Foundation
import HookRelayCore
import Testing
@testable import HookRelayStore

/// Claims under a webhook's rate limit and ordering (``RuledClaims``), alike on every backend.
@Suite struct RuledClaimsContractTests {
    func events(_ store: any ServeStore, _ ids: [String], to webhook: String = "w", at now: Int64) throws {
        _ = try store.ingest(ids.map { IngestedEvent(id: $0, body: Array(#"{"id":"\#($0)"}"#.utf8), targets: [(webhook: webhook, skipped: false)]) }, now: now)
    }

    @Test(arguments: StoreKind.allCases)
    func aRateLimitTakesATokenPerDeliveryAndRefills(_ kind: StoreKind) throws {
        let store = try kind.make().store
        try events(store, ["a", "b", "c", "d"], at: 1000)
        let rules = DeliveryRules(rateLimit: RateLimit(count: 2, period: 1000), fifo: false)
        var (claimed, tokenAt) = try store.claimRuled(endpoint: "w", rules: rules, room: 8, perEndpoint: 8, now: 1000, lease: 60_000)
        #expect(claimed.map(\.messageID) == ["a", "b"], "a full bucket: a burst of its size")
        #expect(tokenAt == 1500, "the next token in 1000 ms / 2")
        (claimed, tokenAt) = try store.claimRuled(endpoint: "w", rules: rules, room: 8, perEndpoint: 8, now: 1200, lease: 60_000)
        #expect(claimed.isEmpty)
        #expect(tokenAt == 1500)
        (claimed, tokenAt) = try store.claimRuled(endpoint: "w", rules: rules, room: 8, perEndpoint: 8, now: 1500, lease: 60_000)
        #expect(claimed.map(\.messageID) == ["c"])
        (claimed, tokenAt) = try store.claimRuled(endpoint: "w", rules: rules, room: 8, perEndpoint: 8, now: 5000, lease: 60_000)
        #expect(claimed.map(\.messageID) == ["d"])
        #expect(tokenAt == nil, "nothing more is due: not waiting for a token")
    }

    @Test(arguments: StoreKind.allCases)
    func theLimitOfLeasesHoldsForEveryProcess(_ kind: StoreKind) throws {
        let (store, open) = try kind.make()
        let other = try open(.writer)
        try events(store, ["a", "b", "c"], at: 1000)
        let rules = DeliveryRules(rateLimit: RateLimit(count: 100, period: 1000), fifo: false)
        #expect(try store.claimRuled(endpoint: "w", rules: rules, room: 8, perEndpoint: 2, now: 1000, lease: 60_000).claimed.count == 2)
        #expect(try other.claimRuled(endpoint: "w", rules: rules, room: 8, perEndpoint: 2, now: 1001, lease: 60_000).claimed.isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func fifoTakesTheOldestPendingOnlyWhenItIsDueAndNothingIsLeased(_ kind: StoreKind) throws {
        let store = try kind.make().store
        try events(store, ["first", "second"], at: 1000)
        let fifo = DeliveryRules(rateLimit: nil, fifo: true)
        let head = try store.claimRuled(endpoint: "w", rules: fifo, room: 8, perEndpoint: 8, now: 1000, lease: 60_000).claimed
        #expect(head.map(\.messageID) == ["first"])
        #expect(try store.claimRuled(endpoint: "w", rules: fifo, room: 8, perEndpoint: 8, now: 1001, lease: 60_000).claimed.isEmpty, "one at a time")
        // It fails and waits for a retry at 9000: the second waits behind it, though due.
        _ = try store.complete([outcome(head[0], .retry(at: 9000), status: 500)], now: 1002)
        #expect(try store.claimRuled(endpoint: "w", rules: fifo, room: 8, perEndpoint: 8, now: 5000, lease: 60_000).claimed.isEmpty)
        let again = try store.claimRuled(endpoint: "w", rules: fifo, room: 8, perEndpoint: 8, now: 9000, lease: 60_000).claimed
        #expect(again.map(\.messageID) == ["first"])
        _ = try store.complete([outcome(again[0], .failed, status: 500)], now: 9001)
        #expect(try store.claimRuled(endpoint: "w", rules: fifo, room: 8, perEndpoint: 8, now: 9002, lease: 60_000).claimed.map(\.messageID) == ["second"])
    }
}
