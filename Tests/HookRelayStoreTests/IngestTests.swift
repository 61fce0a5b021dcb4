import Foundation
import HookRelayCore
import Testing
@testable import HookRelayStore

/// `serve`'s ingest: many rows a statement, and for many deliveries the count triggers off
/// while it runs and the counts it adds itself (issue 14).
@Suite struct IngestTests {
    /// Deliveries by webhook and status, as `delivery_counts` holds them (zeros left out).
    func kept(_ store: SQLiteSpool) throws -> [String: Int] {
        try rows(store, "SELECT endpoint || ' ' || status, n FROM delivery_counts WHERE n != 0")
    }

    /// Deliveries by webhook and status, counted in the table.
    func actual(_ store: SQLiteSpool) throws -> [String: Int] {
        try rows(store, "SELECT endpoint || ' ' || status, count(*) FROM deliveries GROUP BY endpoint, status")
    }

    func rows(_ store: SQLiteSpool, _ sql: String) throws -> [String: Int] {
        let statement = try store.connection.statement(sql)
        var all: [String: Int] = [:]
        while try statement.step() { all[statement.text(0) ?? ""] = Int(statement.int(1)) }
        try statement.run()
        return all
    }

    func event(_ id: String, _ targets: [(String, Bool)]) -> IngestedEvent {
        IngestedEvent(id: id, body: Array(#"{"id":"\#(id)"}"#.utf8), targets: targets)
    }

    @Test func countsDuplicatesSkippedAndDiscardingAsTheTriggersWould() throws {
        let store = try SQLiteSpool(path: temporarySpool())
        for id in ["a", "b", "gone"] { try store.save(Webhook(id: id, url: "https://\(id).example/", secrets: ["whsec_x"], now: 0)) }
        #expect(try store.beginDeletingWebhook(id: "gone"))
        // More deliveries than one statement holds, and a part statement's worth after them.
        let many = SQLiteSpool.deliveryRowsPerStatement * 3 + 5
        var first = (0..<many).map { event("e\($0)", [("a", false), ("b", $0 % 3 == 0), ("gone", false)]) }
        first.append(event("e1", [("a", false)]))
        let second = [event("e0", [("a", false)]), event("f0", [("b", true)]), event("f1", [("a", false), ("gone", false)])]
        let duplicates = try store.ingest([IngestBatch(first), IngestBatch(second)], now: 5)
        #expect(duplicates[0] == Array(repeating: false, count: many) + [true], "a repeated id in the same commit is a duplicate")
        #expect(duplicates[1] == [true, false, false])
        let skippedB = (0..<many).filter { $0 % 3 == 0 }.count + 1
        #expect(try actual(store) == ["a pending": many + 1, "b pending": many - skippedB + 1, "b skipped": skippedB])
        #expect(try kept(store) == (try actual(store)))
        // The message rows and their deliveries belong together, in order.
        let order = try store.connection.statement("""
            SELECT count(*) FROM deliveries d JOIN messages m ON m.id = d.message_id
            WHERE d.status = 'skipped' AND CAST(substr(m.webhook_id, 2) AS INTEGER) % 3 != 0 AND m.webhook_id != 'f0'
            """)
        _ = try order.step()
        #expect(order.int(0) == 0)
        try order.run()
        #expect(try store.ingest([event("e2", [("a", false)])], now: 6) == [true])
    }

    @Test func theTriggersCountAgainAfterIngestAndAfterAFailedOne() throws {
        let store = try SQLiteSpool(path: temporarySpool())
        _ = try store.ingest([event("e1", [("a", false)])], now: 1)
        // The same webhook twice for one event breaks the unique key: nothing is kept, with
        // the triggers off (many deliveries) or on (a few).
        let many = (2...SQLiteSpool.deliveryRowsPerStatement + 2).map { event("e\($0)", [("a", false)]) }
        #expect(throws: SQLiteError.self) { try store.ingest(many + [event("x", [("a", false), ("a", false)])], now: 2) }
        #expect(throws: SQLiteError.self) { try store.ingest([event("y", [("a", false), ("a", false)])], now: 2) }
        #expect(try actual(store) == ["a pending": 1])
        // Changes other than ingest are counted by the triggers again.
        let claimed = try store.claim(limit: 1, now: 3, lease: 100)
        _ = try store.complete([outcome(claimed[0], .failed, status: 500, at: 3)], now: 3)
        try store.connection.execute("INSERT INTO deliveries(message_id, endpoint, status, next_attempt_at, updated_at) VALUES (1, 'b', 'pending', 1, 1)")
        #expect(try kept(store) == ["a failed": 1, "b pending": 1])
        #expect(try kept(store) == (try actual(store)))
    }

    /// Ingest turns the triggers off and does their work itself: a trigger added on the tables
    /// it writes must be added to it too (then to this list).
    @Test func ingestKnowsEveryTriggerOnTheTablesItWrites() throws {
        let store = try SQLiteSpool(path: temporarySpool())
        let statement = try store.connection.statement(
            "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name IN ('messages', 'deliveries') ORDER BY name")
        var names: [String] = []
        while try statement.step() { names.append(statement.text(0) ?? "") }
        try statement.run()
        // The hours' triggers count finished deliveries only: ingest stores none.
        #expect(names == [
            "deliveries_count_delete", "deliveries_count_insert", "deliveries_count_update",
            "deliveries_hours_delete", "deliveries_hours_insert", "deliveries_hours_update",
        ])
    }
}
