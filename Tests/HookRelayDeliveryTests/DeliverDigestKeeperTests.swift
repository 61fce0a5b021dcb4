import Foundation
@testable import HookRelayDelivery
import HookRelayCore
import HookRelayStore
import HookRelayTemplates
import Testing

/// `deliver --digest --spool` keeps its open digest in a real spool as it grows (issue 19):
/// due a moment after its window, rewritten at each commit, left to a later run when the run
/// ends abruptly, and split when a sender took it before the reader's last records were kept.
/// Driven with a made-up clock: no sleep.
@Suite struct DeliverDigestKeeperTests {
    final class Clock { var now: Int64 = 1_000_000 }

    struct Run {
        let spool: SQLiteSpool
        let clock = Clock()
        let digest: DeliverDigest
        let reports: Reports

        final class Reports { var states: [DeliveryState] = [] }

        init(path: String) throws {
            let spool = try SQLiteSpool(path: path, durableWrites: false)
            let clock = self.clock
            let reports = Reports()
            self.spool = spool
            self.reports = reports
            digest = DeliverDigest(
                settings: DigestSettings(window: 60_000), urls: ["https://a.example/x", "https://b.example/y"], template: nil,
                layout: EventLayout(),
                keeper: { id, body, due in
                    try spool.keepOpenDigest(messageID: id, body: body, targets: ["https://a.example/x", "https://b.example/y"], due: due, now: clock.now)
                },
                report: { reports.states.append($0) }, now: { clock.now })
        }

        func fold(_ n: Int) throws {
            let event = #"{"event_type":"finding","finding":{"title":"t\#(n)","severity":"high"}}"#
            #expect(try digest.fold(Array(event.utf8), id: "e\(n)") == nil, "a kept digest is never handed to the batch")
        }
    }

    static func total(_ body: [UInt8]) throws -> Int { try DigestContent(json: body).total }

    @Test func theOpenDigestIsKeptDueAfterItsWindowAndALaterRunSendsIt() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("keeper-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let run = try Run(path: scratch)
        for n in 0..<3 { try run.fold(n) }
        #expect(run.digest.unkept == 3)
        try run.digest.keep()
        #expect(run.digest.unkept == 0)
        try run.fold(3)
        try run.digest.keep()
        // The run ends here, abruptly. Its digest is due a moment after the window, not before.
        let later = try SQLiteSpool(path: scratch, durableWrites: false)
        let end = run.clock.now + 60_000
        #expect(try later.claim(limit: 10, now: end, lease: 1_000).isEmpty)
        let claimed = try later.claim(limit: 10, now: end + DeliverDigest.grace, lease: 1_000)
        #expect(claimed.count == 2, "one delivery per URL")
        #expect(claimed.allSatisfy { $0.messageID.hasPrefix(digestMessagePrefix) })
        #expect(try claimed.map { try Self.total($0.body) } == [4, 4])
        #expect(run.reports.states.isEmpty, "members are reported when the digest closes")
    }

    @Test func aDigestTakenBeforeTheLastRecordsWereKeptLeavesThemToANewOne() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("keeper-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let run = try Run(path: scratch)
        for n in 0..<3 { try run.fold(n) }
        try run.digest.keep()
        // A sender takes it (here: a claim as of its due time) while the reader folds two more.
        let sender = try SQLiteSpool(path: scratch, durableWrites: false)
        let taken = try sender.claim(limit: 10, now: run.clock.now + 60_000 + DeliverDigest.grace, lease: 1_000)
        #expect(try taken.map { try Self.total($0.body) } == [3, 3])
        run.clock.now += 30_000
        try run.fold(3)
        try run.fold(4)
        try run.digest.keep()
        #expect(Set(run.reports.states.map(\.messageID)) == ["e0", "e1", "e2"])
        #expect(run.reports.states.allSatisfy { $0.status == .digested && $0.ref == 1 })

        // The end of the input: the new digest is due now, with the two it gathered.
        #expect(try run.digest.close(force: true) == nil)
        let second = try sender.claim(limit: 10, now: run.clock.now, lease: 1_000)
        #expect(second.count == 2)
        #expect(Set(second.map(\.messageID)).count == 1 && second[0].messageID != taken[0].messageID)
        #expect(try second.map { try Self.total($0.body) } == [2, 2])
        #expect(run.reports.states.filter { $0.ref == 2 }.map(\.messageID).sorted() == ["e3", "e3", "e4", "e4"])
    }
}
