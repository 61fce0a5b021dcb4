import Foundation
import Synchronization

/// The PostgreSQL server the test suites use: `HOOKRELAY_TEST_POSTGRES`, a libpq-style URL
/// (`bash .ci/postgres swift test` starts a throwaway cluster and sets it). For the tests of
/// every target, hence here.
///
/// A test run creates one database of its own (a random name), dropped when the process exits,
/// and ``freshURL()`` a schema in it for each store (the URL's `options=-c search_path=…`), so
/// every test starts empty. Without the variable the PostgreSQL cases are skipped, except under
/// `CI=true` (``runs``), where ``freshURL()`` throws: CI must not pass without them.
public enum PostgresTestDatabase {
    public static let variable = "HOOKRELAY_TEST_POSTGRES"
    public static let url = ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Whether the PostgreSQL cases run: a server was given, or CI requires them (and they fail).
    public static let runs = url != nil || isCI

    /// Why they are skipped.
    public static let skipNote = "\(variable) is unset: the PostgreSQL tests are skipped (bash .ci/postgres swift test runs them)"

    struct Unavailable: Error, CustomStringConvertible {
        var description: String { "\(variable) is unset and CI=true: the PostgreSQL tests need a server (.ci/postgres starts one)" }
    }

    /// This run's database: created on first use, dropped at exit.
    private static let database: Result<String, any Error> = Result {
        guard let url else { throw Unavailable() }
        let name = "hookrelay_test_\(getpid())_\(UInt32.random(in: 0 ... .max))"
        try PostgresStore.execute(["CREATE DATABASE \(name)"], at: PostgresLocation(url))
        atexit { PostgresTestDatabase.dropDatabase() }
        return name
    }

    private static let schemas = Mutex(0)

    /// The URL of a new, empty schema in this run's database.
    public static func freshURL() throws -> String {
        let database = try database.get()
        let schema = "s\(schemas.withLock { $0 += 1; return $0 })"
        try PostgresStore.execute(["CREATE SCHEMA \(schema)"], at: PostgresLocation(try url(database: database)))
        return try url(database: database, options: "-c search_path=\(schema)")
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
