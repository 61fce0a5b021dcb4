import Foundation
import Testing

/// Digests through the real binary (issue 19): `serve` with a slack webhook whose digest is a
/// short window, posting to a receiver on 127.0.0.1: several events make one signed message;
/// a restart (kill -9) within the window neither loses nor doubles it.
@Suite(.serialized) struct DigestEndToEndTests {
    static func finding(_ n: Int, _ severity: String) -> String {
        #"{"event_type":"finding","id":"dg-e2e-\#(n)","finding":{"title":"Finding \#(n)","severity":"\#(severity)"}}"#
    }

    static func headline(_ request: Receiver.Request) throws -> String? {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        let blocks = try #require(object["blocks"] as? [[String: Any]])
        return (blocks.first?["text"] as? [String: Any])?["text"] as? String
    }

    /// Polls until `count` deliveries of the webhook are digested.
    static func waitForDigested(_ serve: ServeProcess, _ webhook: String, _ count: Int) async throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let answer = try await serve.get("/v1/webhooks/\(webhook)/deliveries?status=digested")
            if (answer.object?["deliveries"] as? [Any])?.count == count { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("\(count) deliveries of \(webhook) were not digested within 20 s")
    }

    @Test func severalEventsBecomeOneSlackMessage() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let serve = try await ServeProcess.started()
        let webhook = try await serve.createWebhook(receiver, ["template": "slack", "digest": "2s", "rate_limit": "off"])
        let events = (1...5).map { Self.finding($0, $0 == 3 ? "critical" : "medium") }
        #expect(try await serve.postEvents(events).status == 202)
        try await Self.waitForDigested(serve, webhook.id, 5)
        let first = receiver.waitFor(1, timeout: 20)
        try await Task.sleep(for: .milliseconds(2500))
        #expect(receiver.requests.count == 1, "one message for five events")
        let message = try #require(first.first)
        #expect(try Self.headline(message) == "🔴 Digest: 5 events")
        #expect(message.headers["webhook-id"]?.hasPrefix("dg_") == true)
        #expect(message.headers["webhook-signature"]?.hasPrefix("v1,") == true, "signed as any delivery")
        await serve.stop()
    }

    @Test func aRestartWithinTheWindowSendsExactlyOneDigest() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let serve = try await ServeProcess.started()
        let webhook = try await serve.createWebhook(receiver, ["template": "slack", "digest": "4s", "rate_limit": "off"])
        #expect(try await serve.postEvents((1...3).map { Self.finding($0, "high") }).status == 202)
        try await Self.waitForDigested(serve, webhook.id, 3)
        await serve.kill()
        try await serve.start()
        receiver.waitFor(1, timeout: 20)
        try await Task.sleep(for: .milliseconds(2000))
        #expect(receiver.requests.count == 1, "neither lost nor doubled")
        #expect(try receiver.requests.first.map(Self.headline) == "🟠 Digest: 3 events")
        await serve.stop()
    }
}
