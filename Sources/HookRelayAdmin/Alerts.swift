import Crypto
import Foundation
import HookRelayCore
import HookRelayDelivery
import HookRelayStore

/// Where `serve` tells people that a webhook turned unhealthy, was disabled or recovered, or
/// that its deliveries finally failed: the config's `alerts` (for every team's webhooks) and
/// each team's own (``Admin/setTeamAlerts(_:_:)``).
///
/// A destination is kept as a webhook whose id starts with `al_` (``Webhook/isAlertDestination``),
/// so an alert goes through the same durable queue as any event: stored, signed with the
/// destination's secret, rendered by its template, retried on the same schedule. No event
/// matches it (ingest leaves it out), the webhook lists leave it out, and its own health changes
/// raise no alert (an alert about the alert channel would go to that channel).
public struct AlertDestination: Sendable, Equatable, Codable {
    public var url: String
    /// `whsec_…`; nil: one is made (a chat service checks no signature).
    public var secret: String?
    /// `slack`, `teams`, `discord` or `raw` (the alert's JSON).
    public var template: String

    public init(url: String, secret: String? = nil, template: String = "raw") {
        self.url = url
        self.secret = secret
        self.template = template
    }

    enum CodingKeys: String, CodingKey { case url, secret, template }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        url = try container.decode(String.self, forKey: .url)
        secret = try container.decodeIfPresent(String.self, forKey: .secret)
        template = try container.decodeIfPresent(String.self, forKey: .template) ?? "raw"
    }

    public static let templates = ["slack", "teams", "discord", "raw"]

    /// The destinations of an API body's `alerts` (a team's, through `PUT /v1/alerts` or the
    /// team object), checked for their types; ``problem(allowHTTP:)`` checks the values.
    public static func list(_ value: Any?) throws -> [AlertDestination] {
        guard let list = value as? [Any] else {
            throw AdminError.invalid(#"give "alerts": a list of {"url", "secret" (optional), "template": slack, teams, discord or raw}"#)
        }
        return try list.map { item in
            guard let object = item as? [String: Any], let url = object["url"] as? String else {
                throw AdminError.invalid(#"each alert is an object with "url", and optionally "secret" and "template""#)
            }
            guard object["secret"] == nil || object["secret"] is String, object["template"] == nil || object["template"] is String else {
                throw AdminError.invalid(#"an alert's "secret" and "template" are strings"#)
            }
            return AlertDestination(url: url, secret: object["secret"] as? String, template: object["template"] as? String ?? "raw")
        }
    }

    /// A clear message for what is wrong with it, nil when it is right.
    public func problem(allowHTTP: Bool) -> String? {
        do {
            _ = try Endpoint(url, allowHTTP: allowHTTP)
        } catch {
            return "alert url: \(error)"
        }
        guard Self.templates.contains(template) else {
            return "alert template \"\(template)\" is not one of \(Self.templates.joined(separator: ", "))"
        }
        if let secret {
            do {
                _ = try WebhookSecret(secret)
            } catch {
                return "alert secret: \(error)"
            }
        }
        return nil
    }

    /// The webhook that stands for it: `al_g…` for the config's, `al_t…` for a team's, the rest
    /// a digest of the team, URL and template, so the same destination keeps its id.
    func webhook(team: String?, now: Int64) -> Webhook {
        let digest = SHA256.hash(data: Data("\(team ?? "")\n\(url)\n\(template)".utf8)).map { String(format: "%02x", $0) }.joined()
        var webhook = Webhook(
            id: (team == nil ? "al_g" : "al_t") + digest.prefix(20), url: url, description: "alerts",
            secrets: [secret ?? WebhookSecret.generate().text], team: team ?? Team.defaultID, now: now)
        webhook.template = template
        webhook.rateLimit = RateLimit.defaultFor(template: template)
        return webhook
    }
}

extension Webhook {
    /// Whether it stands for an alert destination (``AlertDestination``), not a subscription.
    public var isAlertDestination: Bool { id.hasPrefix("al_") }
    /// A destination of the config's `alerts`: for every team's webhooks.
    public var isGlobalAlertDestination: Bool { id.hasPrefix("al_g") }

    /// Whether it is a destination of alerts about `team`'s webhooks: the config's, or the team's own.
    public func receivesAlerts(of team: String) -> Bool {
        isGlobalAlertDestination || (isAlertDestination && self.team == team)
    }

    /// Its URL's host only: never the path or query, which may hold a token (a chat service's
    /// webhook URL is itself a secret).
    public var urlHost: String { URLComponents(string: url)?.host ?? "?" }
}

extension Admin {
    /// Makes the stored destinations of the config's `alerts` exactly `destinations` (`serve`
    /// and the admin commands at their start; the same on every instance).
    public func syncConfiguredAlerts(_ destinations: [AlertDestination]) async throws {
        try await replaceAlerts(destinations, team: nil)
    }

    /// Replaces `team`'s own alert destinations.
    public func setTeamAlerts(_ team: String, _ destinations: [AlertDestination]) async throws {
        try checkAlerts(destinations)
        try await replaceAlerts(destinations, team: team)
    }

    /// Refuses destinations that ``setTeamAlerts(_:_:)`` would refuse, changing nothing.
    public func checkAlerts(_ destinations: [AlertDestination]) throws {
        for destination in destinations {
            if let problem = destination.problem(allowHTTP: configuration.sender.allowHTTP) { throw AdminError.invalid(problem) }
        }
    }

    private func replaceAlerts(_ destinations: [AlertDestination], team: String?) async throws {
        let now = now()
        let wanted = destinations.map { $0.webhook(team: team, now: now) }
        try await store.withStore { store in
            // The config's set (team nil) or the team's own, never the other.
            let stored = try store.webhooks().filter { $0.isAlertDestination && $0.isGlobalAlertDestination == (team == nil) && (team == nil || $0.team == team) }
            for old in stored where !wanted.contains(where: { $0.id == old.id }) {
                _ = try store.beginDeletingWebhook(id: old.id)
                while try !store.discardPending(of: old.id).done {}
            }
            for (destination, var webhook) in zip(destinations, wanted) {
                if let old = stored.first(where: { $0.id == webhook.id }) {
                    // Kept, with its health and log, unless a secret is given that differs.
                    guard let secret = destination.secret, secret != old.secrets.first else { continue }
                    webhook.createdAt = old.createdAt
                }
                try store.save(webhook)
            }
        }
    }

    /// The destinations an alert about a webhook of `team` goes to: the config's and the team's.
    /// Each team's own destinations (not the config's), by team.
    public func teamAlertDestinations() async throws -> [String: [Webhook]] {
        try await reader.withStore { store in
            Dictionary(grouping: try store.webhooks().filter { $0.isAlertDestination && !$0.isGlobalAlertDestination }, by: \.team)
        }
    }

    public func alertDestinations(team: String) async throws -> [Webhook] {
        try await reader.withStore { store in
            try store.webhooks().filter { $0.receivesAlerts(of: team) }
        }
    }

    /// Sends an `alert.test` to each of `team`'s destinations now, and records it in the log.
    public func testAlerts(team: String) async throws -> [(destination: Webhook, report: AttemptReport)] {
        let destinations = try await alertDestinations(team: team)
        guard !destinations.isEmpty else {
            throw AdminError.invalid("no alert destinations for team \(team): set alerts in serve's config or the team's alerts")
        }
        var reports: [(Webhook, AttemptReport)] = []
        for destination in destinations {
            let alert = AlertEvent(
                type: "alert.test", severity: "info", title: "hookrelay alert test",
                description: "A test of this alert destination, sent by hookrelay.", fields: ["team": .text(team)])
            reports.append((destination, try await sendNow(alert, to: destination)))
        }
        return reports
    }

    private func sendNow(_ alert: AlertEvent, to destination: Webhook) async throws -> AttemptReport {
        let now = now()
        let lease = attempts.lease
        let (id, body) = alert.encoded(now: now)
        let job = try await store.withStore { try $0.appendClaimed(id, body: body, endpoint: destination.id, now: now, lease: lease) }
        let (outcome, _) = await attempts.run(job, webhook: destination, occasion: .test)
        return try await record(outcome)
    }
}

/// An operational event: `webhook.unhealthy`, `webhook.disabled`, `webhook.recovered`,
/// `delivery.failed`, `alert.test`. Its JSON has `title` and `description` for people (the chat
/// templates show them), `severity`, and `alert` with the facts.
public struct AlertEvent: Sendable {
    public var type: String
    public var severity: String
    public var title: String
    public var description: String
    public var fields: [String: Value]

    public enum Value: Sendable, Encodable, Equatable {
        case text(String)
        case number(Int64)
        case none

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .text(text): try container.encode(text)
            case let .number(number): try container.encode(number)
            case .none: try container.encodeNil()
            }
        }
    }

    public init(type: String, severity: String, title: String, description: String, fields: [String: Value]) {
        self.type = type
        self.severity = severity
        self.title = title
        self.description = description
        self.fields = fields
    }

    private struct Body: Encodable {
        var event_type, id, timestamp, severity, title, description: String
        var alert: [String: Value]
    }

    /// Its message id and JSON body.
    public func encoded(now: Int64) -> (id: String, body: [UInt8]) {
        let id = "alert_" + Admin.randomHex(12)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = Body(
            event_type: type, id: id, timestamp: AdminText.time(now), severity: severity, title: title, description: description, alert: fields)
        return (id, Array((try? encoder.encode(body)) ?? Data("{}".utf8)))
    }
}

/// An alert destination as the API shows it: the host of its URL only (a chat service's
/// webhook URL is itself a secret), never its secret.
public struct AlertView: Encodable, Sendable {
    public var id: String
    /// `config` (serve's `alerts`, for every team) or `team`.
    public var scope: String
    public var team: String
    public var urlHost: String
    public var template: String
    public var state: String

    enum CodingKeys: String, CodingKey { case id, scope, team, urlHost = "url_host", template, state }

    public init(_ webhook: Webhook) {
        id = webhook.id
        scope = webhook.isGlobalAlertDestination ? "config" : "team"
        team = webhook.isGlobalAlertDestination ? "*" : webhook.team
        urlHost = webhook.urlHost
        template = webhook.template
        state = webhook.state.rawValue
    }
}

/// One destination's answer to `POST /v1/alerts/test`.
public struct AlertTestView: Encodable, Sendable {
    public var destination: AlertView
    public var report: AttemptReport

    public init(destination: AlertView, report: AttemptReport) {
        self.destination = destination
        self.report = report
    }
}

extension AdminText {
    /// `webhooks test-alert`: one line per destination tested.
    public static func alertTests(_ results: [AlertTestView]) -> String {
        table([["DESTINATION", "SCOPE", "HOST", "TEMPLATE", "STATUS", "HTTP", "ERROR"]] + results.map { result in
            [
                result.destination.id, result.destination.scope, result.destination.urlHost, result.destination.template,
                result.report.status, result.report.httpStatus.map(String.init) ?? "-", result.report.error ?? "-",
            ]
        })
    }
}
