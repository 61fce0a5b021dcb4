import Foundation
import HookRelayCore
import HookRelayDelivery
import HookRelayStore

/// De-duplication at attempt time (issue 19): a queued delivery of a webhook with a window in
/// force is not sent when the webhook was sent its event's key (``DedupeKey``) within the window
/// by another delivery; it is settled `suppressed`, its `ref` that first delivery.
///
/// Concurrency: before sending, the key is reserved for this delivery in the ledger (one
/// transaction; on PostgreSQL the row is locked, so instances take turns), until its lease ends.
/// Another delivery of the key meeting the reservation waits: it is due again a second later
/// (at the reservation's end at the latest), its attempt not counted and health untouched, and
/// is then suppressed once the first was delivered, or sent when the first failed (its
/// reservation is dropped) or the reservation lapsed (a crash). A 2xx records the key for
/// this delivery, at the time of the attempt.
extension WebhookAttempts {
    /// What the ledger said before sending.
    enum DedupeStep {
        /// Send; with a key: record it after a 2xx, release it otherwise. `unchecked`: the ledger
        /// could not be read, and why (told in the attempt's error).
        case send(DedupeKey?, unchecked: String? = nil)
        /// Do not send: the delivery is settled (suppressed) or waits.
        case settled(DeliveryOutcome)
    }

    /// How long a delivery that meets another's reservation waits at most before it asks again.
    static let dedupeWait: Int64 = 1000

    /// Asks the ledger, for the queue's own attempts of a webhook whose window is on: an
    /// operator's retry or a test event always goes out, and so does an event without a
    /// fingerprint. A ledger that cannot be read sends (a duplicate is better than a loss).
    func dedupe(_ job: ClaimedDelivery, webhook: Webhook, occasion: OutcomePolicy.Occasion, attempt: Attempt) async -> DedupeStep {
        // A digest's own delivery is no finding: its fields could look like the last digest's.
        guard occasion == .queued, let window = webhook.dedupeWindow?.milliseconds, let store,
              !job.messageID.hasPrefix(digestMessagePrefix) else { return .send(nil) }
        guard let key = webhook.fingerprinter.dedupeKey(ofEvent: job.body, severity: !webhook.dedupe.ignoresSeverity) else {
            return .send(nil)
        }
        let now = now()
        let until = now + lease
        let endpoint = webhook.id
        let decision: DedupeDecision
        do {
            decision = try await store.withStore { store in
                // Relaxed like the dispatcher's completions and the digests' folds: a reservation
                // lost in a power cut lapses anyway, and a record lost with it may let one
                // duplicate through, as a lost completion sends a delivery again.
                try store.setDurableCommits(false)
                return try store.reserveDedupe(endpoint: endpoint, key: key.text, delivery: job.id, window: window, now: now, until: until)
            }
        } catch {
            return .send(nil, unchecked: "sent unchecked for duplicates: the de-duplication ledger could not be read (\(error))")
        }
        switch decision {
        case .send:
            return .send(key)
        case let .duplicate(first, sentAt):
            let note = "not sent: a duplicate of delivery \(first) (fingerprint \(key.fingerprint.text)), delivered \(AdminText.time(sentAt))"
            return .settled(attempt.settled(job, as: .suppressed, ref: first, note: note))
        case let .wait(other, reservedUntil):
            let until = min(reservedUntil, now + Self.dedupeWait)
            return .settled(attempt.notSent(
                job, .waiting(until: until), error: "waiting: delivery \(other) of the same fingerprint (\(key.fingerprint.text)) is being sent"))
        }
    }

    /// After a request was made: ``dedupeFinished(_:_:webhook:deliveredAt:)`` as its outcome
    /// says, and what the ledger could not do (`unchecked`, or a failed write) in its error.
    func dedupeFinished(_ key: DedupeKey?, unchecked: String?, _ job: ClaimedDelivery, webhook: Webhook, after outcome: inout DeliveryOutcome) async {
        outcome.note(unchecked)
        outcome.note(await dedupeFinished(key, job, webhook: webhook, deliveredAt: outcome.next == .delivered ? outcome.attempt.startedAt : nil))
    }

    /// After the attempt: a 2xx records the key for this delivery; anything else drops its
    /// reservation. Returns what a ledger that could not be written means, for the attempt's error.
    @discardableResult
    func dedupeFinished(_ key: DedupeKey?, _ job: ClaimedDelivery, webhook: Webhook, deliveredAt: Int64?) async -> String? {
        guard let key, let store, let window = webhook.dedupeWindow?.milliseconds else { return nil }
        let endpoint = webhook.id
        do {
            try await store.withStore { store in
                try store.setDurableCommits(false)
                if let deliveredAt {
                    try store.recordDedupe(endpoint: endpoint, key: key.text, delivery: job.id, window: window, now: deliveredAt)
                } else {
                    try store.releaseDedupe(endpoint: endpoint, key: key.text, delivery: job.id)
                }
            }
            return nil
        } catch {
            return deliveredAt == nil
                ? "the de-duplication ledger could not be written (\(error)): the event's next delivery waits for this one's lease"
                : "the de-duplication ledger could not be written (\(error)): the event sent again is not known as a duplicate"
        }
    }
}
