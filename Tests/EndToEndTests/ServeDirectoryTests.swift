import Foundation
import Testing

/// Issue 14: what changes a webhook's health in another process (an admin command's attempt)
/// reaches the running daemon, which then treats the webhook by its new state.
@Suite struct ServeDirectoryTests {
    @Test func aWebhookDisabledByAnAdminCommandsAttemptIsSkippedByTheDaemon() async throws {
        let gone = Setting(false)
        let receiver = try Receiver { _, _ in Receiver.Response(status: gone.get() ? 410 : 204) }
        defer { receiver.stop() }
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        let webhook = try await server.createWebhook(receiver)
        gone.set(true)
        let test = try await AdminCommandTests.run(
            ["webhooks", "test", webhook.id, "--allow-http", "--allow-cidr", "127.0.0.1/32"], db: server.database)
        #expect(test.status == 69, "\(test.stderr)")
        #expect(try await server.webhook(webhook.id).string("state") == "disabled")
        let sent = receiver.requests.count

        // The daemon's watcher sees the health change within a second: new events are skipped.
        var skipped = false
        for attempt in 0..<40 where !skipped {
            #expect(try await server.postEvent(#"{"event_type":"finding","id":"after-disable-\#(attempt)"}"#).status == 202)
            let list = try await server.get("/v1/deliveries?status=skipped")["deliveries"] as? [[String: Any]] ?? []
            skipped = !list.isEmpty
            if !skipped { try await Serve.pause(0.1) }
        }
        #expect(skipped, "\(server.log)")
        // Events posted before it noticed may have been sent; none after.
        let whenSkipped = receiver.requests.count
        #expect(try await server.postEvent(#"{"event_type":"finding","id":"after-disable-last"}"#).status == 202)
        try await Serve.pause(0.5)
        #expect(receiver.requests.count == whenSkipped, "sent to a disabled webhook")
        #expect(whenSkipped >= sent)
    }
}
