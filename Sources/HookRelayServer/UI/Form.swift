import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayStore
import HookRelayTemplates
import HTTPTypes
import Hummingbird
import Synchronization

/// An `application/x-www-form-urlencoded` body.
struct Form: Sendable {
    private var values: [(String, String)] = []

    init(_ request: Request) async throws {
        let body = try await request.body.collect(upTo: 1 << 20)
        let text = String(buffer: body)
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            values.append((decode(parts[0]), parts.count > 1 ? decode(parts[1]) : ""))
        }
    }

    subscript(_ name: String) -> String? { values.first { $0.0 == name }?.1 }

    func all(_ name: String) -> [String] { values.filter { $0.0 == name }.map(\.1) }

    /// The settings form as the API's fields (see ``Admin/apply(_:to:)``).
    func webhookFields(creating: Bool) throws -> [String: Any] {
        var fields: [String: Any] = [:]
        fields["url"] = (self["url"] ?? "").trimmingCharacters(in: .whitespaces)
        let others = (self["other_events"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        fields["events"] = all("event") + others
        switch self["severity_mode"] ?? "any" {
        case "min": fields["min_severity"] = self["min_severity"] ?? ""
        case "list":
            let chosen = all("severity")
            guard !chosen.isEmpty else { throw AdminError.invalid("choose at least one severity, or any severity") }
            fields["severities"] = chosen
        default: fields["severities"] = [String]()
        }
        fields["description"] = self["description"] ?? ""
        do {
            // Read and checked as the API's "headers" and every --header are, with their messages.
            fields["headers"] = Dictionary(try HeaderField.parseLines(lines("headers")).map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        } catch {
            throw AdminError.invalid("\"headers\": \(error)")
        }
        fields["template"] = self["template"] ?? "raw"
        do {
            fields["template_vars"] = try TemplateVariables.parse(lines("template_vars"), source: "template value")
        } catch {
            throw AdminError.invalid(error.description)
        }
        return fields
    }

    /// The lines of a text area that hold more than spaces.
    private func lines(_ name: String) -> [String] {
        (self[name] ?? "").split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }
}

/// The webhook settings form, filled from a webhook or from what was typed.
extension WebUI {
    /// The settings form: of `webhook` (nil: a new one), or as it was `typed` when it was
    /// refused, so nothing typed is lost.
    static func settingsForm(_ webhook: Webhook?, action: String, submit: String, csrf: String, typed: Form? = nil) -> String {
        let events = typed.map { $0.all("event") } ?? webhook?.events ?? []
        let severities = Severity.allCases.reversed().map(\.description)
        let mode = typed?["severity_mode"] ?? (webhook?.minSeverity != nil ? "min" : !(webhook?.severities.isEmpty ?? true) ? "list" : "any")
        let minimum = typed?["min_severity"] ?? webhook?.minSeverity?.description ?? "high"
        let chosen = Set(typed.map { $0.all("severity") } ?? webhook?.severities.map(\.description) ?? [])
        let template = typed?["template"] ?? webhook?.template ?? "raw"
        return UIPages.render("form", [
            "action": action, "submit": submit, "csrf": csrf, "url": typed?["url"] ?? webhook?.url ?? "",
            "types": knownTypes.map { ["name": $0, "checked": events.contains($0)] },
            "other_events": typed?["other_events"] ?? events.filter { !knownTypes.contains($0) }.joined(separator: ", "),
            "mode_any": mode == "any", "mode_min": mode == "min", "mode_list": mode == "list",
            "severity_options": severities.map { ["name": $0, "selected": $0 == minimum] },
            "severity_checks": severities.map { ["name": $0, "checked": chosen.contains($0)] },
            "description": typed?["description"] ?? webhook?.description ?? "",
            "headers": typed?["headers"] ?? (webhook?.headers ?? [:]).sorted { $0.key < $1.key }
                .map { "\($0.key): \(HeaderField.masked(name: $0.key, value: $0.value))" }.joined(separator: "\n"),
            "templates": PayloadTemplate.builtinNames.map { ["name": $0, "selected": $0 == template] },
            "template_vars": typed?["template_vars"] ?? (webhook?.templateVariables ?? [:]).sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value)" }.joined(separator: "\n"),
        ])
    }
}
