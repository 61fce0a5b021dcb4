import Foundation
import HookRelayCore
import Synchronization
import Testing
@testable import HookRelayStore

@Suite struct WebhookStoreTests {
    func webhook(_ id: String, now: Int64 = 0) -> Webhook {
        Webhook(id: id, url: "https://\(id).example/hook", events: ["finding"], minSeverity: .high, secrets: ["whsec_x"], now: now)
    }

    @Test func webhooksRoundTrip() throws {
        let store = try SQLiteSpool(path: temporarySpool())
        var first = webhook("a")
        first.headers = ["X-Team": "red"]
        first.severities = []
        try store.save(first)
        try store.save(webhook("b", now: 5))
        #expect(try store.webhooks() == [first, webhook("b", now: 5)])
        first.url = "https://changed.example/"
        try store.save(first)
        #expect(try store.webhooks().first?.url == "https://changed.example/")
    }

    @Test func ingestDeduplicatesAndSkipsForDisabledWebhooks() throws {
        let store = try SQLiteSpool(path: temporarySpool())
        let events = [
            IngestedEvent(id: "e1", body: Array(#"{"id":"e1"}"#.utf8), targets: [("a", false), ("b", true)]),
            IngestedEvent(id: "e2", body: Array(#"{"id":"e2"}"#.utf8), targets: [("a", false)]),
        ]
        #expect(try store.ingest(events, now: 1) == [false, false])
        #expect(try store.ingest([events[0]], now: 2) == [true])
        #expect(try store.counts() == [.pending: 2, .skipped: 1])
        #expect(try store.claim(limit: 10, now: 3, lease: 100).map(\.target) == ["a", "a"])
    }

    @Test func aPausedWebhookIsNeverClaimedWhateverTheDispatcherLastHeard() throws {
        let store = try SQLiteSpool(path: temporarySpool())
        try store.save(webhook("a"))
        try store.save(webhook("b"))
        _ = try store.setPaused(id: "a", true, now: 1)
        let events = [IngestedEvent(id: "e1", body: Array(#"{"id":"e1"}"#.utf8), targets: [("a", false), ("b", false)])]
        _ = try store.ingest(events, now: 1)
        // A quota that does not know of the pause yet, and no quota at all.
        #expect(try store.claim(limit: 10, now: 2, lease: 100, quota: TargetQuota(limit: 8, held: [:])).map(\.target) == ["b"])
        _ = try store.setPaused(id: "a", false, now: 3)
        _ = try store.setPaused(id: "b", true, now: 3)
        _ = try store.ingest([IngestedEvent(id: "e2", body: Array(#"{"id":"e2"}"#.utf8), targets: [("b", false)])], now: 3)
        #expect(try store.claim(limit: 10, now: 4, lease: 100).map(\.target) == ["a"])
    }

    @Test func deletingAWebhookDiscardsItsPendingDeliveries() throws {
        let store = try SQLiteSpool(path: temporarySpool())
        try store.save(webhook("a"))
        try store.save(webhook("b"))
        _ = try store.ingest([IngestedEvent(id: "e1", body: [0x7B, 0x7D], targets: [("a", false), ("b", false)])], now: 1)
        #expect(try store.deleteWebhook(id: "a") == 1)
        #expect(try store.deleteWebhook(id: "a") == nil)
        #expect(try store.webhooks().map(\.id) == ["b"])
        #expect(try store.claim(limit: 10, now: 2, lease: 100).map(\.target) == ["b"])
    }

    @Test func healthGoesUnhealthyThenDisabledAndBackOnSuccess() {
        let policy = HealthPolicy(unhealthyAfter: 3, disableAfter: 1000)
        var state = (state: Webhook.Health.healthy, failures: 0, failingSince: Int64?.none)
        var seen: [Webhook.Health] = []
        for time in [0, 100, 200, 300] as [Int64] {
            state = policy.next(state.state, failures: state.failures, failingSince: state.failingSince, succeeded: false, gone: false, now: time)
            seen.append(state.state)
        }
        #expect(seen == [.healthy, .healthy, .unhealthy, .unhealthy])
        #expect(state.failingSince == 0)
        let recovered = policy.next(state.state, failures: state.failures, failingSince: state.failingSince, succeeded: true, gone: false, now: 400)
        #expect(recovered.state == .healthy && recovered.failures == 0 && recovered.failingSince == nil)
        let disabled = policy.next(.unhealthy, failures: 9, failingSince: 0, succeeded: false, gone: false, now: 1000)
        #expect(disabled.state == .disabled)
        #expect(policy.next(.healthy, failures: 0, failingSince: nil, succeeded: false, gone: true, now: 5).state == .disabled)
    }

    /// A spool with a health policy whose changes are logged, webhook `a` and `events` events for it.
    func spoolWithHealth(unhealthyAfter: Int, events: Int) throws -> (SQLiteSpool, ChangeLog) {
        let store = try SQLiteSpool(path: temporarySpool())
        store.healthPolicy = HealthPolicy(unhealthyAfter: unhealthyAfter, disableAfter: 1_000_000)
        let changes = ChangeLog()
        store.onHealthChange = { changes.append("\($0):\($1.rawValue)->\($2.rawValue)") }
        try store.save(webhook("a"))
        _ = try store.ingest((1...events).map { IngestedEvent(id: "e\($0)", body: [0x7B, 0x7D], targets: [("a", false)]) }, now: 1)
        return (store, changes)
    }

    /// A round whose transaction rolls back (here its claim fails after its outcome changed the
    /// webhook's health) announces nothing: the daemon would take the webhook for unhealthy or
    /// disabled while the database keeps it healthy.
    @Test func aHealthChangeRolledBackIsNotAnnounced() throws {
        let (store, changes) = try spoolWithHealth(unhealthyAfter: 1, events: 2)
        let claimed = try store.claim(limit: 1, now: 10, lease: 100)
        try store.connection.execute("CREATE TEMP TRIGGER no_claims BEFORE UPDATE OF claim ON deliveries BEGIN SELECT RAISE(ABORT, 'no claims now'); END")
        #expect(throws: (any Error).self) {
            _ = try store.completeAndClaim([outcome(claimed[0], .retry(at: 1_000), status: 500, at: 10)], limit: 1, now: 10, lease: 100, quota: nil)
        }
        #expect(changes.entries.isEmpty, "\(changes.entries)")
        #expect(try store.webhooks().first?.state == .healthy)
        // Written again once claims work: announced once, as committed.
        try store.connection.execute("DROP TRIGGER no_claims")
        _ = try store.completeAndClaim([outcome(claimed[0], .retry(at: 1_000), status: 500, at: 10)], limit: 1, now: 11, lease: 100, quota: nil)
        #expect(changes.entries == ["a:healthy->unhealthy"])
    }

    @Test func attemptsUpdateHealthInTheSameTransaction() throws {
        let (store, changes) = try spoolWithHealth(unhealthyAfter: 2, events: 3)
        for time in [10, 20] as [Int64] {
            let claimed = try store.claim(limit: 1, now: time, lease: 100)
            _ = try store.complete([outcome(claimed[0], .retry(at: time + 1000), status: 500, at: time)], now: time)
        }
        #expect(try store.webhooks().first?.state == .unhealthy)
        #expect(changes.entries == ["a:healthy->unhealthy"])
        // 410: disabled, and what waits for the webhook fails at once.
        let claimed = try store.claim(limit: 1, now: 30, lease: 100)
        _ = try store.complete([outcome(claimed[0], .failed, status: 410, at: 30)], now: 30)
        #expect(try store.webhooks().first?.state == .disabled)
        #expect(changes.entries.last == "a:unhealthy->disabled")
        #expect(try store.counts()[.pending] == nil)
        #expect(try store.enableWebhook(id: "a", now: 40))
        #expect(try store.webhooks().first?.state == .healthy)
    }

    @Test func claimsUnderAQuotaTakeEndpointsInTurn() throws {
        let store = try SQLiteSpool(path: temporarySpool())
        _ = try store.append((1...3).map { message("m\($0)", ["a", "b", "c"]) }, now: 0)
        let quota = TargetQuota(limit: 10, held: [:])
        // One delivery per round: the endpoint after the last one served goes next.
        let order = try (0..<6).flatMap { _ in try store.claim(limit: 1, now: 0, lease: 100, quota: quota).map(\.target) }
        #expect(order == ["a", "b", "c", "a", "b", "c"])
    }
}

/// Collects health changes reported from the store.
final class ChangeLog: Sendable {
    private let storage = Mutex<[String]>([])

    func append(_ entry: String) { storage.withLock { $0.append(entry) } }

    var entries: [String] { storage.withLock { $0 } }
}
