import Foundation
import HookRelayCore
import Testing
@testable import HookRelayTemplates

/// Every built-in template, for every event type, against the payload shape its target
/// documents; hostile event text; bad templates.
@Suite struct PayloadTemplateTests {
    static let events = [
        #"{"event_type":"finding","id":"evt_1","timestamp":"2025-01-01T00:00:00Z","finding":{"title":"SQL injection","severity":"critical","asset":"app1.example.com","url":"https://app1.example.com/login?id=1","parameter":"id","description":"SQLi in id","remediation":"Use parameterized queries.","cvss":9.8,"tags":["owasp"]}}"#,
        #"{"event_type":"scan_completed","id":"evt_2","timestamp":"2025-01-02T00:00:00Z","scan":{"asset":"app2.example.com","profile":"full","duration_seconds":2223,"findings":{"critical":2,"high":6,"medium":18,"low":10,"info":6}}}"#,
        #"{"event_type":"asset_changed","id":"evt_3","timestamp":"2025-01-03T00:00:00Z","asset":{"name":"app3.example.com","change":"added","details":{"port":8443}}}"#,
        #"{"event_type":"finding","id":"evt_4","finding":{"title":"Minimal","severity":"low"}}"#,
        #"{"event_type":"something_else"}"#,
    ]

    static let variables = ["project": "SEC", "issue_type": "Bug"]

    static func render(_ name: String, _ event: String) throws -> [String: Any] {
        let body = try PayloadTemplate(name, variables: variables).render(Array(event.utf8))
        return try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "\(String(decoding: body, as: UTF8.self))")
    }

    @Test(arguments: events)
    func slackIsAnIncomingWebhookMessageWithBlocks(_ event: String) throws {
        let body = try Self.render("slack", event)
        #expect((body["text"] as? String)?.isEmpty == false)
        let blocks = try #require(body["blocks"] as? [[String: Any]])
        #expect(blocks.first?["type"] as? String == "header")
        let header = try #require((blocks.first?["text"] as? [String: Any])?["text"] as? String)
        #expect(header.count <= 150, "Slack header text is at most 150 characters")
        for block in blocks {
            #expect(["header", "section", "context", "divider"].contains(block["type"] as? String ?? ""))
            let texts: [Any] = [block["text"] as Any] + ((block["fields"] as? [Any]) ?? []) + ((block["elements"] as? [Any]) ?? [])
            for text in texts {
                guard let text = text as? [String: Any] else { continue }
                #expect(["plain_text", "mrkdwn"].contains(text["type"] as? String ?? ""))
                #expect((text["text"] as? String).map { !$0.isEmpty && $0.count <= 3000 } == true)
            }
        }
    }

    @Test(arguments: events)
    func teamsIsAMessageWithOneAdaptiveCard(_ event: String) throws {
        let body = try Self.render("teams", event)
        #expect(body["type"] as? String == "message")
        let attachments = try #require(body["attachments"] as? [[String: Any]])
        #expect(attachments.count == 1)
        #expect(attachments[0]["contentType"] as? String == "application/vnd.microsoft.card.adaptive")
        let card = try #require(attachments[0]["content"] as? [String: Any])
        #expect(card["type"] as? String == "AdaptiveCard")
        #expect(card["version"] as? String == "1.4")
        let blocks = try #require(card["body"] as? [[String: Any]])
        #expect(blocks.allSatisfy { ["TextBlock", "FactSet"].contains($0["type"] as? String ?? "") })
        #expect(["attention", "warning", "accent", "default"].contains(blocks[0]["color"] as? String ?? ""))
        for action in (card["actions"] as? [[String: Any]]) ?? [] {
            #expect(action["type"] as? String == "Action.OpenUrl")
            #expect((action["url"] as? String)?.hasPrefix("https://") == true)
        }
    }

    @Test(arguments: events)
    func discordIsOneEmbedColouredBySeverity(_ event: String) throws {
        let body = try Self.render("discord", event)
        #expect((body["allowed_mentions"] as? [String: Any])?["parse"] as? [Any] != nil, "no @everyone from a finding")
        let embeds = try #require(body["embeds"] as? [[String: Any]])
        #expect(embeds.count == 1)
        let embed = embeds[0]
        #expect((embed["title"] as? String).map { !$0.isEmpty && $0.count <= 256 } == true)
        #expect((embed["description"] as? String).map { $0.count <= 4096 } == true)
        let color = try #require(embed["color"] as? Int)
        #expect((0...0xFFFFFF).contains(color))
        for field in try #require(embed["fields"] as? [[String: Any]]) {
            #expect((field["name"] as? String)?.isEmpty == false)
            #expect((field["value"] as? String).map { !$0.isEmpty && $0.count <= 1024 } == true, "Discord refuses empty field values")
        }
    }

    @Test func discordColoursDifferBySeverity() throws {
        let colors = try ["critical", "high", "medium", "low", "info"].map { severity in
            try Self.render("discord", #"{"event_type":"finding","finding":{"title":"t","severity":"\#(severity)"}}"#)
        }.map { (($0["embeds"] as? [[String: Any]])?.first?["color"] as? Int) ?? -1 }
        #expect(Set(colors).count == 5)
    }

    @Test(arguments: events)
    func jiraIsACreateIssueBody(_ event: String) throws {
        let body = try Self.render("jira", event)
        let fields = try #require(body["fields"] as? [String: Any])
        #expect((fields["project"] as? [String: Any])?["key"] as? String == "SEC")
        #expect((fields["issuetype"] as? [String: Any])?["name"] as? String == "Bug")
        let summary = try #require(fields["summary"] as? String)
        #expect(summary.count <= 255 && !summary.contains("\n"), "Jira summaries are one line of at most 255 characters")
        #expect(fields["description"] is String)
        #expect((fields["labels"] as? [String])?.allSatisfy { !$0.contains(" ") } == true, "Jira labels hold no spaces")
    }

    @Test func jiraNeedsItsProjectAndIssueType() {
        #expect(throws: PayloadTemplate.Problem.self) { try PayloadTemplate("jira", variables: ["project": "SEC"]) }
        do {
            _ = try PayloadTemplate("jira")
        } catch {
            #expect("\(error)".contains("--template-var project=VALUE"))
        }
    }

    @Test(arguments: events)
    func githubIssueIsACreateIssueBody(_ event: String) throws {
        let body = try Self.render("github-issue", event)
        #expect((body["title"] as? String).map { !$0.isEmpty && $0.count <= 256 } == true)
        let text = try #require(body["body"] as? String)
        #expect(text.contains("```json\n{"), "the event, pretty-printed")
        #expect((body["labels"] as? [String])?.contains("security") == true)
    }

    @Test func rawSendsTheEventsOwnBytes() throws {
        let event = Array(#"{ "b":1, "a" : "x" }"#.utf8)
        let template = try PayloadTemplate("raw")
        #expect(template.isRaw)
        #expect(try template.render(event) == event)
    }

    static let hostileTitle = "Quote \" backslash \\ newline\n tab\t </script><script>alert(1)</script> {{event_json}} {{{vars}}} \u{2028} \u{01} }\",\"injected\":\"yes"

    @Test(arguments: ["slack", "teams", "discord", "jira", "github-issue"])
    func hostileTextRendersSafely(_ name: String) throws {
        let event = try String(decoding: JSONSerialization.data(withJSONObject: [
            "event_type": "finding", "id": "evt_x",
            "finding": ["title": Self.hostileTitle, "severity": "high", "description": Self.hostileTitle, "remediation": Self.hostileTitle,
                        "asset": Self.hostileTitle, "url": "javascript:alert(1)"],
        ]), as: UTF8.self)
        let body = try PayloadTemplate(name, variables: Self.variables).render(Array(event.utf8))
        let text = String(decoding: body, as: UTF8.self)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "\(text)")
        #expect(!text.contains("injected\":\"yes\""), "a value closed its string: \(text)")
        #expect(object["injected"] == nil)
        #expect(!text.contains("</script>"), "< and > are escaped")
        for link in ["URL: javascript", "URL:** javascript", #""url":"javascript"#] {
            #expect(!text.contains(link), "only http(s) URLs become links")
        }
        // The text arrives intact (Mustache tags in event text are not expanded).
        #expect(text.contains("{{event_json}}"))
    }

    @Test func aTemplateFileUsesEventPathsAndHelpers() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("t-\(UUID().uuidString).mustache").path
        try Data(#"{"t":"{{finding.title}}","s":"{{severity_upper}}","e":{{{event_json}}},"v":"{{vars.team}}"}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let body = try PayloadTemplate(path, variables: ["team": "red"]).render(Array(Self.events[0].utf8))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(object["t"] as? String == "SQL injection")
        #expect(object["s"] as? String == "CRITICAL")
        #expect((object["e"] as? [String: Any])?["id"] as? String == "evt_1")
        #expect(object["v"] as? String == "red")
    }

    @Test func aRenderedBodyThatIsNotJSONIsAnError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).mustache").path
        try Data(#"{"t":{{finding.title}}}"#.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try PayloadTemplate(path).render(Array(Self.events[0].utf8))
        } throws: { "\($0)".contains("not valid JSON") && "\($0)".contains("not sent") }
    }

    @Test func unknownTemplatesAndMissingFilesAreRefused() {
        #expect { try PayloadTemplate("slak") } throws: { "\($0)".contains("slack") && "\($0)".contains("no template named slak") }
        #expect { try PayloadTemplate("/nonexistent/x.mustache") } throws: { "\($0)".contains("cannot read the template file") }
        #expect { try PayloadTemplate("slack").render(Array("[1]".utf8)) } throws: { "\($0)".contains("not a JSON object") }
    }
}

/// A template file's mistakes are named with the file, line and column, or the missing name.
@Suite struct TemplateFileErrorTests {
    static func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-\(UUID().uuidString).mustache").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func anUnclosedSectionNamesTheFileAndLine() throws {
        let path = try Self.file("{\"a\": \"{{title}}\",\n \"b\": \"{{#asset_name}}x\"}\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try PayloadTemplate(path)
            Issue.record("a broken template was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.hasPrefix("\(path):3:"), "\(text)")
            #expect(text.contains("is not closed with {{/name}}"), "\(text)")
            #expect(!text.contains("MustacheParserContext"), "a debug dump: \(text)")
        }
    }

    @Test func aVariableWithoutAValueIsRefusedAndAnOptionalOneIsNot() throws {
        let path = try Self.file("{\"channel\": \"{{vars.channel}}\",\n \"t\": \"{{{vars.team}}}{{#vars.note}}{{vars.note}}{{/vars.note}}\"}\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: PayloadTemplate.Problem.self) { try PayloadTemplate(path, variables: ["team": "x"]) }
        do {
            _ = try PayloadTemplate(path, variables: ["channel": "c"])
            Issue.record("a missing variable was accepted")
        } catch {
            #expect("\(error)" == "\(path):2: {{vars.team}} has no value; give --template-var team=VALUE (or use {{#vars.team}}...{{/vars.team}} for an optional one)")
        }
        let template = try PayloadTemplate(path, variables: ["channel": "c", "team": "t"])
        #expect(String(decoding: try template.render(Array(#"{"event_type":"finding"}"#.utf8)), as: UTF8.self) == #"{"channel":"c","t":"t"}"#)
    }
}
