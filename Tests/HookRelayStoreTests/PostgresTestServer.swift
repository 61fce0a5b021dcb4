import HookRelayPostgres
import Testing

/// The PostgreSQL server of these tests (``PostgresTestDatabase``), with the note shown when its
/// cases are skipped.
enum PostgresTestServer {
    static let runs = PostgresTestDatabase.runs
    static let note = Comment(rawValue: PostgresTestDatabase.skipNote)

    static func freshURL() throws -> String { try PostgresTestDatabase.freshURL() }
}
