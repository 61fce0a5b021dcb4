import Foundation
import Synchronization
import HookRelayCore
import HookRelayDelivery
import HookRelayStore
import HookRelayTemplates

/// Digests in `serve`'s attempts (issue 19). Before sending, a queued delivery of a webhook with
/// a digest is folded into the webhook's open digest (``DigestStore``, one transaction) and
/// settled `digested` with the digest's delivery as its `ref`, unless its severity bypasses
/// the digest. A digest's own delivery (its message id starts `dg_` and the store knows it) is
/// rendered from the digest's stored content, read after its claim: a retry sends the same.
extension WebhookAttempts {
    enum DigestStep {
        /// Not a digest matter: render and send as usual.
        case asUsual
        /// A digest's own delivery: send this body (rendered).
        case send([UInt8])
        /// Folded into the digest whose delivery is `ref`.
        case folded(ref: Int64)
        /// Not sent: the outcome's event and the attempt's error.
        case notSent(OutcomePolicy.Event, String)
    }

    func digestStep(_ job: ClaimedDelivery, webhook: Webhook, occasion: OutcomePolicy.Occasion) async -> DigestStep {
        guard let store else { return .asUsual }
        if job.messageID.hasPrefix(digestMessagePrefix) {
            let id = job.id
            let content: [UInt8]?
            do {
                content = try await store.withStore { try $0.digestBody(delivery: id) }
            } catch {
                return .notSent(.held, "the digest could not be read: \(error); tried again")
            }
            if let content {
                do {
                    return .send(try template(for: webhook).renderDigest(content))
                } catch {
                    return .notSent(.unrenderable, "\(error)")
                }
            }
        }
        guard occasion == .queued, let settings = webhook.digest, PayloadTemplate.sendsDigests(webhook.template),
              !settings.bypasses(DigestContent.severity(of: job.body)) else { return .asUsual }
        let (delivery, body, storedAt, webhookID, time, digests) = (job.id, job.body, job.createdAt, webhook.id, now(), digests)
        do {
            let fold = try await store.withStore { store in
                // Relaxed like the dispatcher's completions (`serve`'s writer sets durable commits
                // back for its next use): a fold lost in a power cut is lost with the folded
                // delivery's completion, which comes later, so it is claimed and folded again.
                try store.setDurableCommits(false)
                return try store.fold(delivery: delivery, webhook: webhookID, window: settings.window, now: time) { current, start, end in
                    var digest = try current.map { try digests.content(webhook: webhookID, json: $0) }
                        ?? DigestContent(webhook: webhookID, windowStart: start, windowEnd: end)
                    digest.fold(event: body, at: storedAt, top: settings.top)
                    let json = digest.json
                    digests.wrote(webhook: webhookID, json: json, content: digest)
                    return json
                }
            }
            return .folded(ref: fold.digestDelivery)
        } catch {
            return .notSent(.held, "the event could not be added to the digest: \(error); tried again")
        }
    }
}

/// The digest content each webhook's last fold in this process wrote: the next fold, finding
/// those bytes stored, takes the content from here instead of decoding them (a fifth of a fold's
/// time). Bytes written by another instance, or a rolled-back fold's, differ and are decoded.
final class DigestContentCache: Sendable {
    private let last = Mutex<[String: (json: [UInt8], content: DigestContent)]>([:])

    func content(webhook: String, json: [UInt8]) throws -> DigestContent {
        if let kept = last.withLock({ $0[webhook] }), kept.json == json { return kept.content }
        return try DigestContent(json: json)
    }

    func wrote(webhook: String, json: [UInt8], content: DigestContent) {
        last.withLock { $0[webhook] = (json, content) }
    }
}
