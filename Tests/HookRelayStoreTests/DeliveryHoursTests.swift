import Foundation
import Testing
@testable import HookRelayStore

/// The web page's chart reads finished deliveries counted by webhook, hour and status (schema
/// 10's `delivery_hours`, kept by triggers): they agree with the table after every kind of
/// change, and a database made before them starts from the table's counts.
@Suite struct DeliveryHoursTests {
    /// `endpoint hour status` → count, as kept and as the table has it.
    func kept(_ store: SQLiteSpool) throws -> [String: Int] {
        try rows(store, "SELECT endpoint, hour, status, n FROM delivery_hours WHERE n != 0")
    }

    func actual(_ store: SQLiteSpool) throws -> [String: Int] {
        try rows(store, """
            SELECT endpoint, updated_at / 3600000, status, count(*) FROM deliveries
            WHERE status IN ('delivered', 'failed') GROUP BY 1, 2, 3
            """)
    }

    func rows(_ store: SQLiteSpool, _ sql: String) throws -> [String: Int] {
        let statement = try store.connection.statement(sql)
        var counts: [String: Int] = [:]
        while try statement.step() {
            counts["\(statement.text(0) ?? "") \(statement.int(1)) \(statement.text(2) ?? "")"] = Int(statement.int(3))
        }
        try statement.run()
        return counts
    }

    @Test func theKeptHoursMatchTheTable() throws {
        let path = try databaseAtSchema(9, rows: """
            INSERT INTO messages (id, webhook_id, body, created_at) VALUES (1, 'old1', x'7b7d', 1), (2, 'old2', x'7b7d', 1);
            INSERT INTO deliveries (message_id, endpoint, status, next_attempt_at, updated_at)
            VALUES (1, 'a', 'pending', 1, 1), (1, 'b', 'delivered', 1, 3600001), (2, 'a', 'failed', 1, 7200000);
            """)
        let store = try SQLiteSpool(path: path)
        #expect(try kept(store) == ["b 1 delivered": 1, "a 2 failed": 1])
        try store.save(Webhook(id: "a", url: "https://a.example/", secrets: ["whsec_x"], now: 0))
        _ = try store.ingest((0..<100).map { IngestedEvent(id: "i\($0)", body: [0x7B, 0x7D], targets: [("a", false), ("c", $0 % 2 == 0)]) }, now: 2)
        let claimed = try store.claim(limit: 40, now: 3, lease: 100)
        _ = try store.complete(claimed.enumerated().map { index, delivery in
            outcome(delivery, index % 3 == 0 ? .delivered : index % 3 == 1 ? .failed : .retry(at: 9))
        }, now: 3_600_000 * 5 + 7)
        #expect(try kept(store) == (try actual(store)))
        #expect(try kept(store).keys.contains("a 5 delivered"))
        _ = try store.requeueFailed(now: 4)
        _ = try store.failPending(target: "c", error: "gone", now: 3_600_000 * 6)
        #expect(try kept(store) == (try actual(store)))
        _ = try store.recover(webhook: "a", since: 0, now: 5)
        #expect(try kept(store) == (try actual(store)))
        try store.connection.execute("UPDATE deliveries SET updated_at = updated_at + 3600000 WHERE status = 'failed'")
        try store.connection.execute("UPDATE deliveries SET endpoint = 'moved' WHERE id = (SELECT min(id) FROM deliveries WHERE status = 'failed')")
        #expect(try kept(store) == (try actual(store)))
        _ = try store.deleteWebhook(id: "a")
        try store.connection.execute("DELETE FROM messages WHERE id = 2")
        try store.connection.execute("DELETE FROM deliveries WHERE endpoint = 'c' AND status = 'failed' AND id % 2 = 0")
        #expect(try kept(store) == (try actual(store)))
        #expect(try !store.hourlyOutcomes(webhook: "c", since: 0).isEmpty)
    }
}

/// A new database file at schema `version` (its first migrations only) holding `rows`: a
/// database an older hookrelay made, for the migrations after it to upgrade.
func databaseAtSchema(_ version: Int, rows: String) throws -> String {
    let path = temporarySpool()
    let old = try SQLiteConnection(path: path)
    try old.write {
        for migration in Schema.migrations.prefix(version) { try old.execute(migration) }
        try old.execute("PRAGMA user_version = \(version)")
        try old.execute(rows)
    }
    return path
}
