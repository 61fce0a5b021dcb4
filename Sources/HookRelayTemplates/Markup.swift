/// Event text made inert in a target's markup: one function per markup language. Templates
/// reach them as the `markdown.*` and `jira_wiki.*` helpers of ``TemplateContext``; the
/// JSON-string escaping of `{{value}}` happens after, on the escaped text.
///
/// Escaped text reads the same once rendered, but can open no code block, HTML element, link,
/// image, mention, issue reference or list, so a finding cannot restyle or extend the message.
enum Markup {
    /// U+200D ZERO WIDTH JOINER, put after `@`, `#` and a `:` before `/`: mentions, issue
    /// references and autolinks are recognised in the rendered text, after escapes are gone,
    /// so only a character between the parts stops them.
    static let joiner: Unicode.Scalar = "\u{200D}"

    /// ASCII punctuation as CommonMark defines it: each may be backslash-escaped.
    static let asciiPunctuation = Set(##"!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"##.unicodeScalars)

    /// `text` for GitHub Flavored Markdown (CommonMark): `<`, `>`, `&` as entities (they hold
    /// in HTML blocks too), every other ASCII punctuation character backslash-escaped, and a
    /// joiner after `@`, `#` and a `:` before `/`. Line breaks stay (CR LF and CR become LF).
    static func markdown(_ text: String) -> String {
        escape(text) { scalar, next, out in
            switch scalar {
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "@", "#":
                out.append(scalar)
                out.append(joiner)
            case ":":
                out.append(scalar)
                if next == "/" { out.append(joiner) }
            case _ where asciiPunctuation.contains(scalar):
                out.append("\\")
                out.append(scalar)
            default:
                out.append(scalar)
            }
        }
    }

    /// `text` for Jira wiki markup (the REST API v2 `description`): the characters of text
    /// effects, links, images, macros (`{code}`, `{noformat}`), tables and lists
    /// backslash-escaped; a backslash, which Jira cannot show escaped (`\\` is a line break),
    /// becomes U+29F5 `⧵`; a joiner after `@` and a `:` before `/` (autolinks).
    static func jiraWiki(_ text: String) -> String {
        escape(text) { scalar, next, out in
            switch scalar {
            case "{", "}", "[", "]", "|", "*", "_", "+", "^", "~", "-", "!", "#", "?":
                out.append("\\")
                out.append(scalar)
            case "\\":
                out.append("\u{29F5}")
            case "@":
                out.append(scalar)
                out.append(joiner)
            case ":":
                out.append(scalar)
                if next == "/" { out.append(joiner) }
            default:
                out.append(scalar)
            }
        }
    }

    /// Walks `text` by scalar with a look-ahead of one, line breaks normalised to LF.
    private static func escape(
        _ text: String,
        _ body: (Unicode.Scalar, Unicode.Scalar?, inout String.UnicodeScalarView) -> Void
    ) -> String {
        var out = String.UnicodeScalarView()
        var iterator = text.unicodeScalars.makeIterator()
        var current = iterator.next()
        while let scalar = current {
            let next = iterator.next()
            if scalar == "\r" {
                if next != "\n" { out.append("\n") }
            } else {
                body(scalar, next, &out)
            }
            current = next
        }
        return String(out)
    }
}
