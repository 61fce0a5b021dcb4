import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayDelivery
import HookRelayPostgres
@testable import HookRelayServer
import HookRelayStore
import HummingbirdTesting
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing
import Tracing

/// A wall clock that moves only when a test moves it (Unix milliseconds).
final class ManualClock: Sendable {
    private let time: Mutex<Int64>

    init(_ start: Int64 = 1_800_000_000_000) { time = Mutex(start) }

    var now: Int64 { time.withLock { $0 } }

    func advance(_ duration: Duration) { time.withLock { $0 += duration.milliseconds } }
}

/// Stands in for the HTTP sender: records each request and answers with the status a test
/// scripted (204 when none is left), or holds it until ``abortInFlight()``.
final class FakeSender: DeliverySending {
    struct Request: Sendable {
        var url: String
        var body: [UInt8]
        var headers: [(String, String)]
        /// The webhook's own client certificate and trust, as the attempt passed them.
        var tls: TLSOptions? = nil

        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
    }

    /// What the receiver does with a request.
    enum Answer: Sendable {
        case status(Int)
        /// No answer until the attempts in flight are cut off.
        case hang
        /// This status, once the test calls ``release()``.
        case held(Int)
    }

    private struct State {
        var answers: [Answer] = []
        var answersByURL: [String: [Answer]] = [:]
        var aborted = false
        var hanging: [CheckedContinuation<Void, Never>] = []
        var released = false
        var held: [CheckedContinuation<Void, Never>] = []
        var all: [Request] = []
    }

    private let state = Mutex(State())
    private let count = Mutex(0)
    /// Every request, as it comes.
    let requests: AsyncStream<Request>

    /// How many requests came.
    var sent: Int { count.withLock { $0 } }
    private let received: AsyncStream<Request>.Continuation

    init() { (requests, received) = AsyncStream.makeStream(of: Request.self) }

    /// The receiver's next answers, in order.
    func script(_ answers: Answer...) { state.withLock { $0.answers += answers } }

    /// The next answers to requests for `url`, in order, before those for any URL.
    func script(for url: String, _ answers: Answer...) { state.withLock { $0.answersByURL[url, default: []] += answers } }

    func send(_ body: [UInt8], to endpoint: Endpoint, headers: [(String, String)]) async -> SendResult {
        await send(body, to: endpoint, headers: headers, tls: nil)
    }

    func send(_ body: [UInt8], to endpoint: Endpoint, headers: [(String, String)], tls: TLSOptions?) async -> SendResult {
        let request = Request(url: endpoint.url, body: body, headers: headers, tls: tls)
        let answer = state.withLock { state in
            state.all.append(request)
            if let answer = state.answersByURL[endpoint.url]?.first {
                state.answersByURL[endpoint.url]?.removeFirst()
                return answer
            }
            return state.answers.isEmpty ? .status(204) : state.answers.removeFirst()
        }
        count.withLock { $0 += 1 }
        received.yield(request)
        switch answer {
        case let .status(status):
            return Self.result(status)
        case let .held(status):
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.released { return true }
                    state.held.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            return Self.result(status)
        case .hang:
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.aborted { return true }
                    state.hanging.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            return SendResult(verdict: .retry, error: "the connection was closed")
        }
    }

    private static func result(_ status: Int) -> SendResult {
        let verdict: SendResult.Verdict = (200..<300).contains(status) ? .success : status == 410 ? .gone : .retry
        return SendResult(verdict: verdict, httpStatus: status, error: verdict == .success ? nil : "HTTP \(status)")
    }

    /// Every request so far, in the order they came.
    var all: [Request] { state.withLock { $0.all } }

    /// How many requests carried each `webhook-id` (to `url` only, when given).
    func tally(_ url: String? = nil) -> [String: Int] {
        all.filter { url == nil || $0.url == url }.reduce(into: [:]) { $0[$1.header("webhook-id") ?? "", default: 0] += 1 }
    }

    /// Answers the ``Answer/held(_:)`` requests, those waiting and those to come.
    func release() {
        let held = state.withLock { state in
            state.released = true
            defer { state.held.removeAll() }
            return state.held
        }
        for continuation in held { continuation.resume() }
    }

    func check(_ url: String) async throws -> Endpoint { try Endpoint(url, allowHTTP: true) }

    var abortedInFlight: Bool { state.withLock { $0.aborted } }

    func abortInFlight() {
        let hanging = state.withLock { state in
            state.aborted = true
            defer { state.hanging.removeAll() }
            return state.hanging
        }
        for continuation in hanging { continuation.resume() }
    }

    func shutdown() { received.finish() }
}

/// The database `serve` runs on in a test: a SQLite file, or a fresh schema of the PostgreSQL
/// test server (``PostgresTestDatabase``; without one the case is left out, or fails under CI).
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    static var allCases: [StoreBackend] { PostgresTestDatabase.runs ? [.sqlite, .postgres] : [.sqlite] }

    var testDescription: String { rawValue }
}

/// `serve` in this process: its state, router and dispatch service on a database in a fresh
/// directory (or schema), with a ``ManualClock`` and a ``FakeSender``. Nothing waits on the wall clock:
/// after moving the clock a test wakes the dispatcher, as ingest and every change do.
final class ServeHarness: Sendable {
    let clock: ManualClock
    let sender: FakeSender
    let state: ServerState
    let configuration: ServeConfiguration
    /// What `serve` logged.
    let log = LogRecorder()
    /// The database's directory, removed with the harness that made it.
    let directory: URL
    /// The harness whose database this one opened again (it keeps the directory).
    private let original: ServeHarness?
    static let token = "test-token"

    /// - Parameter tracer: what `serve` makes when traces are exported (``ServeTracing``).
    init(
        on backend: StoreBackend = .sqlite, idleWait: Duration? = nil, tracer: (any Tracer)? = nil,
        _ configure: (inout ServeConfiguration) -> Void = { _ in }
    ) throws {
        var configuration = ServeConfiguration()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        configuration.database = switch backend {
        case .sqlite: directory.appendingPathComponent("serve.db").path
        case .postgres: try PostgresTestDatabase.freshURL()
        }
        configuration.sender.allowHTTP = true
        configuration.concurrency = 4
        configure(&configuration)
        self.configuration = configuration
        original = nil
        clock = ManualClock()
        sender = FakeSender()
        state = try Self.state(configuration, clock: clock, sender: sender, log: log, idleWait: idleWait, tracer: tracer)
    }

    /// `serve` started again on `other`'s database, as a new process would be, at `other`'s time.
    init(reopening other: ServeHarness, idleWait: Duration? = nil, _ configure: (inout ServeConfiguration) -> Void = { _ in }) throws {
        var configuration = other.configuration
        configure(&configuration)
        self.configuration = configuration
        directory = other.directory
        original = other
        clock = other.clock
        sender = FakeSender()
        state = try Self.state(configuration, clock: clock, sender: sender, log: log, idleWait: idleWait)
    }

    private static func state(
        _ configuration: ServeConfiguration, clock: ManualClock, sender: FakeSender, log: LogRecorder, idleWait: Duration?,
        tracer: (any Tracer)? = nil
    ) throws -> ServerState {
        try ServerState(
            configuration: configuration, logger: Logger(label: "test", factory: { _ in log }), sender: sender, now: { clock.now },
            idleWait: idleWait, tracer: tracer)
    }

    deinit { if original == nil { try? FileManager.default.removeItem(at: directory) } }

    var admin: Admin { state.admin }

    /// Runs `body` with the API's router and the dispatch service running; the service stops
    /// (gracefully, as on SIGTERM) when `body` returns. `watching`: with `serve`'s watchers too
    /// (the webhook poll and, on PostgreSQL, the change listener).
    /// Not `dispatching`: the API only (another instance delivers what it stores).
    func run(
        dispatching: Bool = true, watching: Bool = false, _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let application = Application(
            router: Routes.build(state, token: APIToken(Self.token)),
            services: (dispatching ? [DispatchService(state: state)] as [any Service] : []) + (watching ? state.watchers : []),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await application.test(.router) { client in try await body(client) }
    }

    /// Moves the clock and wakes the dispatcher, which then claims what fell due.
    func advance(_ duration: Duration) {
        clock.advance(duration)
        state.wakeDispatcher()
    }

    /// A webhook to `url`, created through the operator layer; returns its id.
    func webhook(_ url: String = "http://receiver.test/hook", _ fields: [String: Any] = [:]) async throws -> String {
        var fields = fields
        fields["url"] = url
        let webhook = try await admin.createWebhook(fields)
        try await state.refreshWebhook(webhook.id)
        return webhook.id
    }

    /// The delivery of `webhook`'s one event, as the log holds it.
    func delivery(of webhook: String) async throws -> DeliveryRecord {
        let records = try await admin.deliveries(webhook: webhook, status: nil, since: nil, before: nil, limit: 10)
        try #require(records.count == 1, "expected one delivery of \(webhook), found \(records)")
        return records[0]
    }
}

extension TestClientProtocol {
    /// `POST /v1/events` with the test token (several events as NDJSON); returns the status.
    @discardableResult
    func postEvent(_ json: String, ndjson: Bool = false) async throws -> HTTPResponse.Status {
        try await execute(
            uri: "/v1/events", method: .post,
            headers: [.authorization: "Bearer \(ServeHarness.token)", .contentType: ndjson ? "application/x-ndjson" : "application/json"],
            body: ByteBuffer(string: json)
        ).status
    }
}

/// The next value of `stream`, or a test failure after `limit` (a guard against a hang, not a
/// time being measured: what is awaited comes within milliseconds). The limit is counted in
/// steps of 10 ms, not read off a clock: while the suite's blocking process tests hold every
/// cooperative thread (ARCHITECTURE §7) the count stops too, and a value that came meanwhile is
/// taken when the threads are free instead of racing an expired timer.
func next<T: Sendable>(_ stream: AsyncStream<T>, within limit: Duration = .seconds(20)) async throws -> T {
    let value = await withTaskGroup(of: T?.self) { group in
        group.addTask {
            var iterator = stream.makeAsyncIterator()
            return await iterator.next()
        }
        group.addTask {
            for _ in 0..<max(1, Int(limit / .milliseconds(10))) where !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(10))
            }
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
    return try #require(value, "nothing came within \(limit)")
}

struct NotReached: Error, CustomStringConvertible {
    let description: String
}

/// Waits until `condition` holds: what the dispatcher records after an attempt comes a moment
/// later. Fails after `limit` (a guard against a hang, not a measured time).
func eventually(_ what: String, within limit: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
    let end = ContinuousClock.now + limit
    while try await !condition() {
        guard ContinuousClock.now < end else { throw NotReached(description: "\(what) did not happen within \(limit)") }
        try await Task.sleep(for: .milliseconds(5))
    }
}

extension TestClientProtocol {
    /// A request to the API with the test token; returns the status.
    @discardableResult
    func api(_ method: HTTPRequest.Method, _ path: String, _ json: String? = nil) async throws -> HTTPResponse.Status {
        try await execute(
            uri: "/v1/" + path, method: method,
            headers: [.authorization: "Bearer \(ServeHarness.token)", .contentType: "application/json"],
            body: json.map { ByteBuffer(string: $0) }
        ).status
    }
}

/// An API answer: its status and its JSON object.
struct APIAnswer {
    var status: HTTPResponse.Status
    var object: [String: Any]

    subscript(key: String) -> Any? { object[key] }

    /// The object as compact JSON with sorted keys (an error's message with its quotes escaped).
    var text: String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

extension TestClientProtocol {
    /// A request to the API with the test token; returns the status and the JSON object answered.
    func call(
        _ method: HTTPRequest.Method, _ path: String, _ json: String? = nil, ndjson: Bool = false, token: String = ServeHarness.token
    ) async throws -> APIAnswer {
        let response = try await execute(
            uri: "/v1/" + path, method: method,
            headers: [.authorization: "Bearer \(token)", .contentType: ndjson ? "application/x-ndjson" : "application/json"],
            body: json.map { ByteBuffer(string: $0) })
        let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        return APIAnswer(status: response.status, object: try #require(object, "not a JSON object: \(String(buffer: response.body))"))
    }

    /// Makes the teams `ids` through the API with the test token.
    func makeTeams(_ ids: String...) async throws {
        for id in ids { #expect(try await call(.post, "teams", #"{"id":"\#(id)"}"#).status == .created) }
    }

    /// A new token made through the API by the test token from `fields` (its role, team, …):
    /// the secret, shown once, and its id.
    func newToken(_ fields: String) async throws -> (token: String, id: String) {
        let made = try await call(.post, "tokens", fields)
        #expect(made.status == .created, "\(made.object)")
        return (try #require(made["token"] as? String), try #require(made["id"] as? String))
    }
}

extension ServeConfiguration {
    /// The configuration a config file with `text` gives.
    static func fromTOML(_ text: String) throws -> ServeConfiguration {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-\(UUID().uuidString).toml").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var configuration = ServeConfiguration()
        try configuration.apply(file: path)
        return configuration
    }
}
