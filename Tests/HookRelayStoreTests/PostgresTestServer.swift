import Foundation
import HookRelayPostgres
import Synchronization
import Testing

/// The PostgreSQL server the tests use: `HOOKRELAY_TEST_POSTGRES`, a libpq-style URL
/// (`bash .ci/postgres swift test` starts a throwaway cluster and sets it).
///
/// A test run creates one database of its own (a random name), dropped when the process exits,
/// and each store a schema in it (the URL's `options=-c search_path=…`), so every test starts
/// empty. Without the variable the PostgreSQL cases are skipped (``note``), except under
/// `CI=true`, where they fail: CI must not pass without them.
enum PostgresTestServer {
    static let variable = "HOOKRELAY_TEST_POSTGRES"
    static let url = ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Whether the PostgreSQL cases run: a server was given, or CI requires them (and they fail).
    static let runs = url != nil || isCI

    /// Why they are skipped, shown by the test runner.
    static let note: Comment = "\(variable) is unset: the PostgreSQL store tests are skipped (bash .ci/postgres swift test runs them)"

    struct Unavailable: Error, CustomStringConvertible {
        var description: String { "\(variable) is unset and CI=true: the PostgreSQL tests need a server (.ci/postgres starts one)" }
    }

    /// This run's database: created on first use, dropped at exit.
    private static let database: Result<String, any Error> = Result {
        guard let url else { throw Unavailable() }
        let name = "hookrelay_test_\(getpid())_\(UInt32.random(in: 0 ... .max))"
        try PostgresStore.execute(["CREATE DATABASE \(name)"], at: PostgresLocation(url))
        atexit { PostgresTestServer.dropDatabase() }
        return name
    }

    private static let schemas = Mutex(0)

    /// The URL of a new, empty schema in this run's database.
    static func freshURL() throws -> String {
        let database = try database.get()
        let schema = "s\(schemas.withLock { $0 += 1; return $0 })"
        let url = try url(database: database)
        try PostgresStore.execute(["CREATE SCHEMA \(schema)"], at: PostgresLocation(url))
        return try Self.url(database: database, options: "-c search_path=\(schema)")
    }

    /// The server's URL with another database (and `options`).
    static func url(database: String, options: String? = nil) throws -> String {
        guard let url, var parts = URLComponents(string: url) else { throw Unavailable() }
        parts.path = "/" + database
        if let options { parts.queryItems = (parts.queryItems ?? []) + [URLQueryItem(name: "options", value: options)] }
        return parts.string!
    }

    private static func dropDatabase() {
        guard let url, case let .success(name) = database else { return }
        try? PostgresStore.execute(["DROP DATABASE IF EXISTS \(name) WITH (FORCE)"], at: PostgresLocation(url))
    }
}
