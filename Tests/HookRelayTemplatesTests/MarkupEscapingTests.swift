import Foundation
import Testing
@testable import HookRelayTemplates

/// Finding text in the `github-issue` and `jira` renderings, which the targets read as
/// Markdown and wiki markup: it must show as written and add no markup of its own.
@Suite struct MarkupEscapingTests {
    /// What a finding might carry to restyle an issue or reach people through it.
    static let hostile = [
        "Update.\n```\n</details>\n\n@everyone see [Login](https://phish.example/login)\n```",
        "~~~\n<script>alert(1)</script><img src=x onerror=alert(1)> &lt;b&gt;",
        "@someone @org/team cc owner/repo#1 #2 a@b.example www.phish.example https://phish.example/x",
        "# Heading\n- list\n1. item\n> quote\n---\n| a | b |\n![x](https://phish.example/p.png) **bold** _it_ \\`x` [ref]: https://phish.example",
        "{code}x{code} {noformat}y{noformat} [~admin] [Login|https://phish.example] !https://phish.example/p.png! *b* _i_ -d- +u+ ^s^ ~s~ ??c?? {color:red}r{color} \\\\ \\",
    ]

    static func render(_ name: String, _ text: String, url: String? = nil) throws -> [String: Any] {
        var finding: [String: Any] = ["title": text, "severity": "high", "description": text, "remediation": text, "asset": text]
        finding["url"] = url
        let event = TemplateInputs.event(finding, id: text)
        let body = try PayloadTemplate(name, variables: PayloadTemplateTests.variables).render(Array(event.utf8))
        return try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    }

    static func githubBody(_ text: String, url: String? = nil) throws -> String {
        try #require(try render("github-issue", text, url: url)["body"] as? String)
    }

    static func jiraDescription(_ text: String, url: String? = nil) throws -> String {
        try #require((try render("jira", text, url: url)["fields"] as? [String: Any])?["description"] as? String)
    }

    /// The Markdown outside the fenced event JSON, where the finding's text goes.
    static func markdownText(_ body: String) -> String {
        String(body[..<(body.range(of: "<details>")?.lowerBound ?? body.endIndex)])
    }

    @Test(arguments: hostile)
    func githubIssueTextCannotCloseAFenceOrAddHTMLLinksOrMentions(_ text: String) throws {
        let body = try Self.githubBody(text)
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        let fences = lines.filter { line in
            let trimmed = line.drop { $0 == " " }
            return line.count - trimmed.count < 4 && (trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~"))
        }
        #expect(fences == ["```json", "```"], "only the event's fence: \(fences)")
        #expect(body.components(separatedBy: "<details>").count == 2 && body.hasSuffix("\n```\n</details>"), "one details element, ending the body")
        let markdown = Self.unescaped(Self.markdownText(body))
        #expect(!markdown.unicodeScalars.contains("<"), "no HTML from event text")
        for live in ["@everyone", "@someone", "@org", "](", "]:", "#1", "#2", "://", "www.", "a@b", "**bold**", "\n# ", "\n- ", "\n> ", "\n---"] {
            #expect(!Self.occurs(live, in: markdown), "\(live) is live in \(markdown)")
        }
        #expect(Self.occurs("@\u{200D}everyone", in: markdown) || !text.contains("@everyone"), "a mention shows, inert")
    }

    /// The text without its backslash escapes (each `\\` and the character it escapes).
    static func unescaped(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var skipNext = false
        var previous: Unicode.Scalar?
        for scalar in text.unicodeScalars {
            if previous == "\\", !skipNext, Markup.asciiPunctuation.contains(scalar) {
                out.removeLast()
                skipNext = true
            } else {
                out.append(scalar)
                skipNext = false
            }
            previous = scalar
        }
        return String(out)
    }

    /// Whether `needle` is in `haystack` scalar for scalar (`String.contains` may treat
    /// `@` and `@` + U+200D as one character or as equal).
    static func occurs(_ needle: String, in haystack: String) -> Bool {
        let needle = Array(needle.unicodeScalars), haystack = Array(haystack.unicodeScalars)
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<$0 + needle.count]) == needle }
    }

    /// GitHub's own Markdown (cmark-gfm) renders the body: one code block, our details, the
    /// finding's URL as the only link, no mention or issue reference, no element of the
    /// finding's making.
    static let githubCheck = #"""
        import html, json, re, sys
        import cmarkgfm
        from cmarkgfm.cmark import Options
        allowed = {"p", "strong", "h3", "details", "summary", "pre", "code", "a", "br"}
        bad = []
        for n, line in enumerate(sys.stdin):
            case = json.loads(line)
            out = cmarkgfm.github_flavored_markdown_to_html(case["body"], options=Options.CMARK_OPT_UNSAFE)
            tags = set(re.findall(r"</?([a-zA-Z0-9]+)", out))
            if not tags <= allowed:
                bad.append(f"case {n}: elements {sorted(tags - allowed)}")
            if out.count("<pre") != 1 or out.count("<details>") != 1 or out.count("</details>") != 1:
                bad.append(f"case {n}: the event's code block or details were broken")
            links = [html.unescape(h) for h in re.findall(r'<a href="([^"]*)"', out)]
            if links != ([case["link"]] if case["link"] else []):
                bad.append(f"case {n}: links {links}")
            text = re.sub(r"<pre.*?</pre>|<a .*?</a>", "", out, flags=re.S)
            for live in re.findall(r"(?<![\w])[@#][\w/-]+", html.unescape(re.sub(r"<[^>]+>", " ", text))):
                bad.append(f"case {n}: live mention or reference {live!r}")
        print("\n".join(bad[:20]))
        sys.exit(1 if bad else 0)
        """#

    @Test(.enabled(if: OutsideValidator.canRun("cmarkgfm"), "needs the Python package cmarkgfm (python3 -m pip install cmarkgfm); with CI set this test fails instead"))
    func githubsMarkdownRendersTheTextInert() throws {
        let link = "https://app.example.com/login?next=a_b&x=[1]"
        var cases: [[String: Any]] = []
        for text in Self.hostile + [TemplateInputs.long(3000)] {
            cases.append(["body": try Self.githubBody(text), "link": NSNull()])
            cases.append(["body": try Self.githubBody(text, url: link), "link": "https://app.example.com/login?next=a_b&x=%5B1%5D"])
        }
        let lines = try cases.map { Array(try JSONSerialization.data(withJSONObject: $0)) }
        try OutsideValidator.run(Self.githubCheck, lines: lines)
    }

    @Test(arguments: hostile)
    func jiraTextHasEveryWikiCharacterEscaped(_ text: String) throws {
        let description = try Self.jiraDescription(text)
        var characters = description.makeIterator()
        while let character = characters.next() {
            if character == "\\" {
                let next = characters.next()
                #expect(next.map { "{}[]|*_+^~-!#?".contains($0) } == true, "a backslash escapes only a wiki character: \(description)")
            } else {
                #expect(!"{}[]|*_+^~-!#?".contains(character), "unescaped \(character) in \(description)")
            }
        }
        #expect(!Self.occurs("\\\\", in: description), "no line break or escaped escape from event text")
        #expect(!Self.occurs("://", in: description) && !Self.occurs("@s", in: description) && !Self.occurs("@e", in: description), "no autolink or mention")
        #expect(description.contains("\\{code\\}") || !text.contains("{code}"))
    }

    @Test func jiraLinksTheFindingsURLAndNothingElse() throws {
        let description = try Self.jiraDescription("[x|https://phish.example]", url: "https://app.example.com/a?b=[1]|c")
        #expect(description.contains("\nURL: [https://app.example.com/a?b=%5B1%5D%7Cc]\n"))
        #expect(description.components(separatedBy: "[").count - description.components(separatedBy: "\\[").count == 1, "one link")
    }

    @Test func escapingFunctionsKeepTheTextReadable() {
        #expect(Markup.markdown("a_b <c> & d:/e @f #1\r\ng") == "a\\_b &lt;c&gt; &amp; d:\u{200D}\\/e @\u{200D}f #\u{200D}1\ng")
        #expect(Markup.jiraWiki("a_b {c} \\ d:/e @f") == "a\\_b \\{c\\} \u{29F5} d:\u{200D}/e @\u{200D}f")
        #expect(Markup.markdown("Plain text 123 é 🔥") == "Plain text 123 é 🔥")
        #expect(Markup.jiraWiki("Plain text 123 é 🔥") == "Plain text 123 é 🔥")
    }

    @Test func linksArePercentEncodedIntoOneURI() {
        #expect(TemplateContext.percentEncoded("https://[::1]:8443/a b<c>\"d\"{e}|^`é?q=[1]") == "https://[::1]:8443/a%20b%3Cc%3E%22d%22%7Be%7D%7C%5E%60%C3%A9?q=%5B1%5D")
        #expect(TemplateContext.percentEncoded("https://example.com/a?b=1&c=%20#x") == "https://example.com/a?b=1&c=%20#x")
    }
}
