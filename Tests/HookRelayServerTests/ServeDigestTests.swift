import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayDelivery
@testable import HookRelayServer
import HookRelayStore
import Testing

/// Digests in `serve` (issue 19), in process on the real store with a manual clock: events
/// within a window become one message when the clock passes its end; a bypassing finding goes
/// at once; each window its own message; a failed digest is sent again the same; a deleted
/// webhook's digest is not sent.
@Suite struct ServeDigestTests {
    static func finding(_ id: String, _ title: String, _ severity: String) -> String {
        #"{"event_type":"finding","id":"\#(id)","finding":{"title":"\#(title)","severity":"\#(severity)","url":"https://app.example/\#(id)"}}"#
    }

    static let three = [finding("a", "Low one", "low"), finding("b", "SQL injection", "critical"), finding("c", "XSS", "high")].joined(separator: "\n")

    static func json(_ body: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    }

    /// Waits until `count` deliveries of `webhook` are digested; returns their refs.
    static func digested(_ serve: ServeHarness, _ webhook: String, count: Int) async throws -> Set<Int64> {
        try await eventually("\(count) digested") { try await serve.count(webhook, .digested) == count }
        return Set(try await serve.deliveries(webhook).values.filter { $0.status == .digested }.compactMap(\.ref))
    }

    @Test(arguments: StoreBackend.allCases)
    func eventsWithinTheWindowAreSentAsOneMessageWhenItEnds(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        let id = try await serve.webhook("http://chat.test/hook", ["template": "slack", "digest": "1m", "rate_limit": "off"])
        try await serve.run { client in
            #expect(try await client.postEvent(Self.three, ndjson: true) == .accepted)
            let refs = try await Self.digested(serve, id, count: 3)
            #expect(refs.count == 1, "one digest")
            #expect(serve.sender.sent == 0, "nothing before the window ends")
            serve.advance(.seconds(59))
            try await Task.sleep(for: .milliseconds(200))
            #expect(serve.sender.sent == 0)
            serve.advance(.seconds(1))
            let message = try await next(serve.sender.requests)
            #expect(message.header("webhook-id")?.hasPrefix("dg_") == true)
            let blocks = try #require(try Self.json(message.body)["blocks"] as? [[String: Any]])
            #expect((blocks[0]["text"] as? [String: Any])?["text"] as? String == "🔴 Digest: 3 events")
            let titles = (blocks[2]["text"] as? [String: Any])?["text"] as? String
            #expect(titles == "🔴 CRITICAL · SQL injection\n🟠 HIGH · XSS\n🔵 LOW · Low one")
            try await eventually("the digest delivered") {
                try await serve.admin.delivery(refs.first!).record.state.status == .delivered
            }
        }
        #expect(serve.sender.sent == 1, "at most one message per window")
    }

    @Test(arguments: StoreBackend.allCases)
    func aBypassingFindingIsSentAtOnce(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        let id = try await serve.webhook("http://chat.test/hook", ["digest": "5m", "digest_bypass": "critical"])
        try await serve.run { client in
            #expect(try await client.postEvent(Self.three, ndjson: true) == .accepted)
            let first = try await next(serve.sender.requests)
            #expect(first.body == Array(Self.finding("b", "SQL injection", "critical").utf8), "the critical one, as received (raw)")
            _ = try await Self.digested(serve, id, count: 2)
            #expect(try await serve.deliveries(id)["b"]?.status == .delivered)
            serve.advance(.seconds(300))
            let digest = try Self.json(try await next(serve.sender.requests).body)
            #expect(digest["type"] as? String == "digest" && digest["total"] as? Int == 2)
            #expect(digest["counts"] as? [String: Int] == ["high": 1, "low": 1])
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func eachWindowHasItsOwnMessage(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        // De-duplication on, by fields a digest has too (`type`): a digest's own delivery is no
        // finding, and the second is not suppressed as a duplicate of the first.
        let id = try await serve.webhook("http://chat.test/hook", [
            "digest": "1m", "dedupe_window": "30d", "fingerprint_fields": ["finding.title", "type"], "fingerprint_id_field": "none",
        ])
        try await serve.run { client in
            #expect(try await client.postEvent(Self.finding("a", "One", "low")) == .accepted)
            let first = try await Self.digested(serve, id, count: 1)
            serve.advance(.seconds(60))
            let one = try Self.json(try await next(serve.sender.requests).body)
            #expect(one["total"] as? Int == 1)
            #expect(try await client.postEvent(Self.finding("b", "Two", "high") + "\n" + Self.finding("c", "Three", "high"), ndjson: true) == .accepted)
            let all = try await Self.digested(serve, id, count: 3)
            #expect(all.subtracting(first).count == 1, "a second digest")
            serve.advance(.seconds(60))
            let two = try Self.json(try await next(serve.sender.requests).body)
            #expect(two["total"] as? Int == 2)
            #expect((two["top"] as? [[String: Any]])?.map { $0["title"] as? String } == ["Two", "Three"])
        }
        #expect(serve.sender.sent == 2)
    }

    @Test(arguments: StoreBackend.allCases)
    func aFailedDigestIsSentAgainTheSame(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend) { $0.retry = RetryPolicy(schedule: [.seconds(5)], jitter: 0) }
        let id = try await serve.webhook("http://chat.test/hook", ["template": "discord", "digest": "1m", "rate_limit": "off"])
        serve.sender.script(.status(503))
        try await serve.run { client in
            #expect(try await client.postEvent(Self.three, ndjson: true) == .accepted)
            let ref = try #require(try await Self.digested(serve, id, count: 3).first)
            serve.advance(.seconds(60))
            let failed = try await next(serve.sender.requests)
            try await eventually("the failure recorded") { try await serve.admin.delivery(ref).record.state.attempts == 1 }
            // An event after the claim opens the next digest: the first does not change.
            #expect(try await client.postEvent(Self.finding("d", "Later", "critical")) == .accepted)
            _ = try await Self.digested(serve, id, count: 4)
            serve.advance(.seconds(5))
            let retried = try await next(serve.sender.requests)
            #expect(retried.body == failed.body, "the same digest")
            #expect(retried.header("webhook-id") == failed.header("webhook-id"))
            try await eventually("delivered") { try await serve.admin.delivery(ref).record.state.status == .delivered }
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func aDeletedWebhooksDigestIsNotSent(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        let id = try await serve.webhook("http://chat.test/hook", ["digest": "1m"])
        try await serve.run { client in
            #expect(try await client.postEvent(Self.three, ndjson: true) == .accepted)
            _ = try await Self.digested(serve, id, count: 3)
            #expect(try await client.api(.delete, "webhooks/\(id)") == .ok)
            serve.advance(.seconds(60))
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(serve.sender.sent == 0)
    }

    @Test(arguments: StoreBackend.allCases)
    func aRestartInTheWindowSendsExactlyOneDigest(_ backend: StoreBackend) async throws {
        let first = try ServeHarness(on: backend)
        let id = try await first.webhook("http://chat.test/hook", ["digest": "1m"])
        try await first.run { client async throws in
            #expect(try await client.postEvent(Self.three, ndjson: true) == .accepted)
            #expect(try await Self.digested(first, id, count: 3).count == 1)
        }
        let ref = try #require(try await Self.digested(first, id, count: 3).first)
        first.advance(.seconds(30))
        let second = try ServeHarness(reopening: first)
        try await second.run { client in
            #expect(try await client.postEvent(Self.finding("d", "After the restart", "medium")) == .accepted)
            #expect(try await Self.digested(second, id, count: 4) == [ref], "folded into the digest opened before the restart")
            second.advance(.seconds(30))
            let digest = try Self.json(try await next(second.sender.requests).body)
            #expect(digest["total"] as? Int == 4)
            try await eventually("delivered") { try await second.admin.delivery(ref).record.state.status == .delivered }
        }
        #expect(first.sender.sent == 0 && second.sender.sent == 1)
    }
}
