import Foundation
import HookRelayAdmin
import HookRelayCore
@testable import HookRelayServer
import HookRelayStore
import Hummingbird
import HummingbirdTesting
import Testing

/// `serve`'s retention (issue 17): a pass deletes what is older than `retention` on the clock,
/// keeps what waits, counts it in the metrics, and the page and the admin layer say how far
/// back the log goes.
@Suite struct ServeRetentionTests {
    static let event = #"{"event_type":"finding","id":"evt_old","finding":{"title":"XSS","severity":"high"}}"#

    @Test(arguments: StoreBackend.allCases)
    func aPassDeletesWhatIsOlderThanTheRetentionAndKeepsWhatWaits(_ backend: StoreBackend) async throws {
        let hour: Int64 = 3_600_000
        let serve = try ServeHarness(on: backend) { $0.retention = .milliseconds(hour) }
        let delivered = try await serve.webhook("http://receiver.test/a")
        let held = try await serve.webhook("http://receiver.test/b")
        _ = try await serve.admin.setPaused(held, true)
        try await serve.state.refreshWebhook(held)
        try await serve.admin.record(actor: "test", role: "admin", team: Team.defaultID, "webhook", held, "paused", [:])
        try await serve.run { client in
            #expect(try await client.postEvent(Self.event) == .accepted)
            _ = try await next(serve.sender.requests)
            try await eventually("delivered") { try await serve.delivery(of: delivered).state.status == .delivered }
            #expect(try await serve.state.prune(retention: hour) == PruneCounts(), "nothing is an hour old yet")

            serve.clock.advance(.milliseconds(hour + 1000))
            #expect(try await serve.state.prune(retention: hour) == PruneCounts(deliveries: 1, attempts: 1, audit: 1))
            let left = try await serve.admin.deliveries(webhook: nil, status: nil, since: nil, before: nil, limit: 10)
            #expect(left.map(\.state.target) == [held], "the paused webhook's delivery waits, and its event with it")
            #expect(try await serve.admin.logHorizon() == LogHorizon(retention: hour, oldestEvent: left.first?.createdAt))

            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"hookrelay_pruned_rows_total{table="deliveries"} 1"#))
            #expect(metrics.contains(#"hookrelay_pruned_rows_total{table="audit"} 1"#))
            #expect(metrics.contains(#"hookrelay_pruned_rows_total{table="events"} 0"#))

            // Resumed and delivered, then old: the event goes too.
            _ = try await serve.admin.setPaused(held, false)
            try await serve.state.refreshWebhook(held)
            _ = try await next(serve.sender.requests)
            try await eventually("the held one delivered") { try await serve.delivery(of: held).state.status == .delivered }
            serve.clock.advance(.milliseconds(hour + 1000))
            #expect(try await serve.state.prune(retention: hour) == PruneCounts(events: 1, deliveries: 1, attempts: 1))
            #expect(try await serve.admin.logHorizon() == LogHorizon(retention: hour, oldestEvent: nil))
        }
    }

    @Test func theWebhookPageSaysHowFarBackTheLogGoes() async throws {
        let serve = try ServeHarness { $0.retention = .seconds(30 * 86_400) }
        let id = try await serve.webhook()
        try await serve.run { client in
            #expect(try await client.postEvent(Self.event) == .accepted)
            let browser = try await WebFormTests.Browser.logIn(client)
            let page = String(buffer: try await browser.get("/ui/webhooks/\(id)").body)
            #expect(page.contains("The delivery log is kept 30d, back to 20"), "\(page)")
        }
        let off = try ServeHarness(reopening: serve) { $0.retention = nil }
        #expect(try await off.admin.logHorizon().text.hasPrefix("kept for ever (retention off), back to 20"))
    }

    @Test func theRetentionIsReadFromTheConfigFile() throws {
        func configuration(_ text: String) throws -> ServeConfiguration { try ServeConfiguration.fromTOML(text) }
        #expect(ServeConfiguration().retention == .seconds(30 * 86_400), "a month by default")
        #expect(try configuration(#"retention = "12h""#).retention == .seconds(12 * 3600))
        #expect(try configuration(#"retention = "off""#).retention == nil)
        for wrong in ["10s", "forever", "-1d", ""] {
            #expect(throws: ServeConfiguration.Problem.self) { try configuration("retention = \"\(wrong)\"") }
        }
        do {
            _ = try configuration(#"retention = "10s""#)
        } catch {
            #expect("\(error)".contains(#"retention "10s" must be a duration of at least 60s (such as "30d" or "12h"), or "off""#))
        }
        #expect(Retention.passInterval(60_000) == 6_000)
        #expect(Retention.passInterval(30 * 86_400_000) == 60_000)
    }
}
