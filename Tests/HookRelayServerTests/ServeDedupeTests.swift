import Foundation
import HookRelayAdmin
import HookRelayCore
@testable import HookRelayServer
import HookRelayStore
import Hummingbird
import HummingbirdTesting
import Testing

/// Per-webhook de-duplication in process (issue 19): the ledger, the decision at attempt time,
/// the clock moved for the window, a fake sender.
@Suite struct ServeDedupeTests {
    /// A finding; `finding.id` is its fingerprint.
    static func finding(_ event: String, id: String = "F1", severity: String = "high", status: String? = nil) -> String {
        let status = status.map { #","status":"\#($0)""# } ?? ""
        return #"{"event_type":"finding","id":"\#(event)","severity":"\#(severity)","finding":{"id":"\#(id)","title":"SQL injection"\#(status)}}"#
    }

    static let suppressed = DeliveryStatus.suppressed

    /// The delivery a suppressed one refers to.
    func ref(_ state: DeliveryState) -> Int64? { state.ref }

    /// Posts `event` and waits until its delivery of `webhook` is finished; returns its state.
    func deliver(_ event: String, to webhook: String, on serve: ServeHarness, client: some TestClientProtocol) async throws -> DeliveryState {
        #expect(try await client.postEvent(event) == .accepted)
        let object = try JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any]
        let id = try #require(object?["id"] as? String)
        var state: DeliveryState?
        try await eventually("\(id) finished") {
            state = try await serve.deliveries(webhook)[id]
            return state.map { $0.status != .pending } ?? false
        }
        return try #require(state)
    }

    @Test(arguments: StoreBackend.allCases)
    func aDuplicateWithinTheWindowIsSuppressedAndSentAgainAfterIt(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        let id = try await serve.webhook("http://receiver.test/hook", ["dedupe_window": "1h"])
        try await serve.run { client in
            let first = try await deliver(Self.finding("e1"), to: id, on: serve, client: client)
            #expect(first.status == .delivered)
            serve.advance(.seconds(60))
            let second = try await deliver(Self.finding("e2"), to: id, on: serve, client: client)
            #expect(second.status == Self.suppressed)
            #expect(ref(second) == first.id)
            #expect(second.lastError?.contains("a duplicate of delivery \(first.id)") == true, "\(second.lastError ?? "")")
            #expect(second.lastError?.contains("delivered \(AdminText.time(serve.clock.now - 60_000))") == true)
            serve.advance(.seconds(3600))
            let third = try await deliver(Self.finding("e3"), to: id, on: serve, client: client)
            #expect(third.status == .delivered, "past the window it goes out again")
            let fourth = try await deliver(Self.finding("e4"), to: id, on: serve, client: client)
            #expect(ref(fourth) == third.id, "the new first delivery")
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"hookrelay_deliveries{state="suppressed"} 2"#), "\(metrics)")
        }
        #expect(serve.sender.tally() == ["e1": 1, "e3": 1])
    }

    @Test(arguments: StoreBackend.allCases)
    func aChangeOfSeverityOrStatusIsNoDuplicateUnlessSeverityIsIgnored(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        let plain = try await serve.webhook("http://plain.test/hook", ["dedupe_window": "30d"])
        let ignoring = try await serve.webhook("http://ignoring.test/hook", ["dedupe_window": "30d", "dedupe_ignores_severity": true])
        let off = try await serve.webhook("http://off.test/hook")
        try await serve.run { client in
            for event in [Self.finding("e1"), Self.finding("e2", severity: "critical"), Self.finding("e3", severity: "critical", status: "fixed"),
                          #"{"event_type":"scan_completed","id":"s1"}"#, #"{"event_type":"scan_completed","id":"s2"}"#] {
                #expect(try await client.postEvent(event) == .accepted)
            }
            // A delivery that met another's reservation of its key is due again a second later.
            try await eventually("nothing pending") {
                serve.advance(.seconds(1))
                return try await serve.state.read { try $0.statistics(now: 0).deliveries[.pending] } == nil
            }
        }
        #expect(serve.sender.tally("http://plain.test/hook") == ["e1": 1, "e2": 1, "e3": 1, "s1": 1, "s2": 1])
        // Severity ignored, e1 and e2 are one key: whichever was attempted first went out. Fixed is sent.
        let ignored = serve.sender.tally("http://ignoring.test/hook")
        #expect(ignored.count == 4 && ignored["e3"] == 1 && ignored["s1"] == 1 && ignored["s2"] == 1, "\(ignored)")
        let second = ignored["e1"] == nil ? "e1" : "e2"
        #expect(try await serve.deliveries(ignoring)[second]?.status == Self.suppressed)
        #expect(serve.sender.tally("http://off.test/hook").count == 5, "a raw webhook de-duplicates nothing by default")
        _ = (plain, off)
    }

    @Test(arguments: StoreBackend.allCases)
    func anOperatorRetryOfASuppressedDeliverySendsIt(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        let id = try await serve.webhook("http://receiver.test/hook", ["dedupe_window": "1h"])
        try await serve.run { client in
            _ = try await deliver(Self.finding("e1"), to: id, on: serve, client: client)
            let second = try await deliver(Self.finding("e2"), to: id, on: serve, client: client)
            #expect(second.status == Self.suppressed)
            let answer = try await client.call(.post, "deliveries/\(second.id)/retry")
            #expect(answer.status == .ok, "\(answer.text)")
            #expect(try await serve.deliveries(id)["e2"]?.status == .delivered)
        }
        #expect(serve.sender.tally() == ["e1": 1, "e2": 1])
    }

    @Test(arguments: StoreBackend.allCases)
    func twoDeliveriesOfOneKeyAtOnceAreSentOnce(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend) { $0.perWebhookConcurrency = 4 }
        let id = try await serve.webhook("http://receiver.test/hook", ["dedupe_window": "1h"])
        serve.sender.script(.held(204))
        try await serve.run { client in
            let events = Self.finding("e1") + "\n" + Self.finding("e2")
            #expect(try await client.postEvent(events, ndjson: true) == .accepted)
            let first = try await next(serve.sender.requests)
            try await eventually("the other one waits") {
                try await serve.deliveries(id).values.contains { $0.lastError?.hasPrefix("waiting: delivery") == true }
            }
            serve.sender.release()
            try await eventually("the first delivered") { try await serve.count(id, .delivered) == 1 }
            serve.advance(.seconds(1))
            try await eventually("the other one suppressed") { try await serve.count(id, Self.suppressed) == 1 }
            let waited = try #require(try await serve.deliveries(id).values.first { $0.status == Self.suppressed })
            #expect(waited.attempts == 0, "waiting did not count as an attempt")
            _ = first
        }
        #expect(serve.sender.sent == 1)
    }

    @Test(arguments: StoreBackend.allCases)
    func aFailedFirstDeliveryLetsTheNextOneSendAndDeletingForgetsTheLedger(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend) { $0.retry = RetryPolicy(schedule: [.seconds(600)], jitter: 0) }
        let id = try await serve.webhook("http://receiver.test/hook", ["dedupe_window": "1h"])
        serve.sender.script(.status(500))
        try await serve.run { client in
            #expect(try await client.postEvent(Self.finding("e1")) == .accepted)
            _ = try await next(serve.sender.requests)
            try await eventually("the failure recorded") { try await serve.deliveries(id)["e1"]?.attempts == 1 }
            let second = try await deliver(Self.finding("e2"), to: id, on: serve, client: client)
            #expect(second.status == .delivered, "the failed attempt released the key")
            serve.advance(.seconds(600))
            try await eventually("the retry of the first is a duplicate") { try await serve.deliveries(id)["e1"]?.status == Self.suppressed }
            let key = try #require(Fingerprinter().dedupeKey(ofEvent: Array(Self.finding("e2").utf8), severity: true))
            #expect(try await serve.state.read { try $0.dedupeEntry(endpoint: id, key: key.text) }?.delivery == second.id)
            #expect(try await client.api(.delete, "webhooks/\(id)") == .ok)
            #expect(try await serve.state.read { try $0.dedupeEntry(endpoint: id, key: key.text) } == nil)
        }
        #expect(serve.sender.tally() == ["e1": 1, "e2": 1])
    }
}
