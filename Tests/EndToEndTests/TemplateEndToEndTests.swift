import Foundation
import Testing

/// Payload templates through the real binary: `render`, `deliver --template`, and a `serve`
/// webhook's `template`.
@Suite struct TemplateEndToEndTests {
    static let finding = #"{"event_type":"finding","id":"t-1","finding":{"title":"XSS in search","severity":"high","asset":"app.example.com"}}"#

    @Test func renderPrintsWhatWouldBeSentOneLineEach() throws {
        let result = try HookRelayProcess.run(["render", "--template", "discord"], stdin: Self.finding + "\n" + Self.finding + "\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.count == 2)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(result.lines[0].utf8)) as? [String: Any])
        let embed = try #require((body["embeds"] as? [[String: Any]])?.first)
        #expect(embed["title"] as? String == "🟠 XSS in search")

        let jira = try HookRelayProcess.run(["render", "--template", "jira"], stdin: Self.finding)
        #expect(jira.status == 64)
        #expect(jira.stderr.contains("template jira needs --template-var project=VALUE"), "\(jira.stderr)")
        let unknown = try HookRelayProcess.run(["render", "--template", "slak"], stdin: Self.finding)
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("no template named slak"))
    }

    @Test func aRenderingThatIsNotJSONIsReportedCountedAndNotSent() throws {
        let scratch = try ScratchDirectory()
        let template = try scratch.file("bad.mustache", #"{"title": {{finding.title}} }"#)
        let receiver = try Receiver()
        let numeric = #"{"event_type":"finding","id":"t-2","finding":{"title":"42","severity":"low"}}"#
        let result = try Deliver.run(
            Deliver.arguments(receiver, extra: ["--template", template]), input: Self.finding + "\n" + numeric + "\n", secret: Deliver.secret)
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains("event t-1: template \(template) rendered a body that is not valid JSON"), "\(result.stderr)")
        #expect(result.stderr.contains("not rendered 1"), "\(result.stderr)")
        #expect(Deliver.ids(receiver.requests) == ["t-2"], "only the event that rendered to JSON was sent")
    }

    /// `render` rejects what `deliver` would not send: reported with its line, the next record
    /// still rendered, and the run ends with 65.
    @Test func renderReportsARenderingThatIsNotJSONAndGoesOn() throws {
        let scratch = try ScratchDirectory()
        let template = try scratch.file("bad.mustache", #"{"title": {{finding.title}} }"#)
        let numeric = #"{"event_type":"finding","id":"t-2","finding":{"title":"42","severity":"low"}}"#
        let events = try scratch.file("events.ndjson", Self.finding + "\n" + numeric + "\n")
        let result = try HookRelayProcess.run(["render", "--template", template, events])
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.lines == [#"{"title":42}"#], "\(result.output)")
        #expect(result.stderr.hasPrefix("hookrelay: \(events): line 1: template \(template) rendered a body that is not valid JSON"), "\(result.stderr)")
    }

    @Test func deliverSendsTheRenderedBodySignedOverThatBody() throws {
        let receiver = try Receiver()
        let result = try Deliver.run(
            Deliver.arguments(receiver, extra: ["--template", "slack"]), input: Self.finding + "\n", secret: Deliver.secret)
        #expect(result.status == 0, "\(result.stderr)")
        let request = try #require(receiver.requests.first)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect((body["text"] as? String)?.contains("XSS in search") == true)
        #expect(request.headers["webhook-id"] == "t-1", "the event's id, not the body's")
        #expect(try Python.referenceVerify(secret: Deliver.secret, headers: request.headers, body: request.body) == "ok")
    }

    @Test func aServeWebhooksTemplateShapesWhatItGets() async throws {
        let receiver = try Receiver()
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        let webhook = try await server.createWebhook(
            receiver, ["template": "jira", "template_vars": ["project": "SEC", "issue_type": "Bug"]])
        let shown = try await server.webhook(webhook.id)
        #expect(shown.string("template") == "jira")
        #expect(try await server.postEvent(Self.finding).status == 202)
        let request = try #require(try await Serve.waitFor(receiver, 1).first)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        let fields = try #require(body["fields"] as? [String: Any])
        #expect(fields["summary"] as? String == "[HIGH] XSS in search")
        #expect(try Python.referenceVerify(secret: webhook.secret, headers: request.headers, body: request.body) == "ok")

        // Refused: an unknown template, a file path, jira without its variables.
        for fields: [String: any Sendable] in [["template": "slak"], ["template": "/etc/passwd"], ["template": "jira"]] {
            let refused = try await server.post("/v1/webhooks", json: fields.merging(["url": receiver.url]) { a, _ in a })
            #expect(refused.status == 422, "\(fields): \(refused.text)")
        }
        #expect(try await server.post("/v1/webhooks", json: ["url": receiver.url, "template": "jira"]).errorMessage?
            .contains("template_vars project=VALUE") == true)
    }
}
