import Foundation
import HookRelayCore
import HookRelayDelivery
import HookRelayStore
import HookRelayTemplates
import Synchronization
import Tracing

/// Runs store work where the store may be used: the daemon's serial queue, or the admin
/// command's own thread.
public protocol StoreAccess: Sendable {
    func withStore<T: Sendable>(_ body: @escaping @Sendable (any ServeStore) throws -> T) async throws -> T
}

/// What an operator can do, once, for the API and the admin commands alike.
public struct AdminError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case notFound, invalid, conflict }
    public let kind: Kind
    public let description: String

    public static func notFound(_ what: String) -> AdminError { AdminError(kind: .notFound, description: "no \(what)") }
    public static func invalid(_ message: String) -> AdminError { AdminError(kind: .invalid, description: message) }
}

/// The outcome of an attempt made at an operator's request (a retry, a test event).
public struct AttemptReport: Sendable, Encodable {
    public var deliveryID: Int64
    public var messageID: String
    public var status: String
    public var httpStatus: Int?
    public var latencyMilliseconds: Int
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case deliveryID = "delivery_id", messageID = "webhook_id", status, httpStatus = "http_status"
        case latencyMilliseconds = "latency_ms", error
    }
}

/// Where an event would go: one entry per webhook.
public struct MatchReport: Sendable, Encodable {
    public var webhook: String
    public var url: String
    public var matched: Bool
    /// What a matching event would become: `would_send`, `held` (paused) or `skipped` (disabled).
    public var outcome: String?
    /// Which part of the filter excluded it.
    public var reason: String?
}

/// The operator's actions on webhooks and deliveries, written once against a ``StoreAccess``.
public final class Admin: Sendable {
    public let store: any StoreAccess
    /// Where reads run (``store`` unless another is given).
    public let reader: any StoreAccess
    public let configuration: ServeConfiguration
    let sender: any DeliverySending
    public let attempts: WebhookAttempts
    /// The wall clock, Unix milliseconds.
    public let now: @Sendable () -> Int64

    /// How long a rotated-out secret keeps signing beside the new one.
    public static let rotationOverlap: Int64 = 24 * 3600 * 1000
    /// The fields a create or update request may hold.
    public static let webhookFields: Set<String> = Set([
        "url", "events", "min_severity", "severities", "description", "headers", "secret", "template", "template_vars",
        "rate_limit", "ordering", "trace_context", "client_cert", "client_key", "ca",
        "dedupe_window", "dedupe_ignores_severity", "fingerprint_fields", "fingerprint_id_field",
    ]).union(digestFields).union(ticketFields)

    /// - Parameters:
    ///   - reader: where the reads (lists, a webhook, the delivery log) run; `serve` gives a
    ///     read-only connection of their own, so they never wait behind ingest's commits.
    ///   - metrics: the daemon's, which count every attempt; none for an admin command.
    ///   - tracer: `serve`'s while it exports traces: each attempt gets a span.
    ///   - now: the wall clock (Unix milliseconds); tests give a fake one.
    public init(
        store: any StoreAccess, reader: (any StoreAccess)? = nil, sender: any DeliverySending, configuration: ServeConfiguration,
        metrics: (any AttemptCounting)? = nil, tracer: (any Tracer)? = nil, now: @escaping @Sendable () -> Int64 = UnixTime.now
    ) {
        self.store = store
        self.reader = reader ?? store
        self.configuration = configuration
        self.sender = sender
        self.now = now
        attempts = WebhookAttempts(sender: sender, configuration: configuration, metrics: metrics, tracer: tracer, store: store, now: now)
    }

    /// `count` random bytes in hex: ids and session tokens.
    public static func randomHex(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    // MARK: Webhooks

    public func webhooks() async throws -> [Webhook] {
        // Alert destinations are settings of the config and the teams, not subscriptions (Alerts.swift).
        try await reader.withStore { try $0.webhooks() }.filter { !$0.isAlertDestination }
    }

    /// The id of the one webhook whose id is `given` or begins with it (`wh_` may be left out),
    /// as git takes a unique prefix of a commit: for the admin commands, where ids are typed.
    /// At least 4 characters after `wh_`; several matches are an error that lists them.
    public func webhookID(matching given: String) async throws -> String {
        let ids = try await webhooks().map(\.id)
        if ids.contains(given) { return given }
        let prefix = given.hasPrefix("wh_") ? given : "wh_" + given
        guard prefix.count >= 7 else { throw AdminError.notFound("webhook \(given) (give at least 4 characters after wh_)") }
        let matching = ids.filter { $0.hasPrefix(prefix) }.sorted()
        switch matching.count {
        case 0: throw AdminError.notFound("webhook \(given)")
        case 1: return matching[0]
        default:
            throw AdminError.invalid(
                "\(given) is the beginning of \(matching.count) webhook ids (\(matching.prefix(5).joined(separator: ", "))\(matching.count > 5 ? ", ..." : "")); give more characters")
        }
    }

    public func webhook(_ id: String) async throws -> Webhook {
        guard let webhook = try await reader.withStore({ try $0.webhook(id: id) }), !webhook.isAlertDestination else {
            throw AdminError.notFound("webhook \(id)")
        }
        return webhook
    }

    /// Creates a webhook from API-style fields; its secret is made when none is given.
    public func createWebhook(_ fields: [String: Any], team: String = Team.defaultID) async throws -> Webhook {
        guard fields["url"] is String else { throw AdminError.invalid("\"url\" is required") }
        var webhook = Webhook(id: "wh_" + Self.randomHex(12), url: "", secrets: [WebhookSecret.generate().text], team: team, now: now())
        try await apply(fields, to: &webhook)
        let created = webhook
        try await store.withStore { try $0.save(created) }
        return webhook
    }

    public func updateWebhook(_ id: String, _ fields: [String: Any]) async throws -> Webhook {
        var webhook = try await webhook(id)
        try await apply(fields, to: &webhook)
        webhook.updatedAt = now()
        let changed = webhook
        guard let stored = try await store.withStore({ try $0.updateSettings(changed) }) else { throw AdminError.notFound("webhook \(id)") }
        return stored
    }

    /// Deletes a webhook and its pending deliveries; returns how many were discarded.
    ///
    /// The webhook goes at once, and nothing of it is claimed from then on; its deliveries go in
    /// short transactions, each a store call of its own, so ingest on the same connection and
    /// the dispatcher's writes get in between (one transaction over 771k deliveries held them
    /// for 3.9 s). A crash mid-way leaves the rest to the dispatcher's next start.
    public func deleteWebhook(_ id: String) async throws -> Int {
        guard try await store.withStore({ try $0.beginDeletingWebhook(id: id) }) else { throw AdminError.notFound("webhook \(id)") }
        var discarded = 0
        while true {
            let batch = try await store.withStore { try $0.discardPending(of: id) }
            discarded += batch.discarded
            if batch.done { return discarded }
            try? await Task.sleep(for: Self.bulkPause)
        }
    }

    /// Between two transactions of a bulk change: time for a writer on another connection (it
    /// polls every 200 µs) to take the write lock.
    static let bulkPause = Duration.milliseconds(1)

    public func setPaused(_ id: String, _ paused: Bool) async throws -> Webhook {
        let now = self.now()
        guard let webhook = try await store.withStore({ try $0.setPaused(id: id, paused, now: now) }) else {
            throw AdminError.notFound("webhook \(id)")
        }
        return webhook
    }

    public func enable(_ id: String) async throws -> Webhook {
        let now = self.now()
        guard try await store.withStore({ try $0.enableWebhook(id: id, now: now) }) else { throw AdminError.notFound("webhook \(id)") }
        return try await webhook(id)
    }

    /// A new secret; the old one signs beside it for ``rotationOverlap``. The new one is
    /// `secrets[0]` of the answer.
    public func rotateSecret(_ id: String) async throws -> Webhook {
        let now = self.now()
        let secret = WebhookSecret.generate().text
        guard let webhook = try await store.withStore({ try $0.rotateSecret(id: id, to: secret, now: now, overlap: Self.rotationOverlap) })
        else { throw AdminError.notFound("webhook \(id)") }
        return webhook
    }

    /// Re-queues the webhook's failed deliveries; returns how many.
    public func retryFailed(_ id: String) async throws -> Int {
        _ = try await webhook(id)
        let now = self.now()
        return try await store.withStore { try $0.requeueFailed(webhook: id, now: now) }
    }

    /// Re-sends every event stored since `since` that matched the webhook; returns how many.
    public func recover(_ id: String, since: Int64) async throws -> Int {
        _ = try await webhook(id)
        let now = self.now()
        // In short transactions, each a store call of its own, as ``deleteWebhook(_:)`` does.
        var progress = RecoverProgress()
        while true {
            let current = progress
            progress = try await store.withStore { try $0.recoverBatch(webhook: id, since: since, now: now, progress: current) }
            if progress.isDone { return progress.requeued }
            try? await Task.sleep(for: Self.bulkPause)
        }
    }

    // MARK: Deliveries

    /// A page of the delivery log, newest first: of `webhook`, of `team`'s webhooks, or all.
    /// A team's page holds only its present webhooks' deliveries, whatever else the log has:
    /// those of deleted webhooks and of the alert destinations belong to no team's view. It is
    /// each of its webhooks' page (their index) merged, newest first: scanning the whole log for
    /// a team's rows took seconds at a few hundred thousand deliveries.
    public func deliveries(
        webhook: String?, team: String? = nil, status: DeliveryStatus?, since: Int64?, before: Int64?, limit: Int
    ) async throws -> [DeliveryRecord] {
        if let webhook { _ = try await self.webhook(webhook) }
        guard let team, webhook == nil else {
            return try await reader.withStore { try $0.deliveries(webhook: webhook, status: status, since: since, before: before, limit: limit) }
        }
        let ours = try await webhooks().filter { $0.team == team }.map(\.id)
        var page: [DeliveryRecord] = []
        for id in ours {
            page += try await reader.withStore { try $0.deliveries(webhook: id, status: status, since: since, before: before, limit: limit) }
        }
        return Array(page.sorted { $0.state.id > $1.state.id }.prefix(limit))
    }

    public func delivery(_ id: Int64) async throws -> DeliveryDetail {
        guard let detail = try await reader.withStore({ try $0.delivery(id: id) }) else { throw AdminError.notFound("delivery \(id)") }
        return detail
    }

    /// One attempt of a delivery now, with its `webhook-id`, whatever its state. While it runs
    /// no other attempt of that delivery starts (a second request is refused as a conflict).
    /// A failure keeps a pending delivery on its schedule and leaves any other one `failed`.
    public func retryDelivery(_ id: Int64) async throws -> AttemptReport {
        let now = self.now()
        let lease = attempts.lease
        let claim = try await store.withStore { try $0.claimDelivery(id: id, now: now, lease: lease) }
        switch claim {
        case .notFound:
            throw AdminError.notFound("delivery \(id)")
        case .busy:
            throw AdminError(kind: .conflict, description: "an attempt of delivery \(id) is in progress; try again when it ends")
        case let .claimed(job, was):
            let webhook = try await store.withStore { try $0.webhook(id: job.target) }
            let (outcome, _) = await attempts.run(job, webhook: webhook, occasion: .operatorRetry(wasPending: was == .pending))
            return try await record(outcome)
        }
    }

    /// Sends a sample finding, marked as a test, to the webhook now (paused, disabled or not),
    /// signed like any other event, and records it in the delivery log.
    public func sendTest(_ id: String) async throws -> AttemptReport {
        let webhook = try await webhook(id)
        let now = self.now()
        let messageID = "test_" + Self.randomHex(12)
        let body = Array(Self.testEvent(id: messageID, now: now).utf8)
        let lease = attempts.lease
        let job = try await store.withStore {
            try $0.appendClaimed(messageID, body: body, endpoint: id, now: now, lease: lease)
        }
        let (outcome, _) = await attempts.run(job, webhook: webhook, occasion: .test)
        return try await record(outcome)
    }

    static func testEvent(id: String, now: Int64) -> String {
        let time = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(now) / 1000))
        return """
            {"event_type":"finding","id":"\(id)","test":true,"timestamp":"\(time)","finding":{"title":"hookrelay test event",\
            "severity":"info","asset":"test.example.com","url":"https://test.example.com/","parameter":"",\
            "description":"A sample finding sent by hookrelay to test this webhook.","remediation":"None: this is a test."}}
            """
    }

    func record(_ outcome: DeliveryOutcome) async throws -> AttemptReport {
        let now = self.now()
        let states = try await store.withStore { try $0.complete([outcome], now: now) }
        return AttemptReport(
            deliveryID: outcome.delivery.id, messageID: outcome.delivery.messageID,
            status: states.first??.status.rawValue ?? "superseded", httpStatus: outcome.attempt.httpStatus,
            latencyMilliseconds: outcome.attempt.latencyMilliseconds, error: outcome.attempt.error)
    }

    // MARK: Match

    /// Which webhooks an event goes to, and for the others which part of their filter excluded it.
    /// How each webhook (of `team` when given) would treat `event`.
    public func match(_ event: [UInt8], team: String? = nil) async throws -> [MatchReport] {
        let webhooks = try await webhooks().filter { team == nil || $0.team == team }
        let layout = EventLayout()
        var reports: [MatchReport] = []
        var count = 0
        do {
            try event.withUnsafeBytes { bytes in
                let configuration = RecordReaderConfiguration(selector: layout.selector, maxRecordSize: max(1, bytes.count))
                try RecordReader.records(in: bytes, configuration: configuration) { record in
                    count += 1
                    guard count == 1 else { throw AdminError.invalid("send one event, not several") }
                    reports = webhooks.map { webhook in
                        let verdict = webhook.filter.evaluate(record, layout: layout)
                        let outcome = !verdict.matches ? nil : webhook.state == .disabled ? "skipped" : webhook.paused ? "held" : "would_send"
                        return MatchReport(
                            webhook: webhook.id, url: webhook.url, matched: verdict.matches, outcome: outcome,
                            reason: verdict.exclusion?.description)
                    }
                }
            }
        } catch let invalid as InvalidRecord {
            throw AdminError.invalid("the event at byte \(invalid.offset): \(invalid.error)")
        }
        guard count == 1 else { throw AdminError.invalid("no event given") }
        return reports
    }
}
