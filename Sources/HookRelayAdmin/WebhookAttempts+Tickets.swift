import Foundation
import HookRelayCore
import HookRelayDelivery
import HookRelayStore
import HookRelayTemplates
import Tracing

/// A webhook with `tickets: update` (issue 19): the first delivery of a finding creates its
/// ticket, and the ticket's reference (Jira's key, GitHub's number, from the 2xx answer) is
/// kept for the finding's fingerprint; a later delivery comments on that ticket, and one that
/// reports the finding fixed adds a closing comment and, where the webhook says how, closes it.
/// Each step asks the ledger first (``TicketLedger/ticketStep(webhook:fingerprint:delivery:now:)``),
/// so that while one delivery creates a finding's ticket the others wait for it.
extension WebhookAttempts {
    /// Everything one ticket attempt needs.
    struct TicketJob {
        var job: ClaimedDelivery
        var webhook: Webhook
        var tracker: TicketTracker
        var settings: TicketSettings
        var endpoint: Endpoint
        var attempt: Attempt
        var store: any StoreAccess
        var span: (any Span)?
    }

    /// A delivery to a ticket tracker with `tickets: update`.
    func ticketAttempt(_ t: TicketJob) async -> (DeliveryOutcome, gone: Bool) {
        let (job, webhook) = (t.job, t.webhook)
        guard let fingerprint = webhook.fingerprinter.fingerprint(ofEvent: job.body)?.text else {
            // Nothing identifies the finding: a ticket as for any event, nothing kept.
            return await create(t, fingerprint: nil)
        }
        let fixed = Fingerprinter.reportsStatus(ofEvent: job.body, in: t.settings.fixedStatuses)
        let now = now()
        let step: TicketStep
        do {
            step = try await t.store.withStore { try $0.ticketStep(webhook: webhook.id, fingerprint: fingerprint, delivery: job.id, now: now) }
        } catch {
            return unsent(t, t.attempt.notSent(job, .waiting(until: now + 2000), error: "could not read the finding's ticket: \(error)"))
        }
        switch step {
        case let .wait(until, creator):
            return unsent(t, t.attempt.notSent(job, .waiting(until: until), error: "waiting for delivery \(creator), which creates this finding's ticket"))
        case .create where fixed:
            // The step reserved the creation for this delivery: released, as nothing is created.
            var outcome = t.attempt.settled(job, as: .suppressed, ref: nil, note: "not sent: the finding is reported fixed and has no ticket to close")
            await keep(t, &outcome, else: "its next occurrence waits for this delivery's lease") {
                try $0.forgetTicket(webhook: webhook.id, fingerprint: fingerprint)
            }
            return unsent(t, outcome, settled: true)
        case .create:
            return await create(t, fingerprint: fingerprint)
        case let .existing(ticket, closeCommented) where fixed:
            return await close(t, fingerprint: fingerprint, ticket: ticket, commented: closeCommented)
        case let .existing(ticket, _):
            var (outcome, gone) = await send(t, close: false, to: t.tracker.commentURL(webhook.url, ticket: ticket))
            if case .delivered = outcome.next {
                await keep(t, &outcome, else: "the delivery does not show the ticket") {
                    try $0.noteTicket(delivery: job.id, TicketNote(ticket: ticket, action: .commented))
                }
            }
            return await vanished(t, outcome, gone: gone, fingerprint: fingerprint, ticket: ticket, recreate: true)
        }
    }

    /// Creates the ticket with the webhook's own template and URL, and keeps its reference.
    private func create(_ t: TicketJob, fingerprint: String?) async -> (DeliveryOutcome, gone: Bool) {
        let body: [UInt8]
        do {
            body = try template(for: t.webhook).render(t.job.body)
        } catch {
            return unsent(t, t.attempt.notSent(t.job, .unrenderable, error: "\(error)"))
        }
        var (outcome, gone, result) = await sendBody(t, body, to: t.endpoint)
        guard case .delivered = outcome.next, let fingerprint else { return (outcome, gone) }
        let ticket = t.tracker.ticket(inResponse: result.responseBody)
        if ticket == nil {
            outcome.attempt.error = "created, but the answer named no ticket (\(t.tracker == .jira ? "key" : "number")): "
                + "the finding's next occurrence creates another"
        }
        let (webhook, delivery, now) = (t.webhook.id, t.job.id, now())
        await keep(t, &outcome, else: "the finding's next occurrence creates another ticket") {
            try $0.ticketCreated(webhook: webhook, fingerprint: fingerprint, delivery: delivery, ticket: ticket, now: now)
        }
        return (outcome, gone)
    }

    /// A finding reported fixed: the closing comment, and the close where the webhook says how.
    private func close(_ t: TicketJob, fingerprint: String, ticket: String, commented: Bool) async -> (DeliveryOutcome, gone: Bool) {
        let (webhook, delivery) = (t.webhook.id, t.job.id)
        guard let transition = t.settings.close else {
            var (outcome, gone) = await send(t, close: true, to: t.tracker.commentURL(t.webhook.url, ticket: ticket))
            if case .delivered = outcome.next {
                await keep(t, &outcome, else: "the delivery does not show the ticket") {
                    try $0.noteTicket(delivery: delivery, TicketNote(ticket: ticket, action: .commented))
                }
            }
            return await vanished(t, outcome, gone: gone, fingerprint: fingerprint, ticket: ticket, recreate: false)
        }
        let comment: [UInt8]
        do {
            comment = try ticketTemplate(t, close: true).render(t.job.body)
        } catch {
            return unsent(t, t.attempt.notSent(t.job, .unrenderable, error: "\(error)"))
        }
        var unnoted: String?
        if t.tracker == .github, !commented {
            // GitHub closes with a second request: the comment first, noted, so that a retry
            // after a failed close does not comment twice.
            var (outcome, gone, _) = await sendBody(t, comment, to: try? Endpoint(t.tracker.commentURL(t.webhook.url, ticket: ticket), allowHTTP: allowHTTP))
            guard case .delivered = outcome.next else {
                return await vanished(t, outcome, gone: gone, fingerprint: fingerprint, ticket: ticket, recreate: false)
            }
            let now = now()
            if await !keep(t, &outcome, else: "should the close fail, its retry comments again", {
                try $0.ticketCloseCommented(webhook: webhook, fingerprint: fingerprint, delivery: delivery, now: now)
            }) {
                unnoted = outcome.attempt.error
            }
        }
        var (outcome, gone, _) = await sendBody(
            t, t.tracker.closeBody(transition: transition, comment: comment),
            to: try? Endpoint(t.tracker.closeURL(t.webhook.url, ticket: ticket), allowHTTP: allowHTTP), method: t.tracker == .github ? .patch : .post)
        outcome.note(unnoted)
        if case .delivered = outcome.next {
            await keep(t, &outcome, else: "the finding's next occurrence comments on the closed ticket") {
                try $0.forgetTicket(webhook: webhook, fingerprint: fingerprint)
                try $0.noteTicket(delivery: delivery, TicketNote(ticket: ticket, action: .closed))
            }
        }
        return await vanished(t, outcome, gone: gone, fingerprint: fingerprint, ticket: ticket, recreate: false)
    }

    /// A ticket the tracker answers 404 for was deleted there: forgotten. A comment is then
    /// due again at once, and creates a ticket; a close has nothing left to close.
    private func vanished(
        _ t: TicketJob, _ outcome: DeliveryOutcome, gone: Bool, fingerprint: String, ticket: String, recreate: Bool
    ) async -> (DeliveryOutcome, gone: Bool) {
        guard outcome.attempt.httpStatus == 404 else { return (outcome, gone) }
        let webhook = t.webhook.id
        var outcome = outcome
        await keep(t, &outcome, else: "the finding's next occurrence comments on the missing ticket again") {
            try $0.forgetTicket(webhook: webhook, fingerprint: fingerprint)
        }
        outcome.interrupted = true
        outcome.counted = false
        if recreate {
            outcome.next = .retry(at: now())
            outcome.attempt.error = "ticket \(ticket) is not there any more (404): a new one is created"
        } else {
            outcome.next = .settled(.suppressed, ref: nil)
            outcome.attempt.error = "not sent: ticket \(ticket) is not there any more (404), nothing to close"
        }
        return (outcome, false)
    }

    /// The comment's template, or the close's: the webhook's own (inline Mustache), else the
    /// tracker's built-in one.
    private func ticketTemplate(_ t: TicketJob, close: Bool) throws -> PayloadTemplate {
        guard let source = close ? t.settings.closeTemplate : t.settings.commentTemplate else {
            return try rendered(t.webhook, close ? t.tracker.closeTemplate : t.tracker.commentTemplate)
        }
        let name = close ? "ticket_close_template" : "ticket_comment_template"
        return try cached(t.webhook, name) { try PayloadTemplate(source: source, name: name, variables: t.webhook.templateVariables) }
    }

    /// Renders the comment (or the close's comment) and sends it to `url`.
    private func send(_ t: TicketJob, close: Bool, to url: String) async -> (DeliveryOutcome, gone: Bool) {
        let body: [UInt8]
        do {
            body = try ticketTemplate(t, close: close).render(t.job.body)
        } catch {
            return unsent(t, t.attempt.notSent(t.job, .unrenderable, error: "\(error)"))
        }
        let (outcome, gone, _) = await sendBody(t, body, to: try? Endpoint(url, allowHTTP: allowHTTP))
        return (outcome, gone)
    }

    private func sendBody(
        _ t: TicketJob, _ body: [UInt8], to endpoint: Endpoint?, method: RequestMethod = .post
    ) async -> (DeliveryOutcome, gone: Bool, SendResult) {
        guard let endpoint else {
            let result = SendResult(verdict: .permanent, error: "the ticket's URL is not valid", latencyMilliseconds: 0, responseBody: [])
            return (unsent(t, t.attempt.notSent(t.job, .refused, error: "the ticket's URL is not valid")).0, false, result)
        }
        var job = t.job
        job.body = body
        return await send(job, of: t.webhook, to: endpoint, attempt: t.attempt, span: t.span, method: method)
    }

    /// An outcome of the step that sent nothing, counted and traced as the plain attempt's
    /// are (a settled delivery, as de-duplication's, is traced only).
    private func unsent(_ t: TicketJob, _ outcome: DeliveryOutcome, settled: Bool = false) -> (DeliveryOutcome, gone: Bool) {
        if !settled { metrics?.notAttempted(webhook: t.webhook.id) }
        t.span?.notSent(outcome)
        return (outcome, false)
    }

    /// A ledger write after the tracker was asked: it cannot be undone, so a write that fails
    /// (the database lost, say) is told in the attempt's error with `consequence`, what follows
    /// from it. Returns whether it was kept.
    @discardableResult
    private func keep(
        _ t: TicketJob, _ outcome: inout DeliveryOutcome, else consequence: String,
        _ write: @escaping @Sendable (any ServeStore) throws -> Void
    ) async -> Bool {
        do {
            try await t.store.withStore(write)
            return true
        } catch {
            outcome.note("the ticket ledger could not be updated (\(error)): \(consequence)")
            return false
        }
    }
}

extension DeliveryOutcome {
    /// Adds `text` to the attempt's error (what the delivery log shows), after what it said.
    mutating func note(_ text: String?) {
        guard let text else { return }
        attempt.error = attempt.error.map { $0 + "; " + text } ?? text
    }
}
