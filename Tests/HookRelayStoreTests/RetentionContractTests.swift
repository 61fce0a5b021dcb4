import Foundation
import HookRelayCore
import Testing
@testable import HookRelayStore

/// Pruning (``RetentionStore``), alike on every backend: what goes, what stays, batches and
/// their cursor, the audit log, and the counts the metrics and the page read.
@Suite struct RetentionContractTests {
    func event(_ id: String, _ webhooks: [String]) -> IngestedEvent {
        IngestedEvent(id: id, body: Array(#"{"id":"\#(id)"}"#.utf8), targets: webhooks.map { (webhook: $0, skipped: false) })
    }

    /// Ingests `e1`…`eN` at times 1000, 2000, …, each to webhooks a and b, and completes every
    /// delivery of a at `completedAt` (b's stay pending unless `finishB`).
    func filled(_ kind: StoreKind, events: Int, finishB: Bool = true, completedAt: Int64 = 50_000) throws -> any ServeStore {
        let store = try kind.make().store
        for n in 1...events { _ = try store.ingest([event("e\(n)", ["a", "b"])], now: Int64(n) * 1000) }
        let claimed = try store.claim(limit: 1000, now: completedAt, lease: 100_000)
        let outcomes = claimed.filter { finishB || $0.target == "a" }.map { outcome($0, .delivered, at: completedAt) }
        _ = try store.complete(outcomes, now: completedAt)
        return store
    }

    @Test(arguments: StoreKind.allCases)
    func finishedDeliveriesTheirAttemptsAndEventsOlderThanTheCutoffGo(_ kind: StoreKind) throws {
        let store = try filled(kind, events: 6)
        #expect(try store.oldestEventAt() == 1000)
        // Stored before 4500 and finished before it: nothing (they finished at 50,000).
        var batch = try store.pruneEvents(before: 4500, after: nil, limit: 100)
        #expect(batch.deleted == PruneCounts())
        #expect(batch.next == nil, "fewer events than the limit: the pass is over")
        batch = try store.pruneEvents(before: 60_000, after: nil, limit: 100)
        #expect(batch.deleted == PruneCounts(events: 6, deliveries: 12, attempts: 12))
        #expect(try store.oldestEventAt() == nil)
        #expect(try store.statistics(now: 60_000).deliveries == [:], "the counts the metrics read follow")
        #expect(try store.deliveries(webhook: nil, status: nil, since: nil, before: nil, limit: 10).isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func aPendingDeliveryKeepsItsEventAndTheFinishedOnesBesideItGo(_ kind: StoreKind) throws {
        let store = try filled(kind, events: 3, finishB: false)
        let batch = try store.pruneEvents(before: 60_000, after: nil, limit: 100)
        #expect(batch.deleted == PruneCounts(events: 0, deliveries: 3, attempts: 3), "a's delivered deliveries go; b's pending stay")
        #expect(try store.statistics(now: 60_000).deliveries == [.pending: 3])
        #expect(try store.oldestEventAt() == 1000, "the events stay while a delivery of theirs waits")
        let pending = try store.deliveries(webhook: "b", status: .pending, since: nil, before: nil, limit: 10)
        #expect(pending.count == 3)
    }

    @Test(arguments: StoreKind.allCases)
    func batchesFollowTheirCursorInTheOrderEventsWereStored(_ kind: StoreKind) throws {
        let store = try filled(kind, events: 5)
        var cursor: PruneCursor?
        var sizes: [Int] = []
        repeat {
            let batch = try store.pruneEvents(before: 60_000, after: cursor, limit: 2)
            sizes.append(batch.deleted.events)
            #expect(!batch.busy)
            cursor = batch.next
        } while cursor != nil
        #expect(sizes == [2, 2, 1])
        #expect(try store.oldestEventAt() == nil)
        // The whole pass at once.
        let again = try filled(kind, events: 5)
        #expect(try again.pruneAll(before: 60_000, limit: 2) == PruneCounts(events: 5, deliveries: 10, attempts: 10))
    }

    @Test(arguments: StoreKind.allCases)
    func eventsStoredAfterTheCutoffStayWhateverTheirDeliveries(_ kind: StoreKind) throws {
        let store = try filled(kind, events: 4)
        // Finished at 50,000; the cutoff at 2500 takes e1 and e2 only if they finished before it: they did not.
        #expect(try store.pruneEvents(before: 2500, after: nil, limit: 100).deleted == PruneCounts())
        // A later event that matched no webhook goes once it is old.
        _ = try store.ingest([event("lonely", [])], now: 55_000)
        #expect(try store.pruneEvents(before: 56_000, after: nil, limit: 100).deleted == PruneCounts(events: 5, deliveries: 8, attempts: 8))
    }

    @Test(arguments: StoreKind.allCases)
    func oldAuditEntriesGoInBatches(_ kind: StoreKind) throws {
        let store = try kind.make().store
        for at in [10, 20, 30, 40] as [Int64] {
            try store.appendAudit(AuditEntry(at: at, actor: "tok_x", role: "admin", team: Team.defaultID, objectKind: "webhook", objectID: "w", action: "updated"))
        }
        #expect(try store.pruneAudit(before: 35, limit: 2) == 2)
        #expect(try store.pruneAudit(before: 35, limit: 2) == 1)
        #expect(try store.pruneAudit(before: 35, limit: 2) == 0)
        #expect(try store.audit(team: nil, before: nil, limit: 10).map(\.at) == [40])
    }

    @Test(arguments: StoreKind.allCases)
    func theRetentionIsStoredForTheAdminCommands(_ kind: StoreKind) throws {
        let store = try kind.make().store
        #expect(try store.storedRetention() == nil)
        try store.storeRetention(86_400_000)
        try store.storeRetention(3_600_000)
        #expect(try store.storedRetention() == 3_600_000)
    }

    @Test func aNewSQLiteFileGivesPrunedSpaceBack() throws {
        let path = temporarySpool()
        let store = try SQLiteSpool(path: path)
        #expect(try store.canReclaimSpace())
        let body = String(repeating: "x", count: 3000)
        _ = try store.ingest((0..<2000).map { IngestedEvent(id: "e\($0)", body: Array(#"{"pad":"\#(body)"}"#.utf8), targets: []) }, now: 1)
        try store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let before = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(try store.pruneAll(before: 2).events == 2000)
        try store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let after = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(after < before / 4, "the file shrank from \(before) to \(after) bytes")
    }

    @Test func theChartsHourlyCountsThatPruningEmptiedGoToo() throws {
        let store = try SQLiteSpool(path: temporarySpool())
        _ = try store.ingest([event("e1", ["a"])], now: 1000)
        let claimed = try store.claim(limit: 10, now: 1000, lease: 100_000)
        _ = try store.complete([outcome(claimed[0], .delivered, at: 1000)], now: 1000)
        let hours = "SELECT count(*) FROM delivery_hours"
        #expect(try store.connection.statement(hours).firstInt() == 1)
        #expect(try store.pruneAll(before: 7_300_000) == PruneCounts(events: 1, deliveries: 1, attempts: 1))
        #expect(try store.connection.statement(hours).firstInt() == 0)
    }

    @Test func anOlderSQLiteFileKeepsItsSizeAndSaysSo() throws {
        let path = temporarySpool()
        let old = try SQLiteConnection(path: path)
        // As a hookrelay before pruning made it: no incremental vacuum.
        try old.execute("PRAGMA auto_vacuum = NONE; VACUUM")
        let store = try SQLiteSpool(path: path)
        #expect(try !store.canReclaimSpace())
        #expect(try store.reclaimSpace(pages: 100) == 0)
    }
}
