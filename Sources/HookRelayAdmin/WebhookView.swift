import Foundation
import HookRelayCore
import HookRelayDelivery
import HookRelayStore

/// The JSON form of a webhook. The secret is shown whole only in the response that created it
/// (or rotated it); otherwise its first characters.
public struct WebhookView: Encodable {
    var id: String
    var team: String
    var url: String
    var description: String
    var events: [String]
    var minSeverity: String?
    var severities: [String]
    var headers: [String: String]
    var secret: String?
    var secretPrefix: String
    var previousSecretUntil: Int64?
    var state: String
    var paused: Bool
    var template: String
    var templateVariables: [String: String]
    var rateLimit: String?
    var ordering: String
    var traceContext: Bool
    /// `"5m"`, or `"off"`; the severity that bypasses it, or `"none"`; how many titles it lists.
    var digest: String
    var digestBypass: String
    var digestTop: Int
    /// What may be shown of the client certificate and CA bundle; the PEM never is.
    var clientCertificate: CertificateView?
    var ca: CertificateView?
    /// `dedupe_window` as set (absent: the template's default) and the window in force.
    var dedupeWindow: String?
    var dedupeWindowEffective: String
    var dedupeIgnoresSeverity: Bool
    var fingerprintFields: [String]?
    var fingerprintIDField: String?
    /// `create` or `update`, and with `update` its settings.
    var tickets: String
    var ticketClose: String?
    var ticketFixedStatuses: [String]?
    var ticketCommentTemplate: String?
    var ticketCloseTemplate: String?
    var consecutiveFailures: Int
    var createdAt: Int64
    var updatedAt: Int64

    enum CodingKeys: String, CodingKey {
        case id, team, url, description, events, severities, headers, secret, state, paused, template
        case templateVariables = "template_vars", traceContext = "trace_context"
        case minSeverity = "min_severity", secretPrefix = "secret_prefix", previousSecretUntil = "previous_secret_until"
        case consecutiveFailures = "consecutive_failures", createdAt = "created_at", updatedAt = "updated_at"
        case rateLimit = "rate_limit", ordering, ca
        case clientCertificate = "client_cert"
        case dedupeWindow = "dedupe_window", dedupeWindowEffective = "dedupe_window_effective"
        case dedupeIgnoresSeverity = "dedupe_ignores_severity", fingerprintFields = "fingerprint_fields"
        case fingerprintIDField = "fingerprint_id_field"
        case digest, digestBypass = "digest_bypass", digestTop = "digest_top"
        case tickets, ticketClose = "ticket_close", ticketFixedStatuses = "ticket_fixed_statuses"
        case ticketCommentTemplate = "ticket_comment_template", ticketCloseTemplate = "ticket_close_template"
    }

    /// `{"subject": "CN=…", "expires_at": <Unix ms>, "certificates": n}` for a stored PEM.
    struct CertificateView: Encodable {
        var subject: String
        var expiresAt: Int64?
        var certificates: Int

        enum CodingKeys: String, CodingKey {
            case subject, certificates
            case expiresAt = "expires_at"
        }

        init(_ pem: String) {
            let summary = TLSOptions.certificateSummary(pem)
            subject = summary.subject
            expiresAt = summary.expires.map { $0 * 1000 }
            certificates = summary.count
        }
    }

    public init(_ webhook: Webhook, revealSecret: Bool = false) {
        team = webhook.team
        id = webhook.id
        url = webhook.url
        description = webhook.description
        events = webhook.events
        minSeverity = webhook.minSeverity?.description
        severities = webhook.severities.map(\.description)
        headers = webhook.headers.reduce(into: [:]) { $0[$1.key] = HeaderField.masked(name: $1.key, value: $1.value) }
        secret = revealSecret ? webhook.secrets.first : nil
        secretPrefix = String((webhook.secrets.first ?? "").prefix(10))
        previousSecretUntil = webhook.signingSecrets(now: UnixTime.now()).count > 1 ? webhook.previousSecretUntil : nil
        state = webhook.state.rawValue
        paused = webhook.paused
        template = webhook.template
        templateVariables = webhook.templateVariables
        rateLimit = webhook.rateLimit?.description
        ordering = webhook.fifo ? "fifo" : "none"
        traceContext = webhook.traceContext
        digest = webhook.digest?.windowDescription ?? "off"
        digestBypass = webhook.digest?.bypass?.description ?? "none"
        digestTop = webhook.digest?.top ?? DigestSettings.defaultTop
        clientCertificate = webhook.clientCertificate.map(CertificateView.init)
        ca = webhook.ca.map(CertificateView.init)
        dedupeWindow = webhook.dedupe.window
        dedupeWindowEffective = webhook.dedupeWindow?.shortDescription ?? "off"
        dedupeIgnoresSeverity = webhook.dedupe.ignoresSeverity
        fingerprintFields = webhook.dedupe.fingerprintFields
        fingerprintIDField = webhook.dedupe.fingerprintIDField
        tickets = (webhook.tickets?.mode ?? .create).rawValue
        ticketClose = webhook.tickets?.close
        ticketFixedStatuses = webhook.tickets?.fixedStatuses
        ticketCommentTemplate = webhook.tickets?.commentTemplate
        ticketCloseTemplate = webhook.tickets?.closeTemplate
        consecutiveFailures = webhook.consecutiveFailures
        createdAt = webhook.createdAt
        updatedAt = webhook.updatedAt
    }
}
