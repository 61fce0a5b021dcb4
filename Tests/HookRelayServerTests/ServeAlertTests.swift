import Foundation
import HookRelayAdmin
import HookRelayCore
@testable import HookRelayServer
import HookRelayStore
import Hummingbird
import HummingbirdTesting
import Testing

/// Alerts (issue 17): a webhook's health transitions and its final failures go, as signed
/// events through the durable queue, to the config's alert destinations and its team's, never to
/// the failing webhook itself; one per transition, `delivery.failed` at most once a minute.
@Suite struct ServeAlertTests {
    static let event = #"{"event_type":"finding","id":"evt_a","finding":{"title":"SQLi","severity":"high"}}"#
    static let chat = "http://chat.test/services/T000/B000/secretpath"
    static let ops = "http://ops.test/alerts"

    /// The alerts `url` has received so far, as JSON objects.
    static func alerts(_ serve: ServeHarness, at url: String) -> [[String: Any]] {
        serve.sender.all.filter { $0.url == url }.compactMap { try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any] }
    }

    @Test(arguments: StoreBackend.allCases)
    func transitionsAndFinalFailuresReachTheDestinationsOncePerTransition(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend) {
            $0.retry = RetryPolicy(schedule: [.seconds(5)], jitter: 0)
            $0.unhealthyAfter = 2
            $0.alerts = [AlertDestination(url: Self.ops)]
        }
        let failing = try await serve.webhook("http://receiver.test/hook")
        serve.sender.script(for: "http://receiver.test/hook", .status(500), .status(500), .status(500), .status(500))
        try await serve.run { client in
            #expect(try await client.postEvent(Self.event) == .accepted)
            try await eventually("the first attempt") { serve.sender.tally("http://receiver.test/hook").values.reduce(0, +) == 1 }
            serve.advance(.seconds(5))
            try await eventually("unhealthy and failed, both alerted") { Self.alerts(serve, at: Self.ops).count == 2 }
            let alerts = Self.alerts(serve, at: Self.ops)
            let types = Set(alerts.compactMap { $0["event_type"] as? String })
            #expect(types == ["webhook.unhealthy", "delivery.failed"])
            let unhealthy = try #require(alerts.first { $0["event_type"] as? String == "webhook.unhealthy" })
            let facts = try #require(unhealthy["alert"] as? [String: Any])
            #expect(facts["webhook_id"] as? String == failing)
            #expect(facts["url_host"] as? String == "receiver.test")
            #expect(facts["team"] as? String == Team.defaultID)
            #expect(facts["last_error"] as? String == "HTTP 500")
            #expect(facts["reason"] as? String == "2 consecutive attempts failed")
            let request = try #require(serve.sender.all.first { $0.url == Self.ops })
            #expect(request.header("webhook-signature")?.hasPrefix("v1,") == true, "signed like any delivery")

            // Two more final failures within the minute: counted into one alert after it.
            #expect(try await client.postEvent(#"{"event_type":"finding","id":"evt_b"}"#) == .accepted)
            try await eventually("the second event's first attempt") { serve.sender.tally("http://receiver.test/hook").count == 2 }
            serve.advance(.seconds(5))
            try await eventually("the second delivery failed") {
                try await serve.admin.deliveries(webhook: failing, status: .failed, since: nil, before: nil, limit: 10).count == 2
            }
            await serve.state.raiseCountedFailures()
            #expect(Self.alerts(serve, at: Self.ops).count == 2, "within the minute: counted, not sent")
            serve.advance(.seconds(61))
            await serve.state.raiseCountedFailures()
            try await eventually("the counted failure alerted") { Self.alerts(serve, at: Self.ops).count == 3 }
            let counted = Self.alerts(serve, at: Self.ops).last
            #expect(counted?["event_type"] as? String == "delivery.failed")
            #expect((counted?["alert"] as? [String: Any])?["failed_deliveries"] as? Int == 1)
            #expect(counted?["title"] as? String == "A delivery to webhook \(failing) failed (receiver.test)")

            // A success heals it: one recovered alert.
            #expect(try await client.postEvent(#"{"event_type":"finding","id":"evt_c"}"#) == .accepted)
            try await eventually("recovered") { Self.alerts(serve, at: Self.ops).contains { $0["event_type"] as? String == "webhook.recovered" } }
        }
        #expect(Self.alerts(serve, at: Self.ops).count(where: { $0["event_type"] as? String == "webhook.unhealthy" }) == 1, "one per transition")
    }

    @Test(arguments: StoreBackend.allCases)
    func teamsHaveTheirOwnDestinationsAndNoneGoesToTheFailingWebhook(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend) {
            $0.retry = RetryPolicy(schedule: [], jitter: 0)
            $0.alerts = [AlertDestination(url: Self.ops)]
        }
        _ = try await serve.admin.createTeam(["id": "acme"])
        // acme's own webhook at the chat URL fails; its alerts go to ops, not to itself.
        let chatHook = try await serve.admin.createWebhook(["url": Self.chat], team: "acme")
        try await serve.state.refreshWebhook(chatHook.id)
        try await serve.admin.setTeamAlerts("acme", [AlertDestination(url: Self.chat, template: "slack")])
        serve.sender.script(for: Self.chat, .status(500))
        try await serve.run { client in
            try await serve.state.reloadWebhooks()
            #expect(try await client.call(.post, "teams/acme/events", Self.event).status == .accepted)
            try await eventually("the failure alerted") { !Self.alerts(serve, at: Self.ops).isEmpty }
            #expect(serve.sender.all.filter { $0.url == Self.chat }.count == 1, "the chat URL got the event only, no alert about itself")

            // The API shows the destinations by host only, never the chat URL's secret path.
            let listed = try await client.call(.get, "teams/acme/alerts")
            #expect(listed.status == .ok)
            #expect(!listed.text.contains("secretpath") && listed.text.contains(#""url_host":"chat.test""#), "\(listed.text)")
            #expect(listed.text.contains(#""scope":"config""#) && listed.text.contains(#""scope":"team""#))
            // Events never match a destination, and the lists leave them out.
            #expect(try await serve.admin.webhooks().map(\.id) == [chatHook.id])
        }
    }

    @Test func theAlertsAPIRefusesWhatIsWrongAndTestsEachDestination() async throws {
        let serve = try ServeHarness()
        try await serve.run { client in
            let none = try await client.call(.post, "alerts/test")
            #expect(none.status == .unprocessableContent)
            #expect(none.text.contains("no alert destinations for team default"), "\(none.text)")
            for (body, message) in [
                (#"{"alerts": "x"}"#, #"give \"alerts\": a list"#), (#"{"alerts": [{"url": "ftp://x"}]}"#, "alert url:"),
                (#"{"alerts": [{"url": "https://a.example", "template": "jira"}]}"#, #"alert template \"jira\" is not one of slack, teams, discord, raw"#),
                (#"{"alerts": [{"url": "https://a.example", "secret": "nope"}]}"#, "alert secret:"),
            ] {
                let refused = try await client.call(.put, "alerts", body)
                #expect(refused.status == .unprocessableContent, "\(body)")
                #expect(refused.text.contains(message), "\(refused.text)")
            }
            let set = try await client.call(.put, "alerts", #"{"alerts": [{"url": "http://ops.test/alerts", "template": "discord"}]}"#)
            #expect(set.status == .ok, "\(set.text)")
            serve.sender.script(for: Self.ops, .status(204))
            let tested = try await client.call(.post, "alerts/test")
            #expect(tested.status == .ok)
            #expect(tested.text.contains(#""status":"delivered""#), "\(tested.text)")
            let body = try #require(serve.sender.all.last { $0.url == Self.ops }?.body)
            let discord = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
            let embed = try #require((discord["embeds"] as? [[String: Any]])?.first)
            #expect(embed["title"] as? String == "⚪ hookrelay alert test", "rendered by the discord template from the alert's title")
        }
    }

    /// A team's own destinations are a field of the team object too: set when it is made or
    /// changed, shown by host only; a wrong one changes nothing.
    @Test(arguments: StoreBackend.allCases)
    func theTeamObjectCarriesItsAlerts(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend) { $0.alerts = [AlertDestination(url: Self.ops)] }
        try await serve.run { client in
            let created = try await client.call(
                .post, "teams", #"{"id": "acme", "alerts": [{"url": "http://chat.test/secretpath", "template": "slack"}]}"#)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.text.contains(#""url_host":"chat.test""#) && !created.text.contains("secretpath"), "\(created.text)")
            #expect(!created.text.contains("ops.test"), "the config's destinations are not the team's")
            let listed = try await client.call(.get, "teams/acme/alerts")
            #expect(listed.text.contains(#""scope":"team""#) && listed.text.contains(#""template":"slack""#), "\(listed.text)")

            let refused = try await client.call(.post, "teams", #"{"id": "other", "alerts": [{"url": "ftp://x"}]}"#)
            #expect(refused.status == .unprocessableContent && refused.text.contains("alert url:"), "\(refused.text)")
            #expect(try await client.call(.get, "teams/other").status == .notFound, "a refused team is not made")
            let wrongType = try await client.call(.patch, "teams/acme", #"{"name": "Acme", "alerts": "x"}"#)
            #expect(wrongType.status == .unprocessableContent && wrongType.text.contains(#"give \"alerts\": a list"#), "\(wrongType.text)")
            #expect(try await client.call(.get, "teams/acme").object["name"] as? String == "acme", "nothing changed")
            let empty = try await client.call(.patch, "teams/acme", "{}")
            #expect(empty.status == .unprocessableContent && empty.text.contains(#"give \"name\""#), "\(empty.text)")

            let changed = try await client.call(.patch, "teams/acme", #"{"alerts": [{"url": "http://pager.test/x"}]}"#)
            #expect(changed.status == .ok, "\(changed.text)")
            let alerts = try #require(changed.object["alerts"] as? [[String: Any]])
            #expect(alerts.map { $0["url_host"] as? String } == ["pager.test"] && changed.object["name"] as? String == "acme")
            let teams = try await client.call(.get, "teams")
            #expect(teams.text.contains(#""url_host":"pager.test""#) && !teams.text.contains("chat.test"), "\(teams.text)")
            #expect(try await client.call(.patch, "teams/acme", #"{"alerts": []}"#).object["alerts"] as? [Any] != nil)
            #expect(try await serve.admin.alertDestinations(team: "acme").map(\.urlHost) == ["ops.test"], "only the config's are left")
        }
    }

    @Test func theConfigFileTakesAlertsAndSaysWhatIsWrong() throws {
        func configuration(_ text: String) throws -> ServeConfiguration { try ServeConfiguration.fromTOML(text) }
        let read = try configuration("""
            [[alerts]]
            url = "https://hooks.slack.com/services/T/B/X"
            template = "slack"
            [[alerts]]
            url = "https://ops.example.com/hook"
            """)
        #expect(read.alerts == [
            AlertDestination(url: "https://hooks.slack.com/services/T/B/X", template: "slack"), AlertDestination(url: "https://ops.example.com/hook"),
        ])
        #expect(throws: ServeConfiguration.Problem.self) { try configuration("[[alerts]]\nurl = \"https://a.example\"\ntemplate = \"jira\"\n") }
        do {
            _ = try configuration("alerts = \"https://a.example\"\n")
            Issue.record("a string for alerts was taken")
        } catch {
            #expect("\(error)".contains("alerts must be a list of tables, each with url"), "\(error)")
        }
    }
}
