import Foundation
import Testing
@testable import HookRelayPostgres
@testable import HookRelayStore

/// The web page's chart reads finished deliveries counted by webhook, hour and status (SQLite's
/// schema 11, PostgreSQL's migration 8: `delivery_hours`, kept by triggers; on PostgreSQL split
/// over slots), and `/metrics` the deliveries by webhook and status (`delivery_counts`, SQLite's
/// schema 5, PostgreSQL's 10): they agree with the table after every kind of change, and a
/// database made before them starts from the table's counts.
@Suite struct DeliveryHoursTests {
    static let keptSQL = "SELECT endpoint, hour, status, CAST(sum(n) AS bigint) FROM delivery_hours GROUP BY 1, 2, 3 HAVING sum(n) <> 0"
    static let actualSQL = """
        SELECT endpoint, updated_at / 3600000, status, count(*) FROM deliveries
        WHERE status IN ('delivered', 'failed') GROUP BY 1, 2, 3
        """

    /// `endpoint hour status` → count, from a query of those four columns.
    func rows(_ store: any ServeStore, _ sql: String) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        if let store = store as? SQLiteSpool {
            let statement = try store.connection.statement(sql)
            while try statement.step() {
                counts["\(statement.text(0) ?? "") \(statement.int(1)) \(statement.text(2) ?? "")"] = Int(statement.int(3))
            }
            try statement.run()
        } else if let store = store as? PostgresStore {
            let rows = try store.run("reading counts") { session in
                try await session.rows("\(unescaped: sql)").map { try $0.decode((String, Int64, String, Int64).self) }
            }
            for (endpoint, hour, status, n) in rows { counts["\(endpoint) \(hour) \(status)"] = Int(n) }
        }
        return counts
    }

    func execute(_ store: any ServeStore, _ sql: String) throws {
        if let store = store as? SQLiteSpool { try store.connection.execute(sql) }
        if let store = store as? PostgresStore {
            try store.run("changing rows") { session in try await session.execute("\(unescaped: sql)") }
        }
    }

    /// The hourly counts as kept and as the table has them, and the counts by status (SQLite's
    /// schema 5, PostgreSQL's migration 10) likewise, under keys `endpoint status`.
    func kept(_ store: any ServeStore) throws -> [String: Int] {
        try rows(store, Self.keptSQL).merging(rows(store, """
            SELECT endpoint, -1, status, CAST(sum(n) AS bigint) FROM delivery_counts GROUP BY 1, 3 HAVING sum(n) <> 0
            """)) { $1 }
    }

    func actual(_ store: any ServeStore) throws -> [String: Int] {
        try rows(store, Self.actualSQL).merging(rows(store, "SELECT endpoint, -1, status, count(*) FROM deliveries GROUP BY 1, 3")) { $1 }
    }

    /// Rows as a database before the counts held them: two events, a pending, a delivered and a failed delivery.
    static let olderRows = [
        "INSERT INTO messages (id, webhook_id, body, created_at) VALUES (1001, 'old1', '{}', 1), (1002, 'old2', '{}', 1)",
        """
        INSERT INTO deliveries (message_id, endpoint, status, next_attempt_at, updated_at)
        VALUES (1001, 'a', 'pending', 1, 1), (1001, 'b', 'delivered', 1, 3600001), (1002, 'a', 'failed', 1, 7200000)
        """,
    ]

    /// A store on a database made before the counts (SQLite's schema 10, PostgreSQL's migration 7) holding ``olderRows``.
    func olderStore(_ kind: StoreKind) throws -> any ServeStore {
        switch kind {
        case .sqlite:
            return try SQLiteSpool(path: databaseAtSchema(10, rows: Self.olderRows.joined(separator: ";\n").replacingOccurrences(of: "'{}'", with: "x'7b7d'")))
        case .postgres:
            let url = try PostgresTestServer.freshURL()
            try PostgresStore.execute(
                ["CREATE TABLE schema_migrations (version bigint PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"]
                    + PostgresSchema.migrations.prefix(7).flatMap(PostgresSchema.statements(of:))
                    + ["INSERT INTO schema_migrations (version) SELECT generate_series(1, 7)"]
                    + Self.olderRows.map {
                        $0.replacingOccurrences(of: "'{}'", with: "'\\x7b7d'").replacingOccurrences(of: ") VALUES (1001,", with: ") OVERRIDING SYSTEM VALUE VALUES (1001,")
                    },
                at: PostgresLocation(url))
            return try PostgresStore.open(url, role: .writer)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theKeptHoursMatchTheTable(_ kind: StoreKind) throws {
        let store = try olderStore(kind)
        #expect(try kept(store) == [
            "b 1 delivered": 1, "a 2 failed": 1, "a -1 pending": 1, "b -1 delivered": 1, "a -1 failed": 1,
        ])
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
        _ = try store.recoverBatch(webhook: "a", since: 0, now: 5, progress: RecoverProgress())
        #expect(try kept(store) == (try actual(store)))
        try execute(store, "UPDATE deliveries SET updated_at = updated_at + 3600000 WHERE status = 'failed'")
        try execute(store, "UPDATE deliveries SET endpoint = 'moved' WHERE id = (SELECT min(id) FROM deliveries WHERE status = 'failed')")
        #expect(try kept(store) == (try actual(store)))
        #expect(try store.beginDeletingWebhook(id: "a"))
        while try !store.discardPending(of: "a").done {}
        try execute(store, "DELETE FROM deliveries WHERE message_id = 1002")
        try execute(store, "DELETE FROM deliveries WHERE endpoint = 'c' AND status = 'failed' AND id % 2 = 0")
        #expect(try kept(store) == (try actual(store)))
        #expect(try !store.hourlyOutcomes(webhook: "c", since: 0).isEmpty)
    }

    /// On PostgreSQL each connection counts into its own slot: a count made on one connection and
    /// taken back on another sums to nothing, and pruning drops the hour's rows of every slot.
    @Test(.enabled(if: PostgresTestServer.runs, PostgresTestServer.note))
    func slotsOfSeveralConnectionsSumAndPruningDropsThemAll() throws {
        let url = try PostgresTestServer.freshURL()
        let first = try PostgresStore.open(url, role: .writer), second = try PostgresStore.open(url, role: .writer)
        _ = try first.ingest((0..<6).map { IngestedEvent(id: "e\($0)", body: [0x7B, 0x7D], targets: [("a", false)]) }, now: 1000)
        _ = try first.complete(try first.claim(limit: 10, now: 1000, lease: 100_000).map { outcome($0, .failed) }, now: 2000)
        // Slots are the server process id modulo 8: in one session, move the counts to the slot
        // after this session's, then re-queue the deliveries there (its -6 goes to its own slot).
        try second.run("re-queueing from another slot") { session in
            try await session.execute("UPDATE delivery_hours SET slot = (pg_backend_pid() % 8 + 1) % 8")
            try await session.execute("UPDATE deliveries SET status = 'pending', updated_at = 3000 WHERE status = 'failed'")
        }
        #expect(try first.hourlyOutcomes(webhook: "a", since: 0).isEmpty)
        #expect(try rows(first, "SELECT endpoint, hour, status, count(*) FROM delivery_hours GROUP BY 1, 2, 3") == ["a 0 failed": 2])
        _ = try first.complete(try first.claim(limit: 10, now: 3000, lease: 100_000).map { outcome($0, .delivered) }, now: 4000)
        #expect(try first.hourlyOutcomes(webhook: "a", since: 0).map { "\($0.hour): \($0.delivered)/\($0.failed)" } == ["0: 6/0"])
        _ = try first.pruneAll(before: 3_600_000 * 2)
        #expect(try rows(first, "SELECT endpoint, hour, status, count(*) FROM delivery_hours GROUP BY 1, 2, 3").isEmpty)
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
