import Foundation
import HookRelayCore
import HookRelayStore
import PostgresNIO

/// The webhooks of `serve` (``WebhookRepository``): the same columns as SQLite's, lists and
/// maps as `jsonb`. Every change counts up `webhooks_version` in its transaction, so the other
/// instances (and processes) see it. A webhook's `team` is written by ``save(_:)`` only: a
/// change of its settings keeps its team.
extension PostgresStore {
    static let webhookColumns = """
        id, url, description, events::text, min_severity, severities::text, headers::text, secret, state,
        consecutive_failures, failing_since, created_at, updated_at, paused, previous_secret_until, template, template_vars::text,
        team, rate_limit, ordering, trace_context, client_cert, client_key, ca, dedupe, digest, tickets::text
        """

    static func webhook(_ row: PostgresRow) throws -> Webhook {
        let (id, url, description, events, minSeverity, severities, headers, secret, state) = try row.decode(
            (String, String, String, String, String?, String, String, String, String).self)
        let columns = row.makeRandomAccess()
        let failures = try columns[9].decode(Int64.self)
        let failingSince = try columns[10].decode(Int64?.self)
        let createdAt = try columns[11].decode(Int64.self)
        let updatedAt = try columns[12].decode(Int64.self)
        let paused = try columns[13].decode(Bool.self)
        let previousUntil = try columns[14].decode(Int64?.self)
        let template = try columns[15].decode(String.self)
        let variables = try columns[16].decode(String.self)
        let team = try columns[17].decode(String.self)
        let rateLimit = try columns[18].decode(String?.self)
        let ordering = try columns[19].decode(String.self)
        let traceContext = try columns[20].decode(Bool.self)
        let clientCertificate = try columns[21].decode(String?.self)
        let clientKey = try columns[22].decode(String?.self)
        let ca = try columns[23].decode(String?.self)
        let dedupe = try columns[24].decode(String?.self)
        let digest = try columns[25].decode(String?.self)
        let tickets = try columns[26].decode(String?.self)
        let decoder = JSONDecoder()
        func decode<T: Decodable>(_ text: String, _ fallback: T) -> T {
            (try? decoder.decode(T.self, from: Data(text.utf8))) ?? fallback
        }
        var webhook = Webhook(
            id: id, url: url, description: description, events: decode(events, []),
            minSeverity: minSeverity.flatMap(Severity.init), severities: decode(severities, []), headers: decode(headers, [:]),
            secrets: secret.split(separator: " ").map(String.init), team: team, now: createdAt)
        webhook.state = WebhookHealth(rawValue: state) ?? .healthy
        webhook.consecutiveFailures = Int(failures)
        webhook.failingSince = failingSince
        webhook.updatedAt = updatedAt
        webhook.paused = paused
        webhook.previousSecretUntil = previousUntil
        webhook.template = template
        webhook.templateVariables = decode(variables, [:])
        webhook.rateLimit = rateLimit.flatMap(RateLimit.init)
        webhook.fifo = ordering == "fifo"
        webhook.traceContext = traceContext
        webhook.clientCertificate = clientCertificate
        webhook.clientKey = clientKey
        webhook.ca = ca
        webhook.restore(dedupe: dedupe, digest: digest, tickets: tickets)
        return webhook
    }

    static func json<T: Encodable>(_ value: T) -> String { Webhook.storedJSON(value) }

    public func webhooks() throws -> [Webhook] {
        try run("reading webhooks") { session in
            try await session.rows("SELECT \(unescaped: Self.webhookColumns) FROM webhooks ORDER BY created_at, id").map(Self.webhook)
        }
    }

    public func webhook(id: String) throws -> Webhook? {
        try run("reading a webhook") { session in try await Self.webhook(id: id, in: session) }
    }

    static func webhook(id: String, in session: Session) async throws -> Webhook? {
        try await session.rows("SELECT \(unescaped: webhookColumns) FROM webhooks WHERE id = \(id)").first.map(webhook)
    }

    /// Inserts or replaces a webhook.
    public func save(_ webhook: Webhook) throws {
        try transaction("saving a webhook") { session in
            try await session.execute("""
                INSERT INTO webhooks (id, url, description, events, min_severity, severities, headers, secret, state,
                    consecutive_failures, failing_since, created_at, updated_at, paused, previous_secret_until, template, template_vars, team,
                    rate_limit, ordering, trace_context, client_cert, client_key, ca, dedupe, digest, tickets)
                VALUES (\(webhook.id), \(webhook.url), \(webhook.description), \(Self.json(webhook.events))::jsonb,
                    \(webhook.minSeverity?.description), \(Self.json(webhook.severities))::jsonb, \(Self.json(webhook.headers))::jsonb,
                    \(webhook.secrets.joined(separator: " ")), \(webhook.state.rawValue), \(Int64(webhook.consecutiveFailures)),
                    \(webhook.failingSince), \(webhook.createdAt), \(webhook.updatedAt), \(webhook.paused),
                    \(webhook.previousSecretUntil), \(webhook.template), \(Self.json(webhook.templateVariables))::jsonb, \(webhook.team),
                    \(webhook.rateLimit?.description), \(webhook.fifo ? "fifo" : "none"),
                    \(webhook.traceContext), \(webhook.clientCertificate), \(webhook.clientKey), \(webhook.ca), \(webhook.storedDedupe),
                    \(webhook.storedDigest), \(webhook.storedTickets)::jsonb)
                ON CONFLICT (id) DO UPDATE SET url = excluded.url, description = excluded.description, events = excluded.events,
                    min_severity = excluded.min_severity, severities = excluded.severities, headers = excluded.headers,
                    secret = excluded.secret, state = excluded.state, consecutive_failures = excluded.consecutive_failures,
                    failing_since = excluded.failing_since, created_at = excluded.created_at, updated_at = excluded.updated_at,
                    paused = excluded.paused, previous_secret_until = excluded.previous_secret_until,
                    template = excluded.template, template_vars = excluded.template_vars, team = excluded.team,
                    rate_limit = excluded.rate_limit, ordering = excluded.ordering,
                    trace_context = excluded.trace_context, client_cert = excluded.client_cert,
                    client_key = excluded.client_key, ca = excluded.ca, dedupe = excluded.dedupe, digest = excluded.digest,
                    tickets = excluded.tickets
                """)
            try await Self.webhooksChanged(in: session)
        }
    }

    /// Counts up `webhooks_version` and announces the change (``Session/notify(_:)``): the other
    /// instances reload their webhooks, and wake their dispatchers (a resumed or enabled webhook's
    /// deliveries may be due).
    static func webhooksChanged(in session: Session) async throws {
        try await session.execute("UPDATE meta SET value = value + 1 WHERE key = 'webhooks_version'")
        try await session.notify(.webhooks)
    }

    public func updateSettings(_ webhook: Webhook) throws -> Webhook? {
        try transaction("changing a webhook") { session in
            let changed = try await session.count("""
                WITH changed AS (
                    UPDATE webhooks SET url = \(webhook.url), description = \(webhook.description),
                        events = \(Self.json(webhook.events))::jsonb, min_severity = \(webhook.minSeverity?.description),
                        severities = \(Self.json(webhook.severities))::jsonb, headers = \(Self.json(webhook.headers))::jsonb,
                        secret = \(webhook.secrets.joined(separator: " ")), updated_at = \(webhook.updatedAt),
                        template = \(webhook.template), template_vars = \(Self.json(webhook.templateVariables))::jsonb,
                        previous_secret_until = \(webhook.previousSecretUntil),
                        rate_limit = \(webhook.rateLimit?.description), ordering = \(webhook.fifo ? "fifo" : "none"),
                        trace_context = \(webhook.traceContext), client_cert = \(webhook.clientCertificate),
                        client_key = \(webhook.clientKey), ca = \(webhook.ca), dedupe = \(webhook.storedDedupe),
                        digest = \(webhook.storedDigest), tickets = \(webhook.storedTickets)::jsonb
                    WHERE id = \(webhook.id) RETURNING 1)
                SELECT count(*) FROM changed
                """)
            guard changed == 1 else { return nil }
            try await Self.webhooksChanged(in: session)
            return try await Self.webhook(id: webhook.id, in: session)
        }
    }

    public func setPaused(id: String, _ paused: Bool, now: Int64) throws -> Webhook? {
        try transaction("pausing or resuming a webhook") { session in
            let changed = try await session.count("""
                WITH changed AS (UPDATE webhooks SET paused = \(paused), updated_at = \(now) WHERE id = \(id) RETURNING 1)
                SELECT count(*) FROM changed
                """)
            guard changed == 1 else { return nil }
            try await Self.webhooksChanged(in: session)
            return try await Self.webhook(id: id, in: session)
        }
    }

    public func rotateSecret(id: String, to secret: String, now: Int64, overlap: Int64) throws -> Webhook? {
        try transaction("rotating a webhook's secret") { session in
            guard let current = try await session.rows("SELECT secret FROM webhooks WHERE id = \(id) FOR UPDATE").first else { return nil }
            let previous = try current.decode(String.self).split(separator: " ").prefix(1).map(String.init)
            let secrets = ([secret] + previous).joined(separator: " ")
            try await session.execute("""
                UPDATE webhooks SET secret = \(secrets), previous_secret_until = \(now + overlap), updated_at = \(now) WHERE id = \(id)
                """)
            try await Self.webhooksChanged(in: session)
            return try await Self.webhook(id: id, in: session)
        }
    }

    public func enableWebhook(id: String, now: Int64) throws -> Bool {
        try transaction("enabling a webhook") { session in
            let changed = try await session.count("""
                WITH changed AS (
                    UPDATE webhooks SET state = 'healthy', consecutive_failures = 0, failing_since = NULL, updated_at = \(now)
                    WHERE id = \(id) RETURNING 1)
                SELECT count(*) FROM changed
                """)
            guard changed == 1 else { return false }
            try await Self.webhooksChanged(in: session)
            return true
        }
    }

    public func webhooksVersion() throws -> WebhooksVersion {
        try run("reading the webhooks' version") { session in
            var version = WebhooksVersion(settings: 0, health: 0)
            for row in try await session.rows("SELECT key, value FROM meta WHERE key IN ('webhooks_version', 'health_version')") {
                let (key, value) = try row.decode((String, Int64).self)
                if key == "health_version" { version.health = value } else { version.settings = value }
            }
            return version
        }
    }
}
