import Foundation
import HookRelayCore
import HookRelayStore
import HookRelayTemplates

/// `deliver --digest` (issue 19), on the reader thread: records below the bypass severity are
/// folded into the run's open digest instead of being sent alone; when a record arrives after
/// the digest's window ended, at a pause of the input noticed after it ended, and at the end of
/// the input, the digest becomes one message (to every `--url`, rendered by the template's digest
/// form) that is sent like any other. Each folded record is reported `digested` with `ref` = the
/// digest's number in the run, its error naming the digest's `webhook-id`.
///
/// Without a spool the open digest lives in the run's memory. With `--spool` it is also kept
/// there as it grows (``Keeper``): at each commit of the reader its message is stored or
/// rewritten, due ``grace`` after the window's end, so a run that ends abruptly leaves it to
/// the next run or `--drain`, and a quiet input still gets it sent about then. A digest that a
/// sender took before the reader's last records were stored leaves those records to a new one.
final class DeliverDigest {
    /// Stores or rewrites the open digest's message (id, body, due time); false when a sender
    /// already took it (SQLiteSpool.keepOpenDigest).
    typealias Keeper = (_ messageID: String, _ body: [UInt8], _ due: Int64) throws -> Bool

    /// How long after its window's end a kept digest falls due if the reader has not closed it.
    static let grace: Int64 = 1000

    let settings: DigestSettings
    let urls: [String]
    let template: PayloadTemplate?
    let layout: EventLayout
    let keeper: Keeper?
    let report: (DeliveryState) -> Void
    let now: () -> Int64

    private struct Open {
        var messageID = newDigestMessageID()
        var content: DigestContent
        var end: Int64
        var members: [String] = []
        /// The records folded since the message was last kept: the last of `members`.
        var unkept: [(id: String, body: [UInt8])] = []
    }
    private var open: Open?
    private var number = 0

    init(
        settings: DigestSettings, urls: [String], template: PayloadTemplate?, layout: EventLayout, keeper: Keeper? = nil,
        report: @escaping (DeliveryState) -> Void, now: @escaping () -> Int64 = UnixTime.now
    ) {
        self.settings = settings
        self.urls = urls
        self.template = template
        self.layout = layout
        self.keeper = keeper
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
        if open == nil { open = opened(at: time) }
        open?.content.fold(event: bytes, at: time, top: settings.top, layout: layout)
        open?.members.append(id)
        if keeper != nil { open?.unkept.append((id, bytes)) }
        return closed
    }

    /// Records folded and not kept yet: the reader commits when they are a batch.
    var unkept: Int { open?.unkept.count ?? 0 }

    /// With a keeper: stores what was folded since the last call (the reader's commit).
    func keep() throws { try store(due: nil) }

    /// Stores the open digest, due at `due` (closing it), else `grace` after its window when
    /// something was folded since it was last kept. A sender took the message as it was last
    /// kept: its members are settled, and the records folded since start a digest of their own.
    private func store(due: Int64?) throws {
        guard let keeper, let current = open, due != nil || !current.unkept.isEmpty else { return }
        if try keeper(current.messageID, try body(of: current), due ?? current.end + Self.grace) {
            open?.unkept.removeAll()
            return
        }
        settle(current.members.dropLast(current.unkept.count), in: current.messageID)
        guard !current.unkept.isEmpty else {
            open = nil
            return
        }
        let time = now()
        var next = opened(at: time)
        for record in current.unkept {
            next.content.fold(event: record.body, at: time, top: settings.top, layout: layout)
            next.members.append(record.id)
        }
        next.unkept = current.unkept
        open = next
        try store(due: due)
    }

    /// The open digest as a message when its window has ended (or `force`: the end of the
    /// input). With a keeper it is kept due now instead, and nil is returned.
    func close(force: Bool) throws -> NewMessage? {
        guard let current = open, force || now() >= current.end else { return nil }
        if keeper != nil {
            try store(due: now())
            if let kept = open {
                open = nil
                settle(kept.members[...], in: kept.messageID)
            }
            return nil
        }
        open = nil
        let message = NewMessage(messageID: current.messageID, body: try body(of: current), targets: urls)
        settle(current.members[...], in: current.messageID)
        return message
    }

    /// A new digest whose window starts at `time`.
    private func opened(at time: Int64) -> Open {
        Open(content: DigestContent(webhook: "deliver", windowStart: time, windowEnd: time + settings.window), end: time + settings.window)
    }

    private func body(of digest: Open) throws -> [UInt8] {
        do {
            return try template.map { try $0.renderDigest(digest.content.json) } ?? digest.content.json
        } catch {
            throw RecordRejected("digest \(digest.messageID) of \(digest.members.count) events: \(error)")
        }
    }

    /// Reports each of `members` digested into the digest `messageID`, the run's next.
    private func settle(_ members: ArraySlice<String>, in messageID: String) {
        number += 1
        for member in members {
            for url in urls {
                report(DeliveryState(
                    id: 0, messageID: member, target: url, status: .digested, attempts: 0,
                    lastError: "in digest \(messageID) (#\(number) of this run)", nextAttemptAt: 0, ref: Int64(number)))
            }
        }
    }
}
