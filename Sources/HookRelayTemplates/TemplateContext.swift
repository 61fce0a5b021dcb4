import Foundation
import HookRelayCore

/// What a template sees: the event's own fields by path (`{{finding.title}}`), `event` (the
/// same), `vars` (the `--template-var` values), and helpers computed from the event whatever
/// its type: `title`, `summary`, `asset_name`, `link`, `remediation`, `severity_name`,
/// `severity_upper`, `severity_emoji`, `severity_color`, `severity_color_int`, `teams_color`,
/// `event_type`, `id`, `timestamp`, `is_test`, and `event_json` (the event pretty-printed).
/// `markdown` and `jira_wiki` hold the text helpers escaped for that markup (``Markup``).
enum TemplateContext {
    /// The most each helper holds, in UTF-16 code units: the largest count of the ways targets
    /// count characters (Slack and Discord count code points or UTF-16 units; Swift's `count`,
    /// grapheme clusters, is the smallest), so a helper within its limit is within the target's.
    /// Longer text is cut on a grapheme boundary and ends in `…`.
    struct Limits: Sendable {
        var title = 150
        var summary = 2900
        var remediation = 1000
        var assetName = Int.max
        var id = Int.max
        var eventType = Int.max
        /// A longer URL is left out (cutting it would make a different URL).
        var link = 2000
        var eventJSON = Int.max
    }

    static func make(event bytes: [UInt8], layout: EventLayout, variables: [String: String], limits: Limits = Limits()) throws -> [String: Any] {
        guard case let .object(fields) = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) else {
            throw PayloadTemplate.Problem(description: "the event is not a JSON object")
        }
        let event = JSONValue.object(fields)
        var context: [String: Any] = [:]
        for (key, value) in fields { context[key] = value.any }
        context["event"] = event.any
        context["vars"] = variables

        let type = event.string(at: layout.typePath) ?? "event"
        let severity = layout.severityPaths.lazy.compactMap { event.string(at: $0) }.first.flatMap(Severity.init)
        let asset = layout.assetPaths.lazy.compactMap { event.string(at: $0) }.first
        var text: [String: String] = [:]
        text["event_type"] = truncate(oneLine(type), limits.eventType)
        text["id"] = truncate(oneLine(event.string(at: layout.idPath) ?? ""), limits.id)
        if let timestamp = event.string(at: "timestamp") { context["timestamp"] = timestamp }
        context["is_test"] = event.value(at: "test") == .bool(true)
        text["asset_name"] = asset.flatMap { isBlank($0) ? nil : truncate(oneLine($0), limits.assetName) } ?? "-"
        let name = severity?.description ?? "none"
        context["severity_name"] = name
        context["severity_upper"] = name.uppercased()
        let style = severity.map { Self.styles[$0.description] ?? Self.none } ?? Self.none
        context["severity_emoji"] = style.emoji
        context["severity_color"] = String(format: "#%06x", style.color)
        context["severity_color_int"] = style.color
        context["teams_color"] = style.teams

        var title: String
        var summary: String
        switch type {
        case "finding":
            title = event.string(at: "finding.title") ?? event.string(at: "title") ?? ""
            summary = event.string(at: "finding.description") ?? event.string(at: "description") ?? ""
        case "scan_completed":
            title = "Scan completed" + (asset.map { " on \($0)" } ?? "")
            if case let .object(counts)? = event.value(at: "scan.findings") {
                summary = Severity.allCases.reversed().compactMap { severity in
                    counts[severity.description].map { "\(severity.description) \($0.text)" }
                }.joined(separator: ", ")
                summary = summary.isEmpty ? "" : "Findings: " + summary
            } else {
                summary = ""
            }
        case "asset_changed":
            title = "Asset " + (asset ?? "?") + " " + (event.string(at: "asset.change") ?? "changed")
            summary = event.value(at: "asset.details").map { "Details: " + $0.compact } ?? ""
        default:
            // Any other type, and hookrelay's own alerts (`webhook.unhealthy`, …): its `title`
            // and `description` when it has them.
            title = event.string(at: "title") ?? (type + (asset.map { " on \($0)" } ?? ""))
            summary = event.string(at: "description") ?? ""
        }
        // Targets refuse empty text (Slack's plain_text, Discord's field values).
        if isBlank(title) { title = type == "finding" ? "Finding" : "Event" }
        text["title"] = truncate(oneLine(title), limits.title)
        text["summary"] = truncate(isBlank(summary) ? title : summary, limits.summary)
        if let remediation = event.string(at: "finding.remediation") ?? event.string(at: "remediation"), !isBlank(remediation) {
            text["remediation"] = truncate(remediation, limits.remediation)
        }
        var link: String?
        if let url = event.string(at: "finding.url") ?? event.string(at: "url"),
           url.hasPrefix("https://") || url.hasPrefix("http://"), !url.contains(where: \.isWhitespace) {
            let encoded = percentEncoded(url)
            if encoded.utf16.count <= limits.link { link = encoded }
        }
        for (key, value) in text { context[key] = value }
        context["link"] = link
        // The URL is shown as a link made by the template's markup, never escaped text: its
        // percent-encoding leaves nothing that could end a CommonMark autolink or a Jira link.
        context["markdown"] = text.mapValues(Markup.markdown).merging(link.map { ["link": "<\($0)>"] } ?? [:]) { $1 }
        context["jira_wiki"] = text.mapValues(Markup.jiraWiki).merging(link.map { ["link": "[\($0)]"] } ?? [:]) { $1 }
        context["event_json"] = truncate(event.pretty, limits.eventJSON)
        return context
    }

    struct Style {
        var emoji: String
        var color: Int
        var teams: String
    }

    static let none = Style(emoji: "⚪", color: 0x9e9e9e, teams: "default")
    static let styles: [String: Style] = [
        "critical": Style(emoji: "🔴", color: 0xb71c1c, teams: "attention"),
        "high": Style(emoji: "🟠", color: 0xe65100, teams: "attention"),
        "medium": Style(emoji: "🟡", color: 0xf9a825, teams: "warning"),
        "low": Style(emoji: "🔵", color: 0x1565c0, teams: "accent"),
        "info": Style(emoji: "⚪", color: 0x9e9e9e, teams: "default"),
    ]

    /// Line breaks and tabs become spaces: titles go where a target wants one line.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
    }

    static func isBlank(_ text: String) -> Bool {
        text.allSatisfy(\.isWhitespace)
    }

    /// `text` in at most `limit` UTF-16 code units: whole grapheme clusters and then `…` when
    /// it is longer (so a cut never splits an emoji, a flag or a letter from its accents).
    static func truncate(_ text: String, _ limit: Int) -> String {
        guard text.utf16.count > limit else { return text }
        var used = 1  // the ellipsis
        var end = text.startIndex
        for character in text {
            let size = character.utf16.count
            guard used + size <= limit else { break }
            used += size
            end = text.index(after: end)
        }
        return String(text[..<end]) + "…"
    }

    /// The bytes a URL may hold unencoded (RFC 3986 unreserved, reserved and `%`); `[` and `]`
    /// only in the host, where they enclose an IPv6 address.
    private static let urlBytes = Set(#"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#@!$&'()*+,;=%"#.utf8)

    /// `url` with every other byte percent-encoded (UTF-8), so it is one valid URI that no
    /// markup can end early: no `<`, `>`, `"`, `\`, `{`, `}`, `|`, `^`, backtick or space.
    static func percentEncoded(_ url: String) -> String {
        let bytes = Array(url.utf8)
        let separator = Array("://".utf8)
        let schemeEnd = (0..<max(0, bytes.count - 2)).first { Array(bytes[$0..<$0 + 3]) == separator }.map { $0 + 3 } ?? 0
        let hostEnd = bytes[schemeEnd...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? bytes.count
        var out = ""
        for (index, byte) in bytes.enumerated() {
            let bracketInHost = (byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")) && index < hostEnd
            if urlBytes.contains(byte) || bracketInHost {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}

/// A JSON value decoded without Foundation's number/boolean ambiguity.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// The value for Mustache: Swift strings, numbers, booleans, arrays and dictionaries.
    var any: Any {
        switch self {
        case .null: return ""
        case let .bool(value): return value
        case let .int(value): return Int(value)
        case let .double(value): return value
        case let .string(value): return value
        case let .array(values): return values.map(\.any)
        case let .object(fields): return fields.mapValues(\.any)
        }
    }

    func value(at path: String) -> JSONValue? {
        var current = self
        for key in path.split(separator: ".") {
            guard case let .object(fields) = current, let next = fields[String(key)] else { return nil }
            current = next
        }
        return current
    }

    func string(at path: String) -> String? {
        if case let .string(text)? = value(at: path) { return text }
        return nil
    }

    /// Scalars as text; containers as compact JSON.
    var text: String {
        switch self {
        case let .string(value): return value
        case let .int(value): return String(value)
        case let .double(value): return String(value)
        case let .bool(value): return String(value)
        case .null: return "null"
        default: return compact
        }
    }

    var compact: String { render(indent: nil, level: 0) }
    var pretty: String { render(indent: "  ", level: 0) }

    private func render(indent: String?, level: Int) -> String {
        let newline = indent == nil ? "" : "\n"
        let pad = { (depth: Int) in String(repeating: indent ?? "", count: depth) }
        let separator = indent == nil ? ":" : ": "
        switch self {
        case .null: return "null"
        case let .bool(value): return String(value)
        case let .int(value): return String(value)
        case let .double(value): return value.isFinite ? String(value) : "null"
        case let .string(value): return JSONString.quote(value)
        case let .array(values):
            guard !values.isEmpty else { return "[]" }
            return "[" + newline + values.map { pad(level + 1) + $0.render(indent: indent, level: level + 1) }
                .joined(separator: "," + newline) + newline + pad(level) + "]"
        case let .object(fields):
            guard !fields.isEmpty else { return "{}" }
            return "{" + newline + fields.keys.sorted().map { key in
                pad(level + 1) + JSONString.quote(key) + separator + fields[key]!.render(indent: indent, level: level + 1)
            }.joined(separator: "," + newline) + newline + pad(level) + "}"
        }
    }
}
