import ArgumentParser
import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayTemplates

/// The settings `webhooks add` and `webhooks update` take, as the API's fields: the library
/// checks them (an invalid value exits 65 with the library's message).
struct WebhookSettings: ParsableArguments {
    @Option(
        name: .customLong("event"),
        help: ArgumentHelp("Send events of this type only (repeatable, or comma-separated; default every type).", valueName: "type"))
    var events: [String] = []

    @Option(help: ArgumentHelp(
        "Send findings at or above this severity (critical > high > medium > low > info); events without a severity pass.",
        valueName: "severity"))
    var minSeverity: String?

    @Option(
        name: .customLong("severity"),
        help: ArgumentHelp("Send findings of exactly this severity (repeatable, or comma-separated).", valueName: "severity"))
    var severities: [String] = []

    @Option(name: .customLong("description"), help: ArgumentHelp("Free text about the webhook.", valueName: "text"))
    var text: String?

    @Option(
        name: .customLong("header"),
        help: ArgumentHelp("An extra request header, 'Name: value' (repeatable), stored and sent as given.", valueName: "header"))
    var headers: [String] = []

    @Option(help: ArgumentHelp(
        "The signing secret, whsec_<base64> of 24 to 64 bytes (default: 32 random bytes); visible in ps, prefer --secret-file.",
        valueName: "secret"))
    var secret: String?

    @Option(help: ArgumentHelp("A file holding the signing secret.", valueName: "file"))
    var secretFile: String?

    @Option(help: ArgumentHelp(
        "Payload template: raw (the event's bytes, the default), slack, teams, discord, jira or github-issue.", valueName: "name"))
    var template: String?

    @Option(
        name: .customLong("template-var"),
        help: ArgumentHelp(
            "A value for the template, NAME=VALUE (repeatable; on update they replace every value); jira needs project and issue_type.",
            valueName: "name=value"))
    var templateVariables: [String] = []

    @Option(help: ArgumentHelp(
        "At most so many deliveries per second, minute or hour: 1/s, 30/m, 1000/h, or off (default: none; slack 1/s, teams 4/s, discord 30/m).",
        valueName: "rate"))
    var rateLimit: String?

    @Option(help: ArgumentHelp("none (the default) or fifo: one at a time, in the order the events were stored.", valueName: "ordering"))
    var ordering: String?

    @Flag(
        inversion: .prefixedNo,
        help: ArgumentHelp("Send the attempt's W3C traceparent header (while serve exports traces; default off)."))
    var traceContext: Bool?

    func validate() throws {
        if secret != nil, secretFile != nil { throw ValidationError("use either --secret or --secret-file, not both") }
    }

    /// The API fields these flags give.
    func fields() throws -> [String: Any] {
        func list(_ values: [String]) -> [String] {
            values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        var fields: [String: Any] = [:]
        if !events.isEmpty { fields["events"] = list(events) }
        if let minSeverity { fields["min_severity"] = minSeverity }
        if !severities.isEmpty { fields["severities"] = list(severities) }
        if let text { fields["description"] = text }
        if !headers.isEmpty {
            do {
                fields["headers"] = Dictionary(try HeaderField.parseLines(headers).map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
            } catch {
                // A line that is no header, or a name given twice, is a usage error (64); a header
                // the API's checks refuse is an invalid setting (65), as the man page says.
                switch error {
                case .malformedLine, .duplicate: throw ValidationError("--header: \(error)")
                default: throw CommandFailure(status: .dataError, message: "--header: \(error)")
                }
            }
        }
        if let secret { fields["secret"] = secret }
        if let template { fields["template"] = template }
        if let rateLimit { fields["rate_limit"] = rateLimit }
        if let ordering { fields["ordering"] = ordering }
        if !templateVariables.isEmpty {
            do {
                fields["template_vars"] = try TemplateVariables.parse(templateVariables, source: "--template-var")
            } catch {
                throw ValidationError(error.description)
            }
        }
        if let traceContext { fields["trace_context"] = traceContext }
        if let secretFile {
            guard let data = FileManager.default.contents(atPath: secretFile) else {
                throw CommandFailure(status: .noInput, message: "\(secretFile): the secret file cannot be read")
            }
            fields["secret"] = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return fields
    }
}
