import Foundation
import HookRelayCore
import HookRelayStore
import HookRelayTemplates

/// `deliver --digest` (issue 19), on the reader thread: records below the bypass severity are
/// folded into the run's open digest instead of being spooled; when a record arrives after the
/// digest's window ended, at a pause of the input noticed after it ended, and at the end of the
/// input (no timer: a digest waits for one of these), the digest becomes one message (to every `--url`, rendered by the template's digest form) that
/// is spooled and sent like any other. Each folded record is reported `digested` with
/// `ref` = the digest's number in the run, its error naming the digest's `webhook-id`.
///
/// The open digest is held by the run: with `--spool` a digest is durable once spooled (when
/// its window ends or the input does), not before.
final class DeliverDigest {
    let settings: DigestSettings
    let urls: [String]
    let template: PayloadTemplate?
    let layout: EventLayout
    let report: (DeliveryState) -> Void
    let now: () -> Int64
    private var open: (content: DigestContent, end: Int64, members: [String])?
    private var number = 0

    init(
        settings: DigestSettings, urls: [String], template: PayloadTemplate?, layout: EventLayout,
        report: @escaping (DeliveryState) -> Void, now: @escaping () -> Int64 = UnixTime.now
    ) {
        self.settings = settings
        self.urls = urls
        self.template = template
        self.layout = layout
        self.report = report
        self.now = now
    }

    /// Whether the record goes out on its own.
    func bypasses(_ bytes: [UInt8]) -> Bool {
        settings.bypasses(DigestContent.severity(of: bytes, layout: layout))
    }

    /// Folds the record `id`; returns the digest its arrival closed, if any.
    func fold(_ bytes: [UInt8], id: String) throws -> NewMessage? {
        let closed = try close(force: false)
        let time = now()
        if open == nil {
            open = (DigestContent(webhook: "deliver", windowStart: time, windowEnd: time + settings.window), time + settings.window, [])
        }
        open?.content.fold(event: bytes, at: time, top: settings.top, layout: layout)
        open?.members.append(id)
        return closed
    }

    /// The open digest as a message when its window has ended (or `force`: the end of the input).
    func close(force: Bool) throws -> NewMessage? {
        guard let current = open, force || now() >= current.end else { return nil }
        open = nil
        number += 1
        let messageID = newDigestMessageID()
        let body: [UInt8]
        do {
            body = try template.map { try $0.renderDigest(current.content.json) } ?? current.content.json
        } catch {
            throw RecordRejected("digest \(messageID) of \(current.members.count) events: \(error)")
        }
        for member in current.members {
            for url in urls {
                report(DeliveryState(
                    id: 0, messageID: member, target: url, status: .digested, attempts: 0,
                    lastError: "in digest \(messageID) (#\(number) of this run)", nextAttemptAt: 0, ref: Int64(number)))
            }
        }
        return NewMessage(messageID: messageID, body: body, targets: urls)
    }
}
