import Foundation
import HookRelayCore

/// What a template sees: the event's own fields by path (`{{finding.title}}`), `event` (the
/// same), `vars` (the `--template-var` values), and helpers computed from the event whatever
/// its type: `title`, `summary`, `asset_name`, `link`, `remediation`, `severity_name`,
/// `severity_upper`, `severity_emoji`, `severity_color`, `severity_color_int`, `teams_color`,
/// `event_type`, `id`, `timestamp`, `is_test`, and `event_json` (the event pretty-printed).
enum TemplateContext {
    static let titleLimit = 150
    static let summaryLimit = 2900
    static let remediationLimit = 1000

    static func make(event bytes: [UInt8], layout: EventLayout, variables: [String: String]) throws -> [String: Any] {
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
        context["event_type"] = type
        context["id"] = event.string(at: layout.idPath) ?? ""
        if let timestamp = event.string(at: "timestamp") { context["timestamp"] = timestamp }
        context["is_test"] = event.value(at: "test") == .bool(true)
        context["asset_name"] = asset.map { oneLine($0) } ?? "-"
        let name = severity?.description ?? "none"
        context["severity_name"] = name
        context["severity_upper"] = name.uppercased()
        let style = severity.map { Self.styles[$0.description] ?? Self.none } ?? Self.none
        context["severity_emoji"] = style.emoji
        context["severity_color"] = String(format: "#%06x", style.color)
        context["severity_color_int"] = style.color
        context["teams_color"] = style.teams

        let title: String
        var summary: String
        switch type {
        case "finding":
            title = event.string(at: "finding.title") ?? event.string(at: "title") ?? "Finding"
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
            title = type + (asset.map { " on \($0)" } ?? "")
            summary = ""
        }
        context["title"] = truncate(oneLine(title), Self.titleLimit)
        context["summary"] = truncate(summary.isEmpty ? title : summary, Self.summaryLimit)
        if let remediation = event.string(at: "finding.remediation") ?? event.string(at: "remediation"), !remediation.isEmpty {
            context["remediation"] = truncate(remediation, Self.remediationLimit)
        }
        if let url = event.string(at: "finding.url") ?? event.string(at: "url"),
           url.hasPrefix("https://") || url.hasPrefix("http://"), url.count <= 2000, !url.contains(where: \.isWhitespace) {
            context["link"] = url
        }
        context["event_json"] = event.pretty
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

    static func truncate(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
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
