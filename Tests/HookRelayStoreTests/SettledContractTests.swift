import Foundation
import HookRelayCore
import Testing
@testable import HookRelayStore

/// Deliveries settled without being sent (issue 19: a duplicate suppressed, a finding folded
/// into a digest), alike on every backend: final, not counted as an attempt, the related
/// delivery kept with them, listed and counted under their own status.
@Suite struct SettledContractTests {
    @Test(arguments: QueueKind.allCases)
    func aSettledDeliveryIsFinalWithItsRef(_ kind: QueueKind) throws {
        let store = try kind.make()
        _ = try store.append([message("a"), message("b")], now: 0)
        let claimed = try store.claim(limit: 10, now: 1, lease: 100)
        var suppressed = outcome(claimed[1], .settled(.suppressed, ref: claimed[0].id), status: nil)
        suppressed.counted = false
        let states = try store.complete([outcome(claimed[0], .delivered), suppressed], now: 2)
        #expect(states.map { $0?.status } == [.delivered, .suppressed])
        #expect(states.map { $0?.ref } == [nil, claimed[0].id])
        #expect(states[1]?.attempts == 0)
        // Final: never claimed again, not re-queued as failed, nothing left due.
        #expect(try store.claim(limit: 10, now: 10_000, lease: 100).isEmpty)
        #expect(try store.requeueFailed(now: 10_001) == 0)
        #expect(try store.nextDue() == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func theLogListsAndCountsSettledDeliveries(_ kind: StoreKind) throws {
        let (store, open) = try kind.make()
        _ = try store.ingest((1...3).map { IngestedEvent(id: "e\($0)", body: Array("{}".utf8), targets: [(webhook: "a", skipped: false)]) }, now: 0)
        let claimed = try store.claim(limit: 10, now: 1, lease: 100)
        _ = try store.complete([
            outcome(claimed[0], .delivered),
            outcome(claimed[1], .settled(.suppressed, ref: claimed[0].id), status: nil),
            outcome(claimed[2], .settled(.digested, ref: claimed[0].id), status: nil),
        ], now: 2)
        let reader = try open(.reader)
        let suppressed = try reader.deliveries(webhook: "a", status: .suppressed, since: nil, before: nil, limit: 10)
        #expect(suppressed.map(\.state.messageID) == ["e2"])
        #expect(suppressed.first?.state.ref == claimed[0].id)
        #expect(try reader.deliveries(webhook: nil, status: .digested, since: nil, before: nil, limit: 10).map(\.state.ref) == [claimed[0].id])
        let detail = try #require(try reader.delivery(id: claimed[1].id))
        #expect(detail.record.state.ref == claimed[0].id)
        #expect(try open(.reader).statistics(now: 3).deliveries == [.delivered: 1, .suppressed: 1, .digested: 1])
    }

    /// SQLite's migration 14 edits the stored definition of `deliveries`: the status check
    /// still refuses what is no status.
    @Test func theStatusCheckStillHolds() throws {
        let path = temporarySpool()
        _ = try SQLiteSpool(path: path)
        let connection = try SQLiteConnection(path: path)
        #expect(throws: SQLiteError.self) {
            try connection.execute("""
                INSERT INTO messages (webhook_id, body, created_at) VALUES ('x', x'7b7d', 0);
                INSERT INTO deliveries (message_id, endpoint, status, next_attempt_at, updated_at)
                VALUES (last_insert_rowid(), 'a', 'bogus', 0, 0);
                """)
        }
    }
}
