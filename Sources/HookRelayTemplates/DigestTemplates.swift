import Foundation
import HookRelayCore
import Mustache

/// The digest forms of the built-in chat templates (issue 19), and what a digest gives any
/// template (``DigestContext``). Titles go where the per-event forms put event text: Slack's
/// `plain_text`, Teams' TextBlocks and facts, Discord's embed (titles escaped for its Markdown,
/// mentions off), so no title can add markup, a mention or a link.
enum DigestTemplates {
    static let sources: [String: String] = [
        // Slack (limits as the per-event form's: header 150, section text 3,000; 6 blocks).
        "slack": #"""
            {"text":"{{digest_headline}}",
             "blocks":[
              {"type":"header","text":{"type":"plain_text","text":"{{digest_headline}}","emoji":true}},
              {"type":"section","fields":[
                {"type":"mrkdwn","text":"*Severity*"},{"type":"mrkdwn","text":"*Type*"},
                {"type":"plain_text","text":"{{digest_counts}}"},{"type":"plain_text","text":"{{digest_types}}"}]},
              {"type":"section","text":{"type":"plain_text","text":"{{digest_top}}{{#digest_more}}\n{{digest_more}}{{/digest_more}}"}}{{#link}},
              {"type":"section","text":{"type":"plain_text","text":"URL: {{link}}"}}{{/link}},
              {"type":"context","elements":[{"type":"plain_text","text":"{{digest_window}} · hookrelay"}]}]}
            """#,
        // Teams: one Adaptive Card, at most 28 KB: 20 titles of 150, even escaped six times
        // over, stay under it.
        "teams": #"""
            {"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,
             "content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.4",
              "body":[
               {"type":"TextBlock","size":"Large","weight":"Bolder","wrap":true,"color":"{{teams_color}}","text":"{{digest_headline}}"},
               {"type":"FactSet","facts":[{"title":"Severity","value":"{{digest_counts}}"},{"title":"Type","value":"{{digest_types}}"},
                {"title":"Window","value":"{{digest_window}}"}]},
               {"type":"FactSet","facts":[{{#top}}{{^first}},{{/first}}{"title":"{{emoji}} {{severity_upper}}","value":"{{title}}"}{{/top}}]}{{#digest_more}},
               {"type":"TextBlock","wrap":true,"text":"{{digest_more}}"}{{/digest_more}}]{{#link}},
              "actions":[{"type":"Action.OpenUrl","title":"Open","url":"{{link}}"}]{{/link}}}}]}
            """#,
        // Discord: one embed; title 256, description 4,096, field value 1,024, footer 2,048,
        // 6,000 in all (here at most 150 + 3,000 + 2 × 1,000 + 100).
        "discord": #"""
            {"username":"hookrelay","allowed_mentions":{"parse":[]},
             "embeds":[{"title":"{{digest_headline}}","description":"{{digest_top_markdown}}{{#digest_more}}\n{{digest_more}}{{/digest_more}}","color":{{severity_color_int}},
              "fields":[{"name":"Severity","value":"{{digest_counts}}","inline":true},{"name":"Type","value":"{{digest_types_markdown}}","inline":true}]{{#link}},
              "url":"{{link}}"{{/link}},"footer":{"text":"{{digest_window}}"}}]}
            """#,
    ]

    /// The compiled digest forms, by template name.
    static let compiled: [String: MustacheTemplate] = {
        PayloadTemplate.registerJSONContent()
        return sources.compactMapValues { try? MustacheTemplate(string: "{{% CONTENT_TYPE: JSON }}\n" + $0) }
    }()

    /// The templates that cannot send a digest: a ticket per event is their point.
    static let refused: Set<String> = ["jira", "github-issue"]
}

/// What a template sees for a digest: the digest's own fields (``DigestContent``: `webhook`,
/// `window.start`, `window.end`, `total`, `counts`, `by_type`, `top`, `more`, `link`), `vars`,
/// `is_digest` (true), and helpers: `digest_headline`, `digest_counts` ("🔴 CRITICAL 1 · 🟠 HIGH 2"),
/// `digest_types` ("finding 3 · scan_completed 1"), `digest_top` (a line per listed title),
/// `digest_more` ("…and 7 more", absent when none), `digest_window`, the `_markdown` forms of
/// the text ones (escaped, ``Markup``), `top` with `first`, `emoji` and `severity_upper` per
/// entry, and the most severe event's `severity_emoji`, `severity_color_int`, `teams_color`.
/// `link` is the `link` template variable when given, else the first event's URL.
enum DigestContext {
    struct Limits {
        var top = 2900
        var counts = 1000
        var types = 1000
    }

    static func make(_ digest: DigestContent, variables: [String: String], limits: Limits = Limits()) -> [String: Any] {
        var context: [String: Any] = [:]
        context["webhook"] = digest.webhook
        context["window"] = ["start": digest.window.start, "end": digest.window.end]
        context["total"] = digest.total
        context["counts"] = digest.counts
        context["by_type"] = digest.byType
        context["more"] = digest.more
        context["vars"] = variables
        context["is_digest"] = true
        var link = digest.link
        if let given = variables["link"], given.hasPrefix("https://") || given.hasPrefix("http://"),
           !given.contains(where: \.isWhitespace) {
            link = TemplateContext.percentEncoded(given)
        }
        context["link"] = link

        let order = Severity.allCases.reversed().map(\.description) + ["none"]
        let worst = order.first { digest.counts[$0, default: 0] > 0 } ?? "none"
        let style = TemplateContext.styles[worst] ?? TemplateContext.none
        context["severity_emoji"] = style.emoji
        context["severity_color_int"] = style.color
        context["teams_color"] = style.teams
        func emoji(_ severity: String) -> String { (TemplateContext.styles[severity] ?? TemplateContext.none).emoji }

        context["digest_headline"] = "\(style.emoji) Digest: \(digest.total) event\(digest.total == 1 ? "" : "s")"
        let counts = order.compactMap { name in digest.counts[name].map { "\(emoji(name)) \(name.uppercased()) \($0)" } }
        context["digest_counts"] = TemplateContext.truncate(counts.joined(separator: " · "), limits.counts)
        let types = digest.byType.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
        let typeLine = { (escape: (String) -> String) in
            TemplateContext.truncate(types.map { "\(escape(TemplateContext.oneLine($0.0))) \($0.1)" }.joined(separator: " · "), limits.types)
        }
        context["digest_types"] = typeLine { $0 }
        context["digest_types_markdown"] = typeLine(Markup.markdown)
        let lines = { (escape: (String) -> String) in
            TemplateContext.truncate(digest.top.map { "\(emoji($0.severity)) \($0.severity.uppercased()) · \(escape($0.title))" }
                .joined(separator: "\n"), limits.top)
        }
        context["digest_top"] = lines { $0 }
        context["digest_top_markdown"] = lines(Markup.markdown)
        if digest.more > 0 { context["digest_more"] = "…and \(digest.more) more" }
        context["top"] = digest.top.enumerated().map { index, entry -> [String: Any] in
            var item: [String: Any] = [
                "first": index == 0, "title": entry.title, "severity": entry.severity, "severity_upper": entry.severity.uppercased(),
                "emoji": emoji(entry.severity), "type": entry.type, "at": entry.at, "markdown_title": Markup.markdown(entry.title),
            ]
            item["id"] = entry.id
            item["link"] = entry.link
            return item
        }
        context["digest_window"] = window(digest.window)
        return context
    }

    /// `2026-12-03 10:00:00 – 10:05:00 UTC` (the end's date too when it is another day).
    static func window(_ window: DigestContent.Window) -> String {
        func parts(_ time: String) -> (day: Substring, clock: Substring) {
            (time.prefix(10), time.dropFirst(11).prefix(8))
        }
        let (start, end) = (parts(window.start), parts(window.end))
        return "\(start.day) \(start.clock) – \(end.day == start.day ? "" : "\(end.day) ")\(end.clock) UTC"
    }
}

extension PayloadTemplate {
    /// Whether webhooks with this template may gather events into digests: the chat templates,
    /// `raw` and template files, not the ticket templates.
    public static func sendsDigests(_ name: String) -> Bool {
        !DigestTemplates.refused.contains(name)
    }

    /// The body to send for a digest (its stored content, ``DigestContent``'s JSON): `raw`
    /// sends it as it is; a built-in chat template its digest form; a template file renders
    /// with ``DigestContext`` (`is_digest` true).
    public func renderDigest(_ content: [UInt8]) throws -> [UInt8] {
        guard let template else { return content }
        let digest: DigestContent
        do {
            digest = try DigestContent(json: content)
        } catch {
            throw Problem(description: "the stored digest is not readable (\(error)); not sent")
        }
        let form = DigestTemplates.compiled[name] ?? template
        let body = Array(form.render(DigestContext.make(digest, variables: variables)).utf8)
        if case let .failure(error) = body.withUnsafeBytes({ JSONScanner().validateDocument($0) }) {
            throw Problem(description: "template \(name) rendered a digest that is not valid JSON (\(error)); not sent")
        }
        return Self.compact(body)
    }
}
