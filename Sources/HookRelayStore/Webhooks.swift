import Foundation
import HookRelayCore

/// A webhook subscription of `serve`: where to send, which events, and its health.
public struct Webhook: Sendable, Equatable, Codable {
    public typealias Health = WebhookHealth

    public var id: String
    /// The team that owns it (``Team``): only that team's events reach it, only that team's
    /// tokens see it.
    public var team: String
    public var url: String
    public var description: String
    /// Event types to send; empty sends every type.
    public var events: [String]
    public var minSeverity: Severity?
    public var severities: [Severity]
    public var headers: [String: String]
    /// Signing secrets, `whsec_…`: the current one first, then the one a rotation replaced.
    public var secrets: [String]
    /// Until when the replaced secret still signs (Unix ms), after a rotation.
    public var previousSecretUntil: Int64?
    public var state: Health
    /// A paused webhook keeps its deliveries and sends nothing until resumed.
    public var paused: Bool
    /// The payload template's name (`raw`: the event's own bytes) and its variables.
    public var template: String
    public var templateVariables: [String: String]
    /// Whether its requests carry the attempt span's W3C `traceparent` (only while `serve`
    /// exports traces).
    public var traceContext: Bool
    public var consecutiveFailures: Int
    public var failingSince: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64
    /// At most so many deliveries a second, minute or hour; nil: as fast as the workers go.
    public var rateLimit: RateLimit?
    /// One at a time, in the order the events were stored (`"ordering": "fifo"`).
    public var fifo: Bool
    /// The client certificate (PEM, the chain) for receivers that require mutual TLS, and its
    /// private key: key material, never shown again once stored.
    public var clientCertificate: String?
    public var clientKey: String?
    /// The CA bundle (PEM) its receiver's certificate must chain to, instead of the system's.
    public var ca: String?
    /// De-duplication and fingerprint settings as set (Webhook+Dedupe.swift derives the rest).
    public var dedupe: DedupeSettings
    /// Gathers its events into one message per window (issue 19); nil: each event is sent alone.
    public var digest: DigestSettings?
    /// With a ticket template: whether a finding seen again updates its ticket (nil: each
    /// delivery creates one, as for any webhook).
    public var tickets: TicketSettings?

    /// Its rate limit and ordering, when it has either.
    public var rules: DeliveryRules? {
        rateLimit == nil && !fifo ? nil : DeliveryRules(rateLimit: rateLimit, fifo: fifo)
    }

    /// The secrets that sign at `now`: the current one, and the replaced one for its overlap.
    public func signingSecrets(now: Int64) -> [String] {
        guard let until = previousSecretUntil, until > now else { return Array(secrets.prefix(1)) }
        return Array(secrets.prefix(2))
    }

    public init(
        id: String, url: String, description: String = "", events: [String] = [], minSeverity: Severity? = nil,
        severities: [Severity] = [], headers: [String: String] = [:], secrets: [String], team: String = Team.defaultID, now: Int64
    ) {
        self.id = id
        self.team = team
        self.url = url
        self.description = description
        self.events = events
        self.minSeverity = minSeverity
        self.severities = severities
        self.headers = headers
        self.secrets = secrets
        previousSecretUntil = nil
        state = .healthy
        paused = false
        template = "raw"
        templateVariables = [:]
        traceContext = false
        consecutiveFailures = 0
        failingSince = nil
        createdAt = now
        updatedAt = now
        rateLimit = nil
        fifo = false
        clientCertificate = nil
        clientKey = nil
        ca = nil
        dedupe = DedupeSettings()
        digest = nil
    }

    /// The core filter of `hookrelay filter`, built from this webhook's settings.
    public var filter: Filter {
        let condition: Filter.SeverityCondition
        if let minSeverity {
            condition = .atLeast(minSeverity)
        } else if !severities.isEmpty {
            condition = .oneOf(Set(severities))
        } else {
            condition = .any
        }
        return Filter(eventTypes: events, severity: condition)
    }
}

extension Severity: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let severity = Severity(text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "unknown severity '\(text)'; use one of \(Severity.allNames)"))
        }
        self = severity
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension SQLiteSpool {
    private static let columns = """
        id, url, description, events, min_severity, severities, headers, secret, state,
        consecutive_failures, failing_since, created_at, updated_at, paused, previous_secret_until, template, template_vars, team,
        rate_limit, ordering, trace_context, client_cert, client_key, ca, dedupe, digest, tickets
        """

    private static func webhook(_ row: Statement) -> Webhook {
        let decoder = JSONDecoder()
        func decode<T: Decodable>(_ column: Int32, _ fallback: T) -> T {
            row.text(column).flatMap { try? decoder.decode(T.self, from: Data($0.utf8)) } ?? fallback
        }
        var webhook = Webhook(
            id: row.text(0) ?? "", url: row.text(1) ?? "", description: row.text(2) ?? "", events: decode(3, []),
            minSeverity: row.text(4).flatMap(Severity.init), severities: decode(5, []), headers: decode(6, [:]),
            secrets: (row.text(7) ?? "").split(separator: " ").map(String.init), team: row.text(17) ?? Team.defaultID, now: row.int(11))
        webhook.state = row.text(8).flatMap(Webhook.Health.init(rawValue:)) ?? .healthy
        webhook.consecutiveFailures = Int(row.int(9))
        webhook.failingSince = row.optionalInt(10)
        webhook.updatedAt = row.int(12)
        webhook.paused = row.int(13) != 0
        webhook.previousSecretUntil = row.optionalInt(14)
        webhook.template = row.text(15) ?? "raw"
        webhook.templateVariables = decode(16, [:])
        webhook.rateLimit = row.text(18).flatMap(RateLimit.init)
        webhook.fifo = row.text(19) == "fifo"
        webhook.traceContext = row.int(20) != 0
        webhook.clientCertificate = row.text(21)
        webhook.clientKey = row.text(22)
        webhook.ca = row.text(23)
        webhook.restore(dedupe: row.text(24), digest: row.text(25), tickets: row.text(26))
        return webhook
    }

    private static func json<T: Encodable>(_ value: T) -> String { Webhook.storedJSON(value) }

    public func webhooks() throws -> [Webhook] {
        let statement = try connection.statement("SELECT \(Self.columns) FROM webhooks ORDER BY created_at, id")
        var all: [Webhook] = []
        while try statement.step() { all.append(Self.webhook(statement)) }
        try statement.run()
        return all
    }

    /// Inserts or replaces a webhook.
    public func save(_ webhook: Webhook) throws {
        try connection.write {
            try connection.statement("""
                INSERT OR REPLACE INTO webhooks (\(Self.columns))
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)
                """)
                .bind(1, webhook.id).bind(2, webhook.url).bind(3, webhook.description).bind(4, Self.json(webhook.events))
                .bind(5, webhook.minSeverity?.description).bind(6, Self.json(webhook.severities)).bind(7, Self.json(webhook.headers))
                .bind(8, webhook.secrets.joined(separator: " ")).bind(9, webhook.state.rawValue).bind(10, webhook.consecutiveFailures)
                .bind(11, webhook.failingSince).bind(12, webhook.createdAt).bind(13, webhook.updatedAt)
                .bind(14, webhook.paused ? 1 : 0).bind(15, webhook.previousSecretUntil)
                .bind(16, webhook.template).bind(17, Self.json(webhook.templateVariables)).bind(18, webhook.team)
                .bind(19, webhook.rateLimit?.description).bind(20, webhook.fifo ? "fifo" : "none")
                .bind(21, webhook.traceContext ? 1 : 0)
                .bind(22, webhook.clientCertificate).bind(23, webhook.clientKey).bind(24, webhook.ca)
                .bind(25, webhook.storedDedupe).bind(26, webhook.storedDigest).bind(27, webhook.storedTickets).run()
            try webhooksChanged()
        }
    }

    /// Counts a change of the webhooks, in the changing transaction.
    func webhooksChanged() throws {
        try connection.statement("UPDATE meta SET value = value + 1 WHERE key = 'webhooks_version'").run()
    }

    /// Numbers that change whenever a webhook is created, changed, paused, resumed, enabled,
    /// rotated or deleted (`settings`), or changes health (`health`), by any process: a daemon
    /// polls them to pick up the admin commands' changes.
    public func webhooksVersion() throws -> WebhooksVersion {
        let statement = try connection.statement(
            "SELECT key, value FROM meta WHERE key IN ('webhooks_version', 'health_version')")
        var version = WebhooksVersion(settings: 0, health: 0)
        while try statement.step() {
            if statement.text(0) == "health_version" { version.health = statement.int(1) } else { version.settings = statement.int(1) }
        }
        try statement.run()
        return version
    }

    /// Counts a health transition, in the changing transaction.
    func healthChanged() throws {
        try connection.statement("UPDATE meta SET value = value + 1 WHERE key = 'health_version'").run()
    }

    /// Pauses or resumes a webhook; returns it as stored, or nil when there is none.
    public func setPaused(id: String, _ paused: Bool, now: Int64) throws -> Webhook? {
        try connection.write {
            try connection.statement("UPDATE webhooks SET paused = ?1, updated_at = ?2 WHERE id = ?3")
                .bind(1, paused ? 1 : 0).bind(2, now).bind(3, id).run()
            guard connection.changes == 1 else { return nil }
            try webhooksChanged()
            return try webhook(id: id)
        }
    }

    /// Makes `secret` the webhook's signing secret; the one it replaces keeps signing alongside
    /// it until `now + overlap`. Returns the webhook as stored, or nil when there is none.
    public func rotateSecret(id: String, to secret: String, now: Int64, overlap: Int64) throws -> Webhook? {
        try connection.write {
            guard let current = try webhook(id: id) else { return nil }
            let secrets = [secret] + current.secrets.prefix(1)
            try connection.statement(
                "UPDATE webhooks SET secret = ?1, previous_secret_until = ?2, updated_at = ?3 WHERE id = ?4"
            ).bind(1, secrets.joined(separator: " ")).bind(2, now + overlap).bind(3, now).bind(4, id).run()
            try webhooksChanged()
            return try webhook(id: id)
        }
    }

    /// One webhook as stored, health included.
    public func webhook(id: String) throws -> Webhook? {
        let statement = try connection.statement("SELECT \(Self.columns) FROM webhooks WHERE id = ?1")
        statement.bind(1, id)
        guard try statement.step() else {
            try statement.run()
            return nil
        }
        let webhook = Self.webhook(statement)
        try statement.run()
        return webhook
    }

    /// Changes a webhook's settings, leaving its health (which the dispatcher keeps) alone.
    /// Returns the webhook as stored, or nil when there is none.
    public func updateSettings(_ webhook: Webhook) throws -> Webhook? {
        try connection.write {
            try connection.statement("""
                UPDATE webhooks SET url = ?2, description = ?3, events = ?4, min_severity = ?5, severities = ?6,
                    headers = ?7, secret = ?8, updated_at = ?9, template = ?10, template_vars = ?11, previous_secret_until = ?12,
                    rate_limit = ?13, ordering = ?14, trace_context = ?15, client_cert = ?16, client_key = ?17, ca = ?18,
                    dedupe = ?19, digest = ?20, tickets = ?21
                WHERE id = ?1
                """)
                .bind(1, webhook.id).bind(2, webhook.url).bind(3, webhook.description).bind(4, Self.json(webhook.events))
                .bind(5, webhook.minSeverity?.description).bind(6, Self.json(webhook.severities)).bind(7, Self.json(webhook.headers))
                .bind(8, webhook.secrets.joined(separator: " ")).bind(9, webhook.updatedAt)
                .bind(10, webhook.template).bind(11, Self.json(webhook.templateVariables)).bind(12, webhook.previousSecretUntil)
                .bind(13, webhook.rateLimit?.description).bind(14, webhook.fifo ? "fifo" : "none")
                .bind(15, webhook.traceContext ? 1 : 0)
                .bind(16, webhook.clientCertificate).bind(17, webhook.clientKey).bind(18, webhook.ca)
                .bind(19, webhook.storedDedupe).bind(20, webhook.storedDigest).bind(21, webhook.storedTickets).run()
            guard connection.changes == 1 else { return nil }
            try webhooksChanged()
            return try self.webhook(id: webhook.id)
        }
    }

    /// Deletes a webhook and discards its pending deliveries: the webhook in one short
    /// transaction, then its deliveries in batches (see ``beginDeletingWebhook(id:)``), pausing
    /// between them for other writers. Returns how many deliveries were discarded, or nil when
    /// there is no such webhook.
    public func deleteWebhook(id: String) throws -> Int? {
        guard try beginDeletingWebhook(id: id) else { return nil }
        var discarded = 0
        while true {
            let batch = try discardPending(of: id)
            discarded += batch.discarded
            if batch.done { return discarded }
            Self.pauseBetweenBatches()
        }
    }

    /// Records an attempt's effect on its webhook's health; returns the change of state, if any.
    func recordHealth(webhook id: String, succeeded: Bool, gone: Bool, now: Int64, policy: HealthPolicy) throws
        -> (from: Webhook.Health, to: Webhook.Health)?
    {
        let read = try connection.statement("SELECT state, consecutive_failures, failing_since FROM webhooks WHERE id = ?1")
        read.bind(1, id)
        guard try read.step() else {
            try read.run()
            return nil
        }
        let state = read.text(0).flatMap(Webhook.Health.init(rawValue:)) ?? .healthy
        let failures = Int(read.int(1))
        let since = read.optionalInt(2)
        try read.run()
        let next = policy.next(state, failures: failures, failingSince: since, succeeded: succeeded, gone: gone, now: now)
        // A disabled webhook is only re-enabled by an operator, not by a late success.
        if state == .disabled, succeeded { return nil }
        // Health has columns of its own: `updated_at` (and what is cached on it) follows the
        // settings only. A transition counts as a webhook change, so other processes see it.
        try connection.statement("""
            UPDATE webhooks SET state = ?1, consecutive_failures = ?2, failing_since = ?3 WHERE id = ?4
            """).bind(1, next.state.rawValue).bind(2, next.failures).bind(3, next.failingSince).bind(4, id).run()
        guard next.state != state else { return nil }
        try healthChanged()
        return (state, next.state)
    }

    /// Makes a disabled webhook healthy again.
    public func enableWebhook(id: String, now: Int64) throws -> Bool {
        try connection.write {
            try connection.statement("""
                UPDATE webhooks SET state = 'healthy', consecutive_failures = 0, failing_since = NULL, updated_at = ?1 WHERE id = ?2
                """).bind(1, now).bind(2, id).run()
            guard connection.changes == 1 else { return false }
            try webhooksChanged()
            return true
        }
    }

    /// Writable now? (`/readyz`.)
    public func isWritable() -> Bool {
        (try? connection.write { try connection.execute("UPDATE webhooks SET id = id WHERE 0") }) != nil
    }
}
