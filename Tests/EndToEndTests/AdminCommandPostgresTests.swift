import Foundation
import HookRelayPostgres
import Testing

/// The admin commands on a PostgreSQL database through the built binary (issue 15): `--db URL`
/// and `HOOKRELAY_DB` reach the database `serve` instances share; a database that refuses the
/// connection says why, and the URL's password reaches no message.
@Suite(.enabled(if: PostgresTestDatabase.runs, Comment(rawValue: PostgresTestDatabase.skipNote)))
struct AdminCommandPostgresTests {
    typealias Admin = AdminCommandTests

    /// Runs `hookrelay` with `HOOKRELAY_DB` set to `db` and no `--db`, without holding a thread of
    /// the cooperative pool while it runs.
    func run(_ arguments: [String], environmentDB db: String) async throws -> HookRelayProcess.Result {
        let running = try HookRelayProcess.start(arguments, environment: HookRelayProcess.environment(adding: ["HOOKRELAY_DB": db]))
        let deadline = Date().addingTimeInterval(60)
        while running.process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        return try running.wait(timeout: 0)
    }

    @Test func webhooksDeliveriesAndMatchTakeAPostgreSQLURL() async throws {
        let db = try PostgresTestDatabase.freshURL()
        // No --create: a database server's schema is made or migrated on opening.
        let add = try await Admin.run(["webhooks", "add", "--url", "http://127.0.0.1:9/hook", "--min-severity", "high", "--json"] + Admin.loopback, db: db)
        #expect(add.status == 0, "\(add.stderr)")
        let id = try #require(try Admin.object(add)["id"] as? String)

        let listed = try await run(["webhooks", "list", "--json"], environmentDB: db)
        #expect(listed.status == 0, "\(listed.stderr)")
        let webhooks = try #require(try Admin.object(listed)["webhooks"] as? [[String: Any]])
        #expect(webhooks.map { $0["id"] as? String } == [id], "HOOKRELAY_DB names the same database")

        let deliveries = try await Admin.run(["deliveries", "list", "--json"], db: db)
        #expect(deliveries.status == 0, "\(deliveries.stderr)")
        #expect((try Admin.object(deliveries)["deliveries"] as? [Any])?.isEmpty == true)

        let match = try await Admin.run(["match", "--json"], db: db, stdin: #"{"event_type":"finding","finding":{"severity":"critical"}}"#)
        #expect(match.status == 0, "\(match.stderr)")
        let reports = try #require(try Admin.object(match)["webhooks"] as? [[String: Any]])
        #expect(reports.map { $0["webhook"] as? String } == [id])
        #expect(reports.map { $0["outcome"] as? String } == ["would_send"])
    }

    @Test func aDatabaseThatRefusesSaysWhyWithoutThePassword() async throws {
        let secret = "s3cret-" + UUID().uuidString
        var url = try #require(URLComponents(string: try PostgresTestDatabase.freshURL()))
        url.path = "/hookrelay_no_such_database"
        url.queryItems = (url.queryItems ?? []) + [URLQueryItem(name: "password", value: secret)]
        let db = try #require(url.string)
        for result in [try await Admin.run(["webhooks", "list"], db: db), try await run(["deliveries", "list"], environmentDB: db)] {
            #expect(result.status != 0)
            #expect(result.stderr.contains(#"database "hookrelay_no_such_database" does not exist"#), "\(result.stderr)")
            #expect(!result.stderr.contains(secret) && !result.output.contains(secret), "\(result.stderr)")
        }
    }
}
