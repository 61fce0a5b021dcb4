import Foundation
import HookRelayCore
import Testing
@testable import HookRelayStore

/// OpenTelemetry's trace context in the store, alike on every backend (issue 17): an ingest
/// batch's `traceparent` is stored with its events and comes back with every claim of their
/// deliveries (the dispatcher's, with and without a quota, and an operator's by id); a webhook's
/// `trace_context` is saved and changed like its other settings.
@Suite struct TraceContextContractTests {
    static let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    func batch(_ ids: [String], traceparent: String?) -> IngestBatch {
        var batch = IngestBatch(ids.map { IngestedEvent(id: $0, body: Array(#"{"id":"\#($0)"}"#.utf8), targets: [(webhook: "a", skipped: false)]) })
        batch.traceparent = traceparent
        return batch
    }

    @Test(arguments: StoreKind.allCases)
    func theIngestBatchsTraceparentComesBackWithEveryClaim(_ kind: StoreKind) throws {
        let store = try kind.make().store
        try store.save(Webhook(id: "a", url: "https://a.example/hook", secrets: ["whsec_x"], now: 0))
        // Two requests in one group commit: one traced, one not.
        _ = try store.ingest([batch(["t1", "t2"], traceparent: Self.traceparent), batch(["u1"], traceparent: nil)], now: 1)
        let claimed = try store.claim(limit: 2, now: 1, lease: 1000, quota: nil)
        #expect(claimed.map(\.messageID) == ["t1", "t2"])
        #expect(claimed.map(\.traceparent) == [Self.traceparent, Self.traceparent])
        let underQuota = try store.claim(limit: 5, now: 1, lease: 1000, quota: TargetQuota(limit: 8, held: ["a": 2]))
        #expect(underQuota.map(\.messageID) == ["u1"])
        #expect(underQuota.map(\.traceparent) == [nil], "an event stored without a trace context has none")
        guard case let .claimed(byID, _) = try store.claimDelivery(id: claimed[0].id, now: 2000, lease: 1000) else {
            Issue.record("delivery \(claimed[0].id) not claimed")
            return
        }
        #expect(byID.traceparent == Self.traceparent)
    }

    @Test(arguments: StoreKind.allCases)
    func aWebhooksTraceContextIsSavedAndChanged(_ kind: StoreKind) throws {
        let store = try kind.make().store
        var webhook = Webhook(id: "a", url: "https://a.example/hook", secrets: ["whsec_x"], now: 0)
        #expect(!webhook.traceContext, "off for a new webhook")
        webhook.traceContext = true
        try store.save(webhook)
        #expect(try store.webhook(id: "a")?.traceContext == true)
        webhook.traceContext = false
        webhook.updatedAt = 5
        #expect(try store.updateSettings(webhook)?.traceContext == false)
        #expect(try store.webhooks().map(\.traceContext) == [false])
    }
}
