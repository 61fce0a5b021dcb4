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

    @Option(help: ArgumentHelp(
        "Gather events into one message per window, e.g. 5m or 1h (1s to 24h), or off (the default): slack, teams, discord, raw.",
        valueName: "duration"))
    var digest: String?

    @Option(help: ArgumentHelp(
        "Send findings at or above this severity at once, outside the digest (default none: every event is gathered).",
        valueName: "severity"))
    var digestBypass: String?

    @Option(help: ArgumentHelp("How many titles a digest lists, 1 to 20 (default 5).", valueName: "n"))
    var digestTop: Int?

    @Option(help: ArgumentHelp(
        "A PEM file with the client certificate (chain) for a receiver that requires mutual TLS; give --client-key with it.",
        valueName: "file"))
    var clientCert: String?

    @Option(help: ArgumentHelp("A PEM file with the client certificate's private key (unencrypted); stored, never shown again.", valueName: "file"))
    var clientKey: String?

    @Option(help: ArgumentHelp(
        "A PEM file of CA certificates the receiver's certificate must chain to (instead of the system's).", valueName: "file"))
    var caFile: String?

    @Flag(help: "Remove the client certificate and its key (update).")
    var noClientCert = false

    @Flag(help: "Remove the CA bundle: the system's trust store applies again (update).")
    var noCA = false

    @OptionGroup(title: "De-duplication") var dedupe: DedupeOptions

    @OptionGroup(title: "Tickets") var ticketOptions: TicketOptions

    func validate() throws {
        if secret != nil, secretFile != nil { throw ValidationError("use either --secret or --secret-file, not both") }
        if noClientCert, clientCert != nil || clientKey != nil {
            throw ValidationError("--no-client-cert removes the certificate and key; leave out --client-cert and --client-key")
        }
        if noCA, caFile != nil { throw ValidationError("--no-ca removes the CA bundle; leave out --ca-file") }
    }

    /// The TLS fields: each file's PEM text, or null to remove.
    func tlsFields() throws -> [String: Any] {
        var fields: [String: Any] = [:]
        if let clientCert { fields["client_cert"] = try pemFile(clientCert, option: "--client-cert") }
        if let clientKey { fields["client_key"] = try pemFile(clientKey, option: "--client-key") }
        if let caFile { fields["ca"] = try pemFile(caFile, option: "--ca-file") }
        if noClientCert { fields["client_cert"] = NSNull() }
        if noCA { fields["ca"] = NSNull() }
        return fields
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
        if let digest { fields["digest"] = digest }
        if let digestBypass { fields["digest_bypass"] = digestBypass }
        if let digestTop { fields["digest_top"] = digestTop }
        fields.merge(try tlsFields()) { _, new in new }
        fields.merge(dedupe.fields()) { _, new in new }
        fields.merge(try ticketOptions.fields()) { _, new in new }
        if let secretFile {
            guard let data = FileManager.default.contents(atPath: secretFile) else {
                throw CommandFailure(status: .noInput, message: "\(secretFile): the secret file cannot be read")
            }
            fields["secret"] = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return fields
    }
}
