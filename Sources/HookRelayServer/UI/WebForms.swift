import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayStore
import HookRelayTemplates
import Hummingbird

/// A form the web page posts with the session's CSRF token. The forms are read by Hummingbird's
/// `URLEncodedFormDecoder` (``ServeRequestContext/requestDecoder``): a field left out is nil, a
/// list is a field named `name[]` (the decoder refuses a name given twice), and a body it cannot
/// read is answered by ``WebUI/unreadableForm()``.
protocol SessionForm: Decodable, Sendable {
    var csrf: String? { get }
}

/// The form of every action button: the CSRF token alone.
struct ActionForm: SessionForm {
    var csrf: String?
}

/// The login form.
struct LoginForm: Decodable, Sendable {
    var token: String?
}

/// The webhook settings form (fields `event[]` and `severity[]` are checkbox groups).
struct WebhookForm: SessionForm {
    var csrf: String?
    var url: String?
    var events: [String] = []
    var otherEvents: String?
    var severityMode: String?
    var minSeverity: String?
    var severities: [String] = []
    var description: String?
    var headers: String?
    var template: String?
    var templateVars: String?
    var rateLimit: String?
    var ordering: String?

    /// The checkbox: "on" when ticked, absent otherwise.
    var traceContext: String?
    /// PEM text replacing what is stored (empty: keep it); the checkboxes remove it.
    var clientCert: String?
    var clientKey: String?
    var ca: String?
    var removeClientCert: String?
    var removeCA: String?
    /// Empty: the template's default window, the default fingerprint fields and id.
    var dedupeWindow: String?
    var dedupeIgnoresSeverity: String?
    var fingerprintFields: String?
    var fingerprintIDField: String?
    /// A window (`5m`), or empty or `off`; the severity that bypasses it; how many titles.
    var digest: String?
    var digestBypass: String?
    var digestTop: String?

    enum CodingKeys: String, CodingKey {
        case csrf, url, events = "event", otherEvents = "other_events", severityMode = "severity_mode", minSeverity = "min_severity"
        case severities = "severity", description, headers, template, templateVars = "template_vars", rateLimit = "rate_limit", ordering
        case traceContext = "trace_context", clientCert = "client_cert", clientKey = "client_key", ca
        case removeClientCert = "remove_client_cert", removeCA = "remove_ca"
        case dedupeWindow = "dedupe_window", dedupeIgnoresSeverity = "dedupe_ignores_severity"
        case fingerprintFields = "fingerprint_fields", fingerprintIDField = "fingerprint_id_field"
        case digest, digestBypass = "digest_bypass", digestTop = "digest_top"
    }

    /// The settings as the API's fields (see ``Admin/apply(_:to:)``).
    func webhookFields() throws -> [String: Any] {
        var fields: [String: Any] = [:]
        fields["url"] = (url ?? "").trimmingCharacters(in: .whitespaces)
        let others = (otherEvents ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        fields["events"] = events + others
        switch severityMode ?? "any" {
        case "min": fields["min_severity"] = minSeverity ?? ""
        case "list":
            guard !severities.isEmpty else { throw AdminError.invalid("choose at least one severity, or any severity") }
            fields["severities"] = severities
        default: fields["severities"] = [String]()
        }
        fields["description"] = description ?? ""
        do {
            // Read and checked as the API's "headers" and every --header are, with their messages.
            fields["headers"] = Dictionary(try HeaderField.parseLines(Self.lines(headers)).map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        } catch {
            throw AdminError.invalid("\"headers\": \(error)")
        }
        fields["template"] = template ?? "raw"
        // Empty keeps what is set (or the chat service's own limit); "off" removes it.
        if let rateLimit = rateLimit?.trimmingCharacters(in: .whitespaces), !rateLimit.isEmpty { fields["rate_limit"] = rateLimit }
        if let ordering { fields["ordering"] = ordering }
        do {
            fields["template_vars"] = try TemplateVariables.parse(Self.lines(templateVars), source: "template value")
        } catch {
            throw AdminError.invalid(error.description)
        }
        fields["trace_context"] = traceContext != nil
        func orNull(_ text: String?) -> String? { text.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 } }
        fields["dedupe_window"] = orNull(dedupeWindow) ?? NSNull()
        fields["dedupe_ignores_severity"] = dedupeIgnoresSeverity != nil
        fields["fingerprint_fields"] = orNull(fingerprintFields).map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        } ?? NSNull()
        fields["fingerprint_id_field"] = orNull(fingerprintIDField) ?? NSNull()
        let window = (digest ?? "").trimmingCharacters(in: .whitespaces)
        fields["digest"] = window.isEmpty ? "off" : window
        if !window.isEmpty, window != "off" {
            fields["digest_bypass"] = digestBypass ?? "none"
            let top = (digestTop ?? "").trimmingCharacters(in: .whitespaces)
            if !top.isEmpty {
                guard let number = Int(top) else { throw AdminError.invalid("\"digest_top\" must be a whole number from 1 to 20") }
                fields["digest_top"] = number
            }
        }
        func pem(_ text: String?) -> String? {
            text.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0.replacingOccurrences(of: "\r\n", with: "\n") }
        }
        if let text = pem(clientCert) { fields["client_cert"] = text }
        if let text = pem(clientKey) { fields["client_key"] = text }
        if let text = pem(ca) { fields["ca"] = text }
        if removeClientCert != nil {
            guard fields["client_cert"] == nil, fields["client_key"] == nil else {
                throw AdminError.invalid("either paste a new client certificate or remove it, not both")
            }
            fields["client_cert"] = NSNull()
        }
        if removeCA != nil {
            guard fields["ca"] == nil else { throw AdminError.invalid("either paste a new CA bundle or remove it, not both") }
            fields["ca"] = NSNull()
        }
        return fields
    }

    /// The lines of a text area that hold more than spaces.
    private static func lines(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }
}

extension WebUI {
    /// The form `request` posts, or nil when its body cannot be read as one (a browser never
    /// sends such a body: a name given twice, a list where one value belongs, bad escapes).
    static func decodeForm<F: Decodable>(_ type: F.Type, _ request: Request, _ context: ServeRequestContext) async throws -> F? {
        do {
            return try await context.requestDecoder.decode(type, from: request, context: context)
        } catch is URLEncodedFormError, is DecodingError {
            return nil
        }
    }

    static func unreadableForm() -> Response {
        plainText("The form cannot be read: reload the page and try again.\n", status: .badRequest)
    }

    /// The settings form: of `webhook` (nil: a new one), or as it was `typed` when it was
    /// refused, so nothing typed is lost.
    static func settingsForm(_ webhook: Webhook?, action: String, submit: String, csrf: String, typed: WebhookForm? = nil) -> String {
        let events = typed?.events ?? webhook?.events ?? []
        let severities = Severity.allCases.reversed().map(\.description)
        let mode = typed?.severityMode ?? (webhook?.minSeverity != nil ? "min" : !(webhook?.severities.isEmpty ?? true) ? "list" : "any")
        let minimum = typed?.minSeverity ?? webhook?.minSeverity?.description ?? "high"
        let chosen = Set(typed?.severities ?? webhook?.severities.map(\.description) ?? [])
        let template = typed?.template ?? webhook?.template ?? "raw"
        return UIPages.render("form", [
            "action": action, "submit": submit, "csrf": csrf, "url": typed?.url ?? webhook?.url ?? "",
            "types": knownTypes.map { ["name": $0, "checked": events.contains($0)] },
            "other_events": typed?.otherEvents ?? events.filter { !knownTypes.contains($0) }.joined(separator: ", "),
            "mode_any": mode == "any", "mode_min": mode == "min", "mode_list": mode == "list",
            "severity_options": severities.map { ["name": $0, "selected": $0 == minimum] },
            "severity_checks": severities.map { ["name": $0, "checked": chosen.contains($0)] },
            "description": typed?.description ?? webhook?.description ?? "",
            "headers": typed?.headers ?? (webhook?.headers ?? [:]).sorted { $0.key < $1.key }
                .map { "\($0.key): \(HeaderField.masked(name: $0.key, value: $0.value))" }.joined(separator: "\n"),
            "templates": PayloadTemplate.builtinNames.map { ["name": $0, "selected": $0 == template] },
            "template_vars": typed?.templateVars ?? (webhook?.templateVariables ?? [:]).sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value)" }.joined(separator: "\n"),
            "rate_limit": typed?.rateLimit ?? webhook?.rateLimit?.description ?? "",
            "fifo": (typed?.ordering ?? (webhook?.fifo == true ? "fifo" : "none")) == "fifo",
            "trace_context": typed.map { $0.traceContext != nil } ?? webhook?.traceContext ?? false,
            "dedupe_window": typed?.dedupeWindow ?? webhook?.dedupe.window ?? "",
            "dedupe_ignores_severity": typed.map { $0.dedupeIgnoresSeverity != nil } ?? webhook?.dedupe.ignoresSeverity ?? false,
            "fingerprint_fields": typed?.fingerprintFields ?? webhook?.dedupe.fingerprintFields?.joined(separator: ", ") ?? "",
            "fingerprint_id_field": typed?.fingerprintIDField ?? webhook?.dedupe.fingerprintIDField ?? "",
            "digest": typed?.digest ?? webhook?.digest?.windowDescription ?? "off",
            "digest_bypass_options": (["none"] + severities).map { name in
                ["name": name, "selected": name == (typed?.digestBypass ?? webhook?.digest?.bypass?.description ?? "none")]
            },
            "digest_top": typed?.digestTop ?? String(webhook?.digest?.top ?? DigestSettings.defaultTop),
            // What is stored, summed up; pasted PEM is never put back in the page.
            "client_cert_state": webhook?.clientCertificateSummary ?? "none",
            "ca_state": webhook?.caSummary ?? "the system's trust store",
        ])
    }
}
