import Dispatch
import Foundation
import HookRelayCore
import Synchronization
import Testing
@testable import HookRelayStore

/// Digests in the store, alike on every backend (issue 19): a fold opens the webhook's digest
/// (a pending delivery due at the window's end) or adds to the open one, in one transaction; a
/// repeated fold of a delivery changes nothing; the window's end and the digest's claim close
/// it; a reopened store keeps it; concurrent folds from two connections make one digest.
@Suite struct DigestStoreContractTests {
    /// Each fold adds one byte: the body's length is the number of folds.
    static let addOne: DigestUpdate = { body, _, _ in (body ?? []) + [UInt8(ascii: "x")] }

    func filled(_ kind: StoreKind, events: Int) throws -> (store: any ServeStore, open: (ConnectionRole) throws -> any ServeStore, claimed: [ClaimedDelivery]) {
        let (store, open) = try kind.make()
        var webhook = Webhook(id: "a", url: "https://a.example/hook", secrets: ["whsec_x"], now: 0)
        webhook.digest = DigestSettings(window: 60_000)
        try store.save(webhook)
        let batch = IngestBatch((0..<events).map {
            IngestedEvent(id: "e\($0)", body: Array(#"{"id":"e\#($0)"}"#.utf8), targets: [(webhook: "a", skipped: false)])
        })
        _ = try store.ingest([batch], now: 1)
        let claimed = try store.claim(limit: events, now: 1, lease: 600_000, quota: nil)
        #expect(claimed.count == events)
        return (store, open, claimed)
    }

    @Test(arguments: StoreKind.allCases)
    func aWebhooksDigestSettingsAreSavedAndChanged(_ kind: StoreKind) throws {
        let store = try kind.make().store
        var webhook = Webhook(id: "a", url: "https://a.example/hook", secrets: ["whsec_x"], now: 0)
        #expect(webhook.digest == nil, "off for a new webhook")
        webhook.digest = DigestSettings(window: 300_000, bypass: .critical, top: 7)
        try store.save(webhook)
        #expect(try store.webhook(id: "a")?.digest == DigestSettings(window: 300_000, bypass: .critical, top: 7))
        webhook.digest = nil
        webhook.updatedAt = 5
        #expect(try store.updateSettings(webhook)?.digest == nil)
        webhook.digest = DigestSettings(window: 2_000)
        #expect(try store.updateSettings(webhook)?.digest == DigestSettings(window: 2_000, bypass: nil, top: 5))
    }

    @Test(arguments: StoreKind.allCases)
    func foldsGatherIntoOneDigestDueAtTheWindowsEnd(_ kind: StoreKind) throws {
        let (store, _, claimed) = try filled(kind, events: 3)
        let first = try store.fold(delivery: claimed[0].id, webhook: "a", window: 60_000, now: 10, update: Self.addOne)
        #expect(first.opened && !first.repeated)
        let second = try store.fold(delivery: claimed[1].id, webhook: "a", window: 60_000, now: 20, update: Self.addOne)
        let third = try store.fold(delivery: claimed[2].id, webhook: "a", window: 60_000, now: 30, update: Self.addOne)
        #expect(!second.opened && !third.opened)
        #expect(Set([first, second, third].map(\.digestDelivery)) == [first.digestDelivery], "one digest")
        #expect(try store.digestBody(delivery: first.digestDelivery)?.count == 3)
        #expect(try store.digestBody(delivery: claimed[0].id) == nil, "an event's delivery is no digest")

        let again = try store.fold(delivery: claimed[1].id, webhook: "a", window: 60_000, now: 40, update: Self.addOne)
        #expect(again == DigestFold(digestDelivery: first.digestDelivery, opened: false, repeated: true))
        #expect(try store.digestBody(delivery: first.digestDelivery)?.count == 3, "a repeated fold adds nothing")

        #expect(try store.claim(limit: 10, now: 60_009, lease: 1000, quota: nil).isEmpty, "not due before the window's end")
        let due = try store.claim(limit: 10, now: 60_010, lease: 1000, quota: nil)
        #expect(due.map(\.id) == [first.digestDelivery])
        #expect(due.first?.messageID.hasPrefix(digestMessagePrefix) == true)
        #expect(due.first?.target == "a")
    }

    @Test(arguments: StoreKind.allCases)
    func theWindowsEndOrTheDigestsClaimClosesIt(_ kind: StoreKind) throws {
        let (store, _, claimed) = try filled(kind, events: 3)
        let first = try store.fold(delivery: claimed[0].id, webhook: "a", window: 1_000, now: 10, update: Self.addOne)
        let late = try store.fold(delivery: claimed[1].id, webhook: "a", window: 1_000, now: 1_010, update: Self.addOne)
        #expect(late.opened && late.digestDelivery != first.digestDelivery, "the window ended: a second digest")
        #expect(try store.digestBody(delivery: first.digestDelivery)?.count == 1)
        // The second digest's delivery is claimed (sent early, say by an operator) before its
        // window ends: nothing is added to what is being sent.
        guard case .claimed = try store.claimDelivery(id: late.digestDelivery, now: 1_020, lease: 1000) else {
            Issue.record("the digest's delivery was not claimed")
            return
        }
        let third = try store.fold(delivery: claimed[2].id, webhook: "a", window: 1_000, now: 1_030, update: Self.addOne)
        #expect(third.opened && third.digestDelivery != late.digestDelivery)
        #expect(try store.digestBody(delivery: late.digestDelivery)?.count == 1)
    }

    @Test(arguments: StoreKind.allCases)
    func aReopenedStoreKeepsTheOpenDigest(_ kind: StoreKind) throws {
        let (store, open, claimed) = try filled(kind, events: 2)
        let first = try store.fold(delivery: claimed[0].id, webhook: "a", window: 60_000, now: 10, update: Self.addOne)
        let reopened = try open(.writer)
        let second = try reopened.fold(delivery: claimed[1].id, webhook: "a", window: 60_000, now: 20, update: Self.addOne)
        #expect(second == DigestFold(digestDelivery: first.digestDelivery, opened: false, repeated: false))
        #expect(try reopened.fold(delivery: claimed[0].id, webhook: "a", window: 60_000, now: 30, update: Self.addOne).repeated)
        #expect(try reopened.digestBody(delivery: first.digestDelivery)?.count == 2)
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentFoldsFromTwoConnectionsMakeOneDigest(_ kind: StoreKind) throws {
        let (_, open, claimed) = try filled(kind, events: 20)
        nonisolated(unsafe) let stores = [try open(.writer), try open(.writer)]
        let ids = claimed.map(\.id)
        let refs = Mutex<[Int64]>([])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { lane in
            for index in stride(from: lane, to: ids.count, by: 2) {
                do {
                    let fold = try stores[lane].fold(delivery: ids[index], webhook: "a", window: 60_000, now: 10, update: Self.addOne)
                    refs.withLock { $0.append(fold.digestDelivery) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
        let all = refs.withLock { $0 }
        #expect(all.count == 20)
        #expect(Set(all).count == 1, "one digest, not one per connection")
        #expect(try stores[0].digestBody(delivery: all[0])?.count == 20)
    }

    @Test(arguments: StoreKind.allCases)
    func foldedDeliveriesSettleDigestedWithTheDigestAsRef(_ kind: StoreKind) throws {
        let (store, open, claimed) = try filled(kind, events: 2)
        let folds = try claimed.map { try store.fold(delivery: $0.id, webhook: "a", window: 60_000, now: 10, update: Self.addOne) }
        _ = try store.complete(claimed.enumerated().map { index, job in
            var settled = outcome(job, .settled(.digested, ref: folds[index].digestDelivery), status: nil)
            settled.counted = false
            return settled
        }, now: 20)
        let reader = try open(.reader)
        let digested = try reader.deliveries(webhook: "a", status: .digested, since: nil, before: nil, limit: 10)
        #expect(Set(digested.map(\.state.messageID)) == ["e0", "e1"])
        #expect(digested.map(\.state.ref) == [folds[0].digestDelivery, folds[0].digestDelivery])
        #expect(try reader.deliveries(webhook: "a", status: .pending, since: nil, before: nil, limit: 10).map(\.state.id) == [folds[0].digestDelivery])
        // The whole log lists them too (every status when none is asked for).
        #expect(try reader.deliveries(webhook: "a", status: nil, since: nil, before: nil, limit: 10).map(\.state.status)
            == [.pending, .digested, .digested])
    }
}
