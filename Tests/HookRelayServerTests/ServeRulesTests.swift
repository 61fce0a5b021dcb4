import Foundation
import HookRelayAdmin
import HookRelayCore
@testable import HookRelayServer
import HookRelayStore
import Testing

/// A webhook's `rate_limit` and `"ordering": "fifo"` in `serve` (issue 17), on the clock:
/// deliveries over the limit wait (never failed, no effect on health); a failing delivery of a
/// fifo webhook holds the ones behind it.
@Suite struct ServeRulesTests {
    static func events(_ ids: [String]) -> String {
        ids.map { #"{"event_type":"finding","id":"\#($0)","finding":{"title":"t","severity":"high"}}"# }.joined(separator: "\n")
    }

    @Test(arguments: StoreBackend.allCases)
    func deliveriesOverTheRateLimitWaitForTheirToken(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        let id = try await serve.webhook("http://receiver.test/slow", ["rate_limit": "2/m"])
        #expect(try await serve.admin.webhook(id).rateLimit == RateLimit(count: 2, period: 60_000))
        try await serve.run { client in
            #expect(try await client.postEvent(Self.events(["a", "b", "c", "d"]), ndjson: true) == .accepted)
            try await eventually("a burst of two") { serve.sender.sent == 2 }
            serve.advance(.seconds(10))
            try await Task.sleep(for: .milliseconds(50))
            #expect(serve.sender.sent == 2, "no token 10 s later")
            serve.advance(.seconds(20))
            try await eventually("the third after 30 s") { serve.sender.sent == 3 }
            serve.advance(.seconds(30))
            try await eventually("the fourth after 30 s more") { serve.sender.sent == 4 }
            try await eventually("all four recorded delivered") {
                try await serve.admin.deliveries(webhook: id, status: .delivered, since: nil, before: nil, limit: 10).count == 4
            }
            #expect(try await serve.admin.webhook(id).state == .healthy)
        }
        #expect(serve.sender.all.map { $0.header("webhook-id") } == ["a", "b", "c", "d"])
    }

    @Test(arguments: StoreBackend.allCases)
    func aFailingFifoDeliveryHoldsTheOnesBehindIt(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend) { $0.retry = RetryPolicy(schedule: [.seconds(5)], jitter: 0) }
        let id = try await serve.webhook("http://receiver.test/ordered", ["ordering": "fifo"])
        serve.sender.script(.status(500), .status(204), .status(204), .status(204))
        try await serve.run { client in
            #expect(try await client.postEvent(Self.events(["one", "two", "three"]), ndjson: true) == .accepted)
            try await eventually("the first attempt") { serve.sender.sent == 1 }
            try await eventually("its failure recorded") { try await serve.admin.deliveries(webhook: id, status: nil, since: nil, before: nil, limit: 10).contains { $0.state.attempts == 1 } }
            try await Task.sleep(for: .milliseconds(50))
            #expect(serve.sender.sent == 1, "two and three wait behind one")
            serve.advance(.seconds(5))
            try await eventually("all three, in order") { serve.sender.sent == 4 }
        }
        #expect(serve.sender.all.map { $0.header("webhook-id") } == ["one", "one", "two", "three"])
    }

    @Test func theFieldsAreCheckedAndChatTemplatesGetTheirServicesLimits() async throws {
        let serve = try ServeHarness()
        let slack = try await serve.webhook("http://hooks.test/slack", ["template": "slack"])
        #expect(try await serve.admin.webhook(slack).rateLimit == RateLimit(count: 1, period: 1_000))
        let discord = try await serve.webhook("http://hooks.test/discord", ["template": "discord", "rate_limit": "off"])
        #expect(try await serve.admin.webhook(discord).rateLimit == nil, "off: the user's choice wins")
        for (fields, message) in [
            (["rate_limit": "5/d"], #""rate_limit" must be deliveries per time"#), (["rate_limit": "0/s"], "rate_limit"),
            (["ordering": "lifo"], #""ordering" must be "none" or "fifo""#),
        ] as [([String: Any], String)] {
            await #expect(throws: AdminError.self) { _ = try await serve.webhook("http://hooks.test/x", fields) }
            do {
                _ = try await serve.webhook("http://hooks.test/x", fields)
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
    }

    @Test func theWebPageSetsThemAndShowsWhatAFifoWebhookHolds() async throws {
        let serve = try ServeHarness { $0.retry = RetryPolicy(schedule: [.seconds(60)], jitter: 0) }
        serve.sender.script(.status(500))
        try await serve.run { client in
            let browser = try await WebFormTests.Browser.logIn(client)
            let body = "csrf=\(try await browser.csrf())&url=http%3A%2F%2Freceiver.test%2Fhook&template=raw&rate_limit=30%2Fm&ordering=fifo"
            let added = try await browser.post("/ui/webhooks", body)
            #expect(added.status == .ok, "\(added.status)")
            let webhook = try #require(try await serve.admin.webhooks().first)
            #expect(webhook.rateLimit == RateLimit(count: 30, period: 60_000) && webhook.fifo)
            try await serve.state.refreshWebhook(webhook.id)
            #expect(try await client.postEvent(Self.events(["x", "y"]), ndjson: true) == .accepted)
            try await eventually("the first failed once") {
                try await serve.admin.deliveries(webhook: webhook.id, status: nil, since: nil, before: nil, limit: 10).contains { $0.state.attempts == 1 }
            }
            let head = try #require(try await serve.admin.deliveries(webhook: webhook.id, status: nil, since: nil, before: nil, limit: 10).last)
            let page = String(buffer: try await browser.get("/ui/webhooks/\(webhook.id)").body)
            #expect(page.contains("held behind delivery <a href=\"/ui/deliveries/\(head.state.id)\">#\(head.state.id)</a>"), "\(page)")
            #expect(page.contains(#"value="30/m""#) && page.contains(#"<option value="fifo" selected>"#))
        }
    }
}
