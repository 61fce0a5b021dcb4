import Foundation
import HookRelayCore
import Testing
@testable import HookRelayStore

/// The de-duplication ledger (DedupeLedger.swift), alike on every backend: reservations, records
/// within and past the window, release, lapse, pruning as it goes, and deletion of a webhook.
@Suite struct DedupeLedgerContractTests {
    let day: Int64 = 86_400_000

    @Test(arguments: StoreKind.allCases)
    func aKeySentWithinTheWindowIsADuplicateOfTheFirstDelivery(_ kind: StoreKind) throws {
        let store = try kind.make().store
        #expect(try store.reserveDedupe(endpoint: "wh", key: "k", delivery: 1, window: day, now: 1000, until: 31_000) == .send)
        try store.recordDedupe(endpoint: "wh", key: "k", delivery: 1, window: day, now: 2000)
        #expect(try store.dedupeEntry(endpoint: "wh", key: "k") == DedupeEntry(delivery: 1, sentAt: 2000, expiresAt: 2000 + day))
        #expect(try store.reserveDedupe(endpoint: "wh", key: "k", delivery: 2, window: day, now: 5000, until: 35_000) == .duplicate(of: 1, sentAt: 2000))
        // Another key, another webhook: not duplicates.
        #expect(try store.reserveDedupe(endpoint: "wh", key: "other", delivery: 3, window: day, now: 5000, until: 35_000) == .send)
        #expect(try store.reserveDedupe(endpoint: "wh2", key: "k", delivery: 4, window: day, now: 5000, until: 35_000) == .send)
        // Past the window it is sent again, and becomes the new first.
        let later = 2000 + day + 1
        #expect(try store.reserveDedupe(endpoint: "wh", key: "k", delivery: 5, window: day, now: later, until: later + 30_000) == .send)
        try store.recordDedupe(endpoint: "wh", key: "k", delivery: 5, window: day, now: later)
        #expect(try store.reserveDedupe(endpoint: "wh", key: "k", delivery: 6, window: day, now: later + 1, until: later + 30_000)
            == .duplicate(of: 5, sentAt: later))
    }

    @Test(arguments: StoreKind.allCases)
    func aReservationMakesOthersWaitUntilItIsReleasedOrLapses(_ kind: StoreKind) throws {
        let store = try kind.make().store
        #expect(try store.reserveDedupe(endpoint: "wh", key: "k", delivery: 1, window: day, now: 0, until: 30_000) == .send)
        #expect(try store.reserveDedupe(endpoint: "wh", key: "k", delivery: 2, window: day, now: 10, until: 30_010) == .wait(of: 1, until: 30_000))
        // Its own reservation again (a retry of the same delivery): send.
        #expect(try store.reserveDedupe(endpoint: "wh", key: "k", delivery: 1, window: day, now: 20, until: 30_020) == .send)
        // Released (the attempt failed): the other one sends.
        try store.releaseDedupe(endpoint: "wh", key: "k", delivery: 2)
        #expect(try store.dedupeEntry(endpoint: "wh", key: "k")?.delivery == 1, "only the holder releases")
        try store.releaseDedupe(endpoint: "wh", key: "k", delivery: 1)
        #expect(try store.dedupeEntry(endpoint: "wh", key: "k") == nil)
        #expect(try store.reserveDedupe(endpoint: "wh", key: "k", delivery: 2, window: day, now: 30, until: 100) == .send)
        // Lapsed (its process died): the next one takes it over.
        #expect(try store.reserveDedupe(endpoint: "wh", key: "k", delivery: 3, window: day, now: 100, until: 200) == .send)
        #expect(try store.dedupeEntry(endpoint: "wh", key: "k") == DedupeEntry(delivery: 3, sentAt: nil, expiresAt: 200))
        // A record is never released.
        try store.recordDedupe(endpoint: "wh", key: "k", delivery: 3, window: day, now: 150)
        try store.releaseDedupe(endpoint: "wh", key: "k", delivery: 3)
        #expect(try store.dedupeEntry(endpoint: "wh", key: "k")?.sentAt == 150)
    }

    @Test(arguments: StoreKind.allCases)
    func recordsPruneExpiredEntriesAndDeletingAWebhookForgetsItsOwn(_ kind: StoreKind) throws {
        let store = try kind.make().store
        for index in 0..<20 {
            try store.recordDedupe(endpoint: "old", key: "k\(index)", delivery: Int64(index), window: 1000, now: 0)
        }
        try store.recordDedupe(endpoint: "wh", key: "fresh", delivery: 100, window: day, now: 5000)
        let left = try (0..<20).filter { try store.dedupeEntry(endpoint: "old", key: "k\($0)") != nil }.count
        #expect(left == 20 - DedupeDecision.pruneBatch, "one record deletes up to \(DedupeDecision.pruneBatch) expired entries")
        #expect(try store.dedupeEntry(endpoint: "wh", key: "fresh") != nil)

        var webhook = Webhook(id: "wh", url: "https://wh.example/", secrets: ["whsec_x"], now: 0)
        webhook.dedupe = DedupeSettings(window: "12h", ignoresSeverity: true, fingerprintFields: ["finding.title"], fingerprintIDField: "none")
        try store.save(webhook)
        #expect(try store.webhook(id: "wh")?.dedupe == webhook.dedupe, "the settings are stored")
        webhook.dedupe = DedupeSettings()
        #expect(try store.updateSettings(webhook)?.dedupe == DedupeSettings())
        #expect(try store.beginDeletingWebhook(id: "wh"))
        #expect(try store.dedupeEntry(endpoint: "wh", key: "fresh") == nil)
        #expect(try store.forgetDedupe(endpoint: "old") == 20 - DedupeDecision.pruneBatch)
    }
}
