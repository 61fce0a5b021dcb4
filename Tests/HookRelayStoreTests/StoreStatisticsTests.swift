import Foundation
import Testing
@testable import HookRelayStore

/// The counts `serve`'s `GET /metrics` reads, through the read-only statistics connection.
@Suite struct StoreStatisticsTests {
    @Test func anEmptySpoolCountsNothing() throws {
        let path = temporarySpool()
        _ = try SQLiteSpool(path: path)
        #expect(try SQLiteSpool.statisticsReader(path: path).statistics(now: 1000) == StoreStatistics())
    }

    @Test func countsDeliveriesWebhooksAndTheOldestDueDelivery() throws {
        let path = temporarySpool()
        let store = try SQLiteSpool(path: path)
        let reader = try SQLiteSpool.statisticsReader(path: path)
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
        let reader = try SQLiteSpool.statisticsReader(path: temporarySpool())
        let plan = try reader.connection.statement("EXPLAIN QUERY PLAN " + SQLiteSpool.oldestDueSQL)
        plan.bind(1, 0)
        var details: [String] = []
        while try plan.step() { details.append(plan.text(3) ?? "") }
        #expect(details.contains { $0.contains("USING COVERING INDEX deliveries_due") || $0.contains("USING INDEX deliveries_due") }, "\(details)")
        #expect(!details.contains { $0.contains("TEMP B-TREE") }, "\(details)")
    }

    @Test func theStatisticsConnectionRefusesWrites() throws {
        let path = temporarySpool()
        _ = try SQLiteSpool(path: path)
        let reader = try SQLiteSpool.statisticsReader(path: path)
        #expect(throws: SQLiteError.self) { try reader.connection.execute("DELETE FROM webhooks") }
    }
}
