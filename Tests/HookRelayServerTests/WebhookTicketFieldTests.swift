import Foundation
import HookRelayAdmin
import HookRelayStore
import Testing

/// The ticket fields of a webhook through the API (issue 19): `tickets: update` only with a
/// ticket template and its tracker's create-issue URL, each field checked with a message that
/// says what to give, stored and shown, and the settings dropped with `create`.
@Suite struct WebhookTicketFieldTests {
    static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    static var jira: [String: Any] { [
        "url": "https://jira.example.com/rest/api/2/issue", "template": "jira",
        "template_vars": ["project": "SEC", "issue_type": "Bug"], "tickets": "update",
    ] }

    static func message(_ answer: APIAnswer) -> String {
        (answer["error"] as? [String: Any])?["message"] as? String ?? answer.text
    }

    @Test(arguments: StoreBackend.allCases)
    func eachBadValueIsRefusedWithWhatToGive(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        try await serve.run { client in
            let cases: [([String: Any], String)] = [
                (["url": "https://hooks.example.com/x", "tickets": "update"], "\"tickets\": \"update\" needs the jira or github-issue template"),
                (Self.jira.merging(["tickets": "always"]) { $1 }, "\"tickets\" must be \"create\""),
                (Self.jira.merging(["url": "https://jira.example.com/hook"]) { $1 }, "needs the URL of Jira's create-issue endpoint"),
                (Self.jira.merging(["url": "https://jira.example.com/rest/api/2/issue?x=1"]) { $1 }, "without a query or fragment"),
                (Self.jira.merging(["template": "jira-comment"]) { $1 }, "\"template\" must be one of raw, discord, github-issue, jira, slack, teams"),
                (["url": "https://api.github.com/repos/acme/api", "template": "github-issue", "tickets": "update"],
                 "needs the URL of GitHub's create-issue endpoint"),
                (Self.jira.merging(["ticket_close": "close"]) { $1 }, "\"ticket_close\" for jira is the id of the transition"),
                (["url": "https://api.github.com/repos/a/b/issues", "template": "github-issue", "tickets": "update", "ticket_close": "31"],
                 "\"ticket_close\" for github-issue is \"close\""),
                (Self.jira.merging(["ticket_fixed_statuses": []]) { $1 }, "\"ticket_fixed_statuses\" must be 1 to 16 values"),
                (Self.jira.merging(["ticket_comment_template": "{{#title}"]) { $1 }, "\"ticket_comment_template\": "),
                (Self.jira.merging(["ticket_close_template": "not json {{title}}"]) { $1 }, "\"ticket_close_template\": "),
                (["url": "https://jira.example.com/rest/api/2/issue", "template": "jira", "template_vars": ["project": "S", "issue_type": "B"],
                  "ticket_close": "31"], "\"ticket_close\" applies to a webhook with \"tickets\": \"update\""),
            ]
            for (fields, expected) in cases {
                let answer = try await client.call(.post, "webhooks", try Self.json(fields))
                #expect(answer.status == .unprocessableContent, "\(fields): \(answer.text)")
                #expect(Self.message(answer).contains(expected), "\(fields): \(Self.message(answer))")
            }
            #expect(try await client.call(.get, "webhooks")["webhooks"] as? [Any] != nil)
            #expect((try await client.call(.get, "webhooks")["webhooks"] as? [Any])?.isEmpty == true, "nothing was stored")
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func theSettingsAreStoredShownAndDroppedWithCreate(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        try await serve.run { client in
            let created = try await client.call(.post, "webhooks", try Self.json(Self.jira.merging([
                "ticket_close": "31", "ticket_fixed_statuses": ["Done", "fixed"], "ticket_comment_template": #"{"body":"again: {{title}}"}"#,
            ]) { $1 }))
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created["id"] as? String)
            let shown = try await client.call(.get, "webhooks/\(id)")
            #expect(shown["tickets"] as? String == "update")
            #expect(shown["ticket_close"] as? String == "31")
            #expect(shown["ticket_fixed_statuses"] as? [String] == ["Done", "fixed"])
            #expect(shown["ticket_comment_template"] as? String == #"{"body":"again: {{title}}"}"#)
            // Another template cannot keep update; `create` drops every setting.
            let raw = try await client.call(.patch, "webhooks/\(id)", try Self.json(["template": "raw"]))
            #expect(raw.status == .unprocessableContent, "\(raw.text)")
            let back = try await client.call(.patch, "webhooks/\(id)", try Self.json(["tickets": "create"]))
            #expect(back.status == .ok, "\(back.text)")
            #expect(back["tickets"] as? String == "create")
            #expect(back["ticket_close"] == nil && back["ticket_fixed_statuses"] == nil)
            // A plain webhook says create.
            let plain = try await client.call(.post, "webhooks", try Self.json(["url": "https://hooks.example.com/x"]))
            #expect(plain["tickets"] as? String == "create")
        }
    }
}
