import HookRelayStore
import Logging
import NIOCore
import PostgresNIO

/// One leased connection with the store's logger, and the ways the store reads its answers.
struct Session: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// Whether changes are announced (``notify(_:)``).
    var notifies = false

    /// The channels ``PostgresChangeFeed`` listens on.
    enum Channel: String, CaseIterable {
        case deliveries = "hookrelay_deliveries"
        case webhooks = "hookrelay_webhooks"
    }

    /// Announces a change to every listening instance when the transaction commits (nothing
    /// when it rolls back). The server folds repeats within one transaction into one
    /// notification; callers still send one per transaction at most, since the commit of a
    /// transaction that notified takes a lock every such commit waits for.
    func notify(_ channel: Channel) async throws {
        guard notifies else { return }
        try await execute("SELECT pg_notify(\(channel.rawValue), '')")
    }

    /// Announces new or re-queued deliveries when `count` is more than none; returns `count`.
    func notifying(_ count: Int) async throws -> Int {
        if count > 0 { try await notify(.deliveries) }
        return count
    }

    /// Runs `body` in one transaction (`BEGIN` … `COMMIT`, `ROLLBACK` when it throws), again
    /// when the server ended it for a deadlock or a serialization failure. `snapshot`: a
    /// read-only transaction whose statements all see one snapshot. `durable`: its commit returns
    /// once the server has written it to disk (`SET LOCAL synchronous_commit TO on`: a pool's
    /// sessions start with it off, ``PostgresPool``, so a statement outside a durable
    /// transaction, a read, commits without waiting).
    func transaction<T: Sendable>(snapshot: Bool = false, durable: Bool = true, _ body: (Session) async throws -> T) async throws -> T {
        try await retrying {
            try await execute(snapshot ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN")
            if durable, !snapshot { try await execute("SET LOCAL synchronous_commit TO on") }
            do {
                let value = try await body(self)
                try await execute("COMMIT")
                return value
            } catch {
                try? await execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Runs `body` again (up to three times in all) when the server ended it for a deadlock or
    /// a serialization failure: a transaction, or a statement committed by itself.
    func retrying<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        var tries = 0
        while true {
            tries += 1
            do {
                return try await body()
            } catch where tries < 3 && PostgresStoreError.isRetryable(error) {
                continue
            }
        }
    }

    func execute(_ query: PostgresQuery) async throws {
        _ = try await connection.query(query, logger: logger).collect()
    }

    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await connection.query(query, logger: logger).collect()
    }

    /// The rows of a statement prepared on this connection at its first use and run by name
    /// afterwards: the server neither parses nor (once it keeps a generic plan) plans it again.
    func rows<Statement: PreparedQuery>(_ statement: Statement) async throws -> [PostgresRow] {
        let rows: AsyncThrowingMapSequence<PostgresRowSequence, PostgresRow> = try await connection.execute(statement, logger: logger)
        return try await rows.reduce(into: []) { $0.append($1) }
    }

    /// The first column of the first row, an integer or NULL (nil too when there is no row).
    func optionalInt(_ query: PostgresQuery) async throws -> Int64? {
        guard let row = try await rows(query).first else { return nil }
        return try row.decode(Int64?.self)
    }

    /// A `count(*)`.
    func count(_ query: PostgresQuery) async throws -> Int {
        Int(try await optionalInt(query) ?? 0)
    }

    /// The first column of every row, as text.
    func texts(_ query: PostgresQuery) async throws -> [String] {
        try await rows(query).map { try $0.decode(String.self) }
    }

    /// A delivery's state, in ``DeliveryState``'s order; valid in `RETURNING` too.
    static let stateColumns = """
        id, (SELECT webhook_id FROM messages WHERE messages.id = message_id), endpoint, status, attempts,
        last_http_status, last_error, last_latency_ms, next_attempt_at, ref
        """

    /// The rows of a statement selecting ``stateColumns``.
    func states(_ query: PostgresQuery) async throws -> [DeliveryState] {
        try await rows(query).map(Self.state)
    }

    static func state(_ row: PostgresRow) throws -> DeliveryState {
        let (id, messageID, target, status, attempts, http, error, latency, next, ref) = try row.decode(
            (Int64, String, String, String, Int64, Int64?, String?, Int64?, Int64, Int64?).self)
        return DeliveryState(
            id: id, messageID: messageID, target: target, status: DeliveryStatus(rawValue: status) ?? .pending,
            attempts: Int(attempts), lastHTTPStatus: http.map(Int.init), lastError: error,
            lastLatencyMilliseconds: latency.map(Int.init), nextAttemptAt: next, ref: ref)
    }
}

extension ByteBuffer {
    var bytes: [UInt8] { Array(readableBytesView) }
}

/// A statement of the dispatcher's round (claims, completions), which runs many times a second:
/// prepared once per connection (postgres-nio keeps them by the type's name), its SQL fixed and
/// written with `$n` parameters, the rows decoded by the caller.
protocol PreparedQuery: PostgresPreparedStatement where Row == PostgresRow {}

extension PreparedQuery {
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension PostgresBindings {
    /// The parameters `$1`, `$2`, … in order.
    static func of<each Value: PostgresThrowingDynamicTypeEncodable>(_ value: repeat each Value) throws -> PostgresBindings {
        var bindings = PostgresBindings()
        try bindings.append(all: repeat each value)
        return bindings
    }

    /// The next parameters, in order.
    mutating func append<each Value: PostgresThrowingDynamicTypeEncodable>(all value: repeat each Value) throws {
        repeat try append(each value)
    }
}

/// A prepared statement whose parameters can follow another's (``RoundQuery``).
protocol BindingsPart: PreparedQuery {
    func bind(_ bindings: inout PostgresBindings) throws
}

extension BindingsPart {
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        try bind(&bindings)
        return bindings
    }
}
