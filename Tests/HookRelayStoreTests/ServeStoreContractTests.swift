import Foundation
import HookRelayCore
import HookRelayPostgres
import Testing
@testable import HookRelayStore

/// Every ``ServeStore`` backend, for the `serve` roles' contract (the delivery queue's own is
/// ``DeliveryQueueContractTests``).
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    static var allCases: [StoreKind] { PostgresTestServer.runs ? [.sqlite, .postgres] : [.sqlite] }

    /// A store on a new, empty database, and a second connection to the same database for `role`.
    func make() throws -> (store: any ServeStore, open: (ConnectionRole) throws -> any ServeStore) {
        switch self {
        case .sqlite:
            let path = temporarySpool()
            return (try SQLiteSpool(path: path), { try SQLiteSpool.open(path: path, role: $0) })
        case .postgres:
            let url = try PostgresTestServer.freshURL()
            return (try PostgresStore.open(url, role: .writer), { try PostgresStore.open(url, role: $0) })
        }
    }

    var testDescription: String { rawValue }
}

/// What `serve` keeps, alike on every backend: webhooks and their changes, ingest with
/// duplicates, health moved by completions, deletion, re-queues and recovery, an operator's
/// single attempts, the delivery log and the statistics.
@Suite struct ServeStoreContractTests {
    func webhook(_ id: String, now: Int64 = 0) -> Webhook {
        Webhook(id: id, url: "https://\(id).example/hook", events: ["finding"], minSeverity: .high, secrets: ["whsec_x"], now: now)
    }

    func event(_ id: String, _ targets: [(String, Bool)]) -> IngestedEvent {
        IngestedEvent(id: id, body: Array(#"{"id":"\#(id)"}"#.utf8), targets: targets.map { (webhook: $0.0, skipped: $0.1) })
    }

    @Test(arguments: StoreKind.allCases)
    func webhooksAreSavedChangedAndCounted(_ kind: StoreKind) throws {
        let store = try kind.make().store
        let before = try store.webhooksVersion()
        var first = webhook("a")
        first.headers = ["X-Team": "red"]
        first.templateVariables = ["channel": "#ops"]
        try store.save(first)
        try store.save(webhook("b", now: 5))
        #expect(try store.webhooks() == [first, webhook("b", now: 5)])
        #expect(try store.webhook(id: "a") == first)
        #expect(try store.webhook(id: "zz") == nil)
        var changed = first
        changed.url = "https://changed.example/"
        changed.updatedAt = 7
        #expect(try store.updateSettings(changed)?.url == "https://changed.example/")
        #expect(try store.setPaused(id: "a", true, now: 8)?.paused == true)
        let rotated = try #require(try store.rotateSecret(id: "a", to: "whsec_new", now: 9, overlap: 100))
        #expect(rotated.secrets == ["whsec_new", "whsec_x"])
        #expect(rotated.previousSecretUntil == 109)
        #expect(try store.setPaused(id: "nope", true, now: 8) == nil)
        #expect(try store.enableWebhook(id: "nope", now: 8) == false)
        let after = try store.webhooksVersion()
        #expect(after.settings >= before.settings + 5)
        #expect(after.health == before.health)
    }

    @Test(arguments: StoreKind.allCases)
    func ingestStoresDuplicatesOnceAndSkipsForDisabledWebhooks(_ kind: StoreKind) throws {
        let (store, open) = try kind.make()
        let events = [event("e1", [("a", false), ("b", true)]), event("e2", [("a", false)])]
        #expect(try store.ingest(events, now: 1) == [false, false])
        #expect(try store.ingest([events[0], event("e3", [("a", false)]), event("e3", [("b", false)])], now: 2) == [true, false, true])
        #expect(try open(.reader).statistics(now: 5).deliveries == [.pending: 3, .skipped: 1])
        #expect((try open(.reader).statistics(now: 5).databaseBytes ?? 0) > 4096, "the database's size on disk")
        #expect(try store.claim(limit: 10, now: 3, lease: 100).map(\.messageID) == ["e1", "e2", "e3"])
    }

    @Test(arguments: StoreKind.allCases)
    func completionsMoveHealthAndADisabledWebhookFailsWhatWaits(_ kind: StoreKind) throws {
        let store = try kind.make().store
        store.healthPolicy = HealthPolicy(unhealthyAfter: 2, disableAfter: 1_000_000)
        let changes = ChangeLog()
        store.onHealthChange = { changes.append("\($0):\($1.rawValue)->\($2.rawValue)") }
        try store.save(webhook("a"))
        let version = try store.webhooksVersion()
        _ = try store.ingest((1...3).map { event("e\($0)", [("a", false)]) }, now: 1)
        for time in [10, 20] as [Int64] {
            let claimed = try store.claim(limit: 1, now: time, lease: 100)
            _ = try store.complete([outcome(claimed[0], .retry(at: time + 1000), status: 500, at: time)], now: time)
        }
        #expect(try store.webhook(id: "a")?.state == .unhealthy)
        #expect(try store.webhook(id: "a")?.consecutiveFailures == 2)
        #expect(changes.entries == ["a:healthy->unhealthy"])
        #expect(try store.webhooksVersion().health == version.health + 1)
        let claimed = try store.claim(limit: 1, now: 30, lease: 100)
        _ = try store.complete([outcome(claimed[0], .failed, status: 410, at: 30)], now: 30)
        #expect(try store.webhook(id: "a")?.state == .disabled)
        #expect(changes.entries.last == "a:unhealthy->disabled")
        #expect(try store.pendingStates(now: 40).isEmpty, "what waited for the disabled webhook failed")
        #expect(try store.enableWebhook(id: "a", now: 40))
        #expect(try store.webhook(id: "a")?.state == .healthy)
        #expect(try store.requeueFailed(webhook: "a", now: 50) == 3)
        #expect(try store.claim(limit: 10, now: 50, lease: 100).count == 3)
    }

    @Test(arguments: StoreKind.allCases)
    func deletingAWebhookDiscardsItsPendingDeliveriesAndNoneAreAdded(_ kind: StoreKind) throws {
        let store = try kind.make().store
        try store.save(webhook("a"))
        try store.save(webhook("b"))
        _ = try store.ingest([event("e1", [("a", false), ("b", false)])], now: 1)
        #expect(try store.beginDeletingWebhook(id: "a"))
        #expect(try store.beginDeletingWebhook(id: "a") == false)
        // Before the discarding ends: nothing of "a" is claimed, and ingest adds nothing for it.
        _ = try store.ingest([event("e2", [("a", false), ("b", false)])], now: 2)
        #expect(try store.claim(limit: 10, now: 3, lease: 100).map(\.target) == ["b", "b"])
        #expect(try store.discardPending(of: "a") == (1, true))
        #expect(try store.webhooks().map(\.id) == ["b"])
        #expect(try store.recoverOrphans(now: 4) == 0)
    }

    @Test(arguments: StoreKind.allCases)
    func recoverSendsAgainWhatWasStoredSince(_ kind: StoreKind) throws {
        let store = try kind.make().store
        _ = try store.ingest([event("old", [("a", false)])], now: 1)
        _ = try store.ingest([event("n1", [("a", false)]), event("n2", [("a", true)]), event("n3", [("a", false)])], now: 10)
        let claimed = try store.claim(limit: 10, now: 11, lease: 100)
        _ = try store.complete(claimed.map { outcome($0, $0.messageID == "n3" ? .failed : .delivered) }, now: 12)
        var progress = RecoverProgress()
        while !progress.isDone { progress = try store.recoverBatch(webhook: "a", since: 10, now: 20, progress: progress) }
        #expect(progress.requeued == 3)
        #expect(try store.claim(limit: 10, now: 20, lease: 100).map(\.messageID).sorted() == ["n1", "n2", "n3"])
    }

    @Test(arguments: StoreKind.allCases)
    func anOperatorsAttemptClaimsOneDeliveryAndATestEventIsLogged(_ kind: StoreKind) throws {
        let store = try kind.make().store
        _ = try store.ingest([event("e1", [("a", false)])], now: 1)
        let id = try #require(try store.pendingStates(now: 1).first?.id)
        guard case let .claimed(job, was) = try store.claimDelivery(id: id, now: 2, lease: 100) else {
            Issue.record("not claimed")
            return
        }
        #expect(was == .pending)
        #expect(job.messageID == "e1")
        guard case .busy = try store.claimDelivery(id: id, now: 3, lease: 100) else {
            Issue.record("claimed twice")
            return
        }
        guard case .notFound = try store.claimDelivery(id: 999_999, now: 3, lease: 100) else {
            Issue.record("found a delivery that does not exist")
            return
        }
        let test = try store.appendClaimed("msg_test", body: [0x7B, 0x7D], endpoint: "a", now: 4, lease: 100)
        #expect(test.target == "a" && test.messageID == "msg_test")
        #expect(try store.complete([outcome(test, .delivered)], now: 5).first??.status == .delivered)
        #expect(try store.claim(limit: 10, now: 6, lease: 100).isEmpty, "both are held or done")
    }

    @Test(arguments: StoreKind.allCases)
    func theDeliveryLogListsPagesAndOneDeliveryWithItsAttempts(_ kind: StoreKind) throws {
        let (store, open) = try kind.make()
        _ = try store.ingest((1...5).map { event("e\($0)", [("a", false), ("b", false)]) }, now: 3_600_000)
        let claimed = try store.claim(limit: 10, now: 3_600_001, lease: 100)
        _ = try store.complete(claimed.map { outcome($0, $0.target == "a" ? .delivered : .failed, status: $0.target == "a" ? 204 : 400) }, now: 3_600_002)
        let reader = try open(.reader)
        let page = try reader.deliveries(webhook: "a", status: nil, since: nil, before: nil, limit: 3)
        #expect(page.map(\.state.messageID) == ["e5", "e4", "e3"])
        let next = try reader.deliveries(webhook: "a", status: .delivered, since: nil, before: page.last?.state.id, limit: 3)
        #expect(next.map(\.state.messageID) == ["e2", "e1"])
        #expect(try reader.deliveries(webhook: nil, status: .failed, since: 3_600_000, before: nil, limit: 10).count == 5)
        #expect(try reader.deliveries(webhook: nil, status: nil, since: 3_600_001, before: nil, limit: 10).isEmpty)
        let detail = try #require(try reader.delivery(id: page[0].state.id))
        #expect(detail.event == Array(#"{"id":"e5"}"#.utf8))
        #expect(detail.attempts.map(\.httpStatus) == [204])
        #expect(try reader.delivery(id: 999_999) == nil)
        let activity = try reader.activity(webhook: "b", since: 0)
        #expect(activity.failedRecently == 5 && activity.pending == 0 && activity.lastDeliveredAt == nil)
        #expect(try reader.activity(webhook: "a", since: 0).lastDeliveredAt == 3_600_002)
        let hours = try reader.hourlyOutcomes(webhook: "a", since: 0)
        #expect(hours.map(\.hour) == [1] && hours.map(\.delivered) == [5] && hours.map(\.failed) == [0])
        let statistics = try open(.reader).statistics(now: 3_600_003)
        #expect(statistics.deliveries == [.delivered: 5, .failed: 5])
        #expect(statistics.oldestDueAt == nil)
    }

    /// The chart's hours: deliveries by the hour they ended in, from the hour of `since` on,
    /// following re-queues and later outcomes.
    @Test(arguments: StoreKind.allCases)
    func theHourlyOutcomesFollowEachDeliveryToItsLastOutcome(_ kind: StoreKind) throws {
        let (store, open) = try kind.make()
        let hour: Int64 = 3_600_000
        _ = try store.ingest((1...4).map { event("e\($0)", [("a", false), ("b", false)]) }, now: hour)
        let claimed = try store.claim(limit: 10, now: hour + 1, lease: 100)
        _ = try store.complete(claimed.map { outcome($0, $0.target == "a" ? .delivered : .failed, status: $0.target == "a" ? 204 : 400) }, now: 2 * hour + 5)
        let reader = try open(.reader)
        func hours(_ webhook: String, since: Int64 = 0) throws -> [String] {
            try reader.hourlyOutcomes(webhook: webhook, since: since).map { "\($0.hour): \($0.delivered)/\($0.failed)" }
        }
        #expect(try hours("a") == ["2: 4/0"])
        #expect(try hours("b") == ["2: 0/4"])
        #expect(try store.requeueFailed(webhook: "b", now: 3 * hour) == 4)
        #expect(try hours("b").isEmpty)
        let again = try store.claim(limit: 10, now: 3 * hour, lease: 100)
        _ = try store.complete(again.enumerated().map { outcome($1, $0 == 0 ? .failed : .delivered) }, now: 3 * hour + 9)
        #expect(try hours("b") == ["3: 3/1"])
        #expect(try hours("b", since: 3 * hour + 10) == ["3: 3/1"], "from the hour of since")
        #expect(try hours("b", since: 4 * hour).isEmpty)
        #expect(try reader.activity(webhook: "b", since: 3 * hour + 9).failedRecently == 1)
        #expect(try reader.activity(webhook: "b", since: 3 * hour + 10).failedRecently == 0)
    }
}
