import Foundation
import Testing
@testable import HookRelayStore

/// The counts `serve`'s `GET /metrics` reads, through the read-only statistics connection.
@Suite struct StoreStatisticsTests {
    @Test func anEmptySpoolCountsNothing() throws {
        let path = temporarySpool()
        _ = try SQLiteSpool(path: path)
        var statistics = try SQLiteSpool.open(path: path, role: .reader).statistics(now: 1000)
        #expect((statistics.databaseBytes ?? 0) > 0, "the file's size")
        statistics.databaseBytes = nil
        #expect(statistics == StoreStatistics())
    }

    @Test func countsDeliveriesWebhooksAndTheOldestDueDelivery() throws {
        let path = temporarySpool()
        let store = try SQLiteSpool(path: path)
        let reader = try SQLiteSpool.open(path: path, role: .reader)
        for (id, state) in [("wh_a", Webhook.Health.healthy), ("wh_b", .unhealthy), ("wh_c", .disabled), ("wh_d", .unhealthy)] {
            var webhook = Webhook(id: id, url: "https://\(id).example/hook", secrets: ["whsec_x"], now: 0)
            webhook.state = state
            try store.save(webhook)
        }

        #expect(try store.append([message("e1", ["u1", "u2"]), message("e2", ["u1"])], now: 1000) == 3)
        #expect(try store.append([message("e3", ["u1"])], now: 2000) == 1)
        let claimed = try store.claim(limit: 3, now: 2000, lease: 60_000)
        #expect(claimed.count == 3)
        _ = try store.complete(
            [outcome(claimed[0], .delivered), outcome(claimed[1], .failed, status: 400), outcome(claimed[2], .retry(at: 9000), status: 500)],
            now: 2000)

        let statistics = try reader.statistics(now: 2500)
        #expect(statistics.deliveries == [.delivered: 1, .failed: 1, .pending: 2])
        #expect(statistics.webhooks == [.healthy: 1, .unhealthy: 2, .disabled: 1])
        // e3 (due at 2000) is the oldest due; the retry at 9000 is not due yet.
        #expect(statistics.oldestDueAt == 2000)
        #expect(try reader.oldestDueAt(now: 1999) == nil)
        #expect(try reader.oldestDueAt(now: 9000) == 2000)
        let e3 = try #require(try store.claim(limit: 1, now: 2500, lease: 60_000).first)
        _ = try store.complete([outcome(e3, .delivered)], now: 2600)
        #expect(try reader.oldestDueAt(now: 8999) == nil)
        #expect(try reader.oldestDueAt(now: 9000) == 9000)
    }

    /// One seek in the pending-only due index: no table scan and no sort, however many
    /// deliveries the table holds.
    @Test func theOldestDueQueryUsesTheDueIndex() throws {
        let reader = try SQLiteSpool.open(path: temporarySpool(), role: .reader)
        let plan = try reader.connection.statement("EXPLAIN QUERY PLAN " + SQLiteSpool.oldestDueSQL)
        plan.bind(1, 0)
        var details: [String] = []
        while try plan.step() { details.append(plan.text(3) ?? "") }
        #expect(details.contains { $0.contains("USING COVERING INDEX deliveries_due") || $0.contains("USING INDEX deliveries_due") }, "\(details)")
        #expect(!details.contains { $0.contains("TEMP B-TREE") }, "\(details)")
    }

    /// The read a scrape makes does not grow with the deliveries stored: its snapshot lasts
    /// a moment, so scrapes in a row never keep a checkpoint from emptying the WAL. (Counting
    /// the table took a second at 600k deliveries.)
    @Test func aScrapeReadsAFewRowsHoweverManyDeliveriesAreStored() throws {
        let path = temporarySpool()
        let store = try SQLiteSpool(path: path)
        let reader = try SQLiteSpool.open(path: path, role: .reader)
        _ = try store.append((0..<10).map { message("e\($0)", ["u1", "u2"]) }, now: 1)
        _ = try reader.statistics(now: 2)
        let small = reader.connection.virtualMachineSteps()
        _ = try store.append((10..<20_010).map { message("e\($0)", ["u1", "u2"]) }, now: 1)
        _ = try reader.statistics(now: 2)
        let large = reader.connection.virtualMachineSteps() - small
        #expect(large <= small + 50, "steps: \(small) with 20 deliveries, \(large) with 40,020")
        #expect(try reader.statistics(now: 2).deliveries == [.pending: 40_020])
    }

    @Test func theWALEmptiesCompletelyBetweenScrapes() throws {
        let path = temporarySpool()
        let store = try SQLiteSpool(path: path)
        let reader = try SQLiteSpool.open(path: path, role: .reader)
        for round in 0..<5 {
            _ = try store.append((0..<1_000).map { message("e\(round)-\($0)") }, now: 1)
            _ = try reader.statistics(now: 2)
            let checkpoint = try store.connection.statement("PRAGMA wal_checkpoint(TRUNCATE)")
            _ = try checkpoint.step()
            #expect(checkpoint.int(0) == 0, "busy")
            try checkpoint.run()
        }
        #expect((try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) == 0)
    }

    /// The counts the triggers keep agree with the table after every kind of change, and a
    /// database made before them starts from the table's counts.
    @Test func theKeptCountsMatchTheTable() throws {
        let path = try databaseAtSchema(4, rows: """
            INSERT INTO messages (id, webhook_id, body, created_at) VALUES (1, 'old1', x'7b7d', 1), (2, 'old2', x'7b7d', 1);
            INSERT INTO deliveries (message_id, endpoint, status, next_attempt_at, updated_at)
            VALUES (1, 'a', 'pending', 1, 1), (1, 'b', 'delivered', 1, 1), (2, 'a', 'failed', 1, 1);
            """)
        let store = try SQLiteSpool(path: path)
        func actual() throws -> [DeliveryStatus: Int] {
            let statement = try store.connection.statement("SELECT status, count(*) FROM deliveries GROUP BY status")
            var counts: [DeliveryStatus: Int] = [:]
            while try statement.step() { counts[DeliveryStatus(rawValue: statement.text(0) ?? "")!] = Int(statement.int(1)) }
            try statement.run()
            return counts
        }
        #expect(try store.counts() == [.pending: 1, .delivered: 1, .failed: 1])
        try store.save(Webhook(id: "a", url: "https://a.example/", secrets: ["whsec_x"], now: 0))
        _ = try store.ingest((0..<50).map { IngestedEvent(id: "i\($0)", body: [0x7B, 0x7D], targets: [("a", false), ("c", $0 % 2 == 0)]) }, now: 2)
        let claimed = try store.claim(limit: 20, now: 3, lease: 100)
        _ = try store.complete(claimed.enumerated().map { index, delivery in
            outcome(delivery, index % 3 == 0 ? .delivered : index % 3 == 1 ? .failed : .retry(at: 9))
        }, now: 3)
        #expect(try store.counts() == (try actual()))
        _ = try store.requeueFailed(now: 4)
        _ = try store.failPending(target: "c", error: "gone", now: 4)
        #expect(try store.counts() == (try actual()))
        _ = try store.recover(webhook: "a", since: 0, now: 5)
        #expect(try store.counts() == (try actual()))
        _ = try store.deleteWebhook(id: "a")
        try store.connection.execute("DELETE FROM messages WHERE id = 2")
        #expect(try store.counts() == (try actual()))
        #expect(try store.activity(webhook: "c", since: 0).pending == (try actual())[.pending] ?? 0)
    }

    @Test func theStatisticsConnectionRefusesWrites() throws {
        let path = temporarySpool()
        _ = try SQLiteSpool(path: path)
        let reader = try SQLiteSpool.open(path: path, role: .reader)
        #expect(throws: SQLiteError.self) { try reader.connection.execute("DELETE FROM webhooks") }
    }
}
