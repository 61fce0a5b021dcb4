import Foundation
import HookRelayCore
import HookRelayDelivery
import HookRelayStore
import HookRelayTemplates
import Synchronization
import Tracing

/// Counts attempts: the daemon's metrics. An admin command counts none.
public protocol AttemptCounting: Sendable {
    /// An attempt to `webhook` (its id) was sent (or tried to be), with this result.
    func attempted(_ result: SendResult, webhook: String)
    /// A delivery failed without an attempt (its webhook deleted: nil; disabled, or its URL invalid).
    func notAttempted(webhook: String?)
}

/// One attempt of a claimed delivery to its webhook: what the dispatcher and an operator's
/// retry or test share. What comes next is the ``OutcomePolicy``'s to say.
public final class WebhookAttempts: Sendable {
    let sender: any DeliverySending
    let policy: OutcomePolicy
    let allowHTTP: Bool
    /// How long an attempt may hold its delivery.
    public let lease: Int64
    let metrics: (any AttemptCounting)?
    /// `serve`'s, while it exports traces; nil: no span work at all.
    let tracer: (any Tracer)?
    let now: @Sendable () -> Int64
    /// The database, for a step before sending that reads or writes it (a webhook's rules that
    /// settle a delivery without sending it); nil where no such rule applies.
    let store: (any StoreAccess)?
    private let signers = Mutex<[String: (key: String, signer: Signer)]>([:])

    init(
        sender: any DeliverySending, configuration: ServeConfiguration, metrics: (any AttemptCounting)?, tracer: (any Tracer)?,
        store: (any StoreAccess)?, now: @escaping @Sendable () -> Int64
    ) {
        self.sender = sender
        self.store = store
        self.metrics = metrics
        self.tracer = tracer
        self.now = now
        policy = configuration.outcomePolicy
        allowHTTP = configuration.sender.allowHTTP
        lease = configuration.effectiveLease.milliseconds
    }

    /// Signs and sends `job` to `webhook` (nil: it was deleted); returns the outcome and whether
    /// the webhook answered 410 (the rest of its queue fails). Only the queue's own attempts are
    /// refused for a disabled webhook: an operator's retry or test goes out all the same. With a
    /// tracer, inside an attempt span (WebhookAttempts+Tracing.swift); without one, no span work.
    public func run(_ job: ClaimedDelivery, webhook: Webhook?, occasion: OutcomePolicy.Occasion = .queued) async -> (DeliveryOutcome, gone: Bool) {
        guard let tracer else { return await attempt(job, webhook: webhook, occasion: occasion, span: nil) }
        return await traced(job, webhook: webhook, occasion: occasion, tracer: tracer)
    }

    /// ``run(_:webhook:occasion:)``'s attempt; `span` (the attempt's, when traced) gets its
    /// outcome, and its `traceparent` goes out when the webhook asks for it.
    func attempt(_ job: ClaimedDelivery, webhook: Webhook?, occasion: OutcomePolicy.Occasion, span: (any Span)?) async -> (DeliveryOutcome, gone: Bool) {
        let attempt = Attempt(policy: policy, occasion: occasion, now: now)
        func notSent(_ event: OutcomePolicy.Event, _ error: String) -> (DeliveryOutcome, gone: Bool) {
            metrics?.notAttempted(webhook: webhook?.id)
            let outcome = attempt.notSent(job, event, error: error)
            span?.notSent(outcome)
            return (outcome, false)
        }
        guard let webhook else { return notSent(.refused, "the webhook was deleted") }
        guard occasion != .queued || webhook.state != .disabled else { return notSent(.refused, "the webhook is disabled") }
        let endpoint: Endpoint
        do {
            endpoint = try Endpoint(webhook.url, allowHTTP: allowHTTP)
        } catch {
            return notSent(.refused, error.description)
        }
        let dedupeKey: DedupeKey?
        let unchecked: String?
        switch await dedupe(job, webhook: webhook, occasion: occasion, attempt: attempt) {
        case let .send(key, note): (dedupeKey, unchecked) = (key, note)
        case let .settled(outcome):
            span?.notSent(outcome)
            return (outcome, false)
        }
        if occasion != .test, let settings = webhook.tickets, settings.mode == .update, let tracker = TicketTracker(template: webhook.template),
           let store {
            var (outcome, gone) = await ticketAttempt(TicketJob(
                job: job, webhook: webhook, tracker: tracker, settings: settings, endpoint: endpoint, attempt: attempt, store: store, span: span))
            await dedupeFinished(dedupeKey, unchecked: unchecked, job, webhook: webhook, after: &outcome)
            return (outcome, gone)
        }
        var job = job
        switch await digestStep(job, webhook: webhook, occasion: occasion) {
        case let .folded(ref):
            // In a digest is sent, for the de-duplication of what follows.
            await dedupeFinished(dedupeKey, job, webhook: webhook, deliveredAt: now())
            let outcome = attempt.settled(job, as: .digested, ref: ref, note: "in digest #\(ref), sent when its window ends")
            span?.notSent(outcome)
            return (outcome, false)
        case let .notSent(event, error):
            await dedupeFinished(dedupeKey, job, webhook: webhook, deliveredAt: nil)
            return notSent(event, error)
        case let .send(body):
            job.body = body
        case .asUsual where webhook.template != "raw":
            do {
                job.body = try template(for: webhook).render(job.body)
            } catch {
                await dedupeFinished(dedupeKey, job, webhook: webhook, deliveredAt: nil)
                return notSent(.unrenderable, "\(error)")
            }
        case .asUsual:
            break
        }
        var (outcome, gone, _) = await send(job, of: webhook, to: endpoint, attempt: attempt, span: span)
        await dedupeFinished(dedupeKey, unchecked: unchecked, job, webhook: webhook, after: &outcome)
        return (outcome, gone)
    }

    /// Sends `job` (its body as it goes out) to `endpoint` with `method`, the webhook's headers,
    /// signature, client certificate and, when it asks for it, the span's `traceparent`; counts
    /// the attempt and closes the span: what every request of an attempt does, a ticket's too.
    func send(
        _ job: ClaimedDelivery, of webhook: Webhook, to endpoint: Endpoint, attempt: Attempt, span: (any Span)?, method: RequestMethod = .post
    ) async -> (DeliveryOutcome, gone: Bool, SendResult) {
        var headers: [(String, String)] = webhook.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        if let span, webhook.traceContext, let traceparent = traceparent(of: span) {
            headers.removeAll { $0.0.lowercased() == "traceparent" }
            headers.append(("traceparent", traceparent))
        }
        span?.sending(to: endpoint, method: method)
        let (outcome, gone, result) = await attempt.run(
            job, to: endpoint, signer: signer(for: webhook), headers: headers, tls: webhook.tlsOptions, method: method, sender: sender)
        metrics?.attempted(result, webhook: webhook.id)
        span?.sent(result, outcome)
        return (outcome, gone, result)
    }

    private let templates = Mutex<[String: (updatedAt: Int64, template: PayloadTemplate)]>([:])
    /// Each webhook's open digest as this process last wrote it (WebhookAttempts+Digest.swift).
    let digests = DigestContentCache()

    /// The webhook's payload template, compiled once per change of the webhook.
    func template(for webhook: Webhook) throws -> PayloadTemplate {
        try rendered(webhook, webhook.template)
    }

    /// The template `name` with the webhook's variables (its payload template, or a ticket's
    /// comment or close), compiled once per change of the webhook.
    func rendered(_ webhook: Webhook, _ name: String) throws -> PayloadTemplate {
        let own = name == webhook.template
        return try cached(webhook, own ? "" : name) { try PayloadTemplate(name, variables: webhook.templateVariables, isTicketStep: !own) }
    }

    /// A template of `webhook` under `key`, made by `make` once per change of the webhook.
    func cached(_ webhook: Webhook, _ key: String, _ make: () throws -> PayloadTemplate) throws -> PayloadTemplate {
        let key = key.isEmpty ? webhook.id : webhook.id + " " + key
        if let cached = templates.withLock({ $0[key] }), cached.updatedAt == webhook.updatedAt { return cached.template }
        let template = try make()
        templates.withLock { $0[key] = (webhook.updatedAt, template) }
        return template
    }

    /// Signers by webhook, rebuilt when the webhook changes or a rotated-out secret expires
    /// (keyed HMAC states are worth keeping).
    func signer(for webhook: Webhook) -> Signer {
        let secrets = webhook.signingSecrets(now: now())
        let key = "\(webhook.updatedAt) \(secrets.count)"
        if let cached = signers.withLock({ $0[webhook.id] }), cached.key == key { return cached.signer }
        let signer = Signer(secrets: secrets.compactMap { try? WebhookSecret($0) })
        signers.withLock { $0[webhook.id] = (key, signer) }
        return signer
    }
}
