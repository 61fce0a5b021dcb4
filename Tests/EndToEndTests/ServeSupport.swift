import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// One answer of the `serve` API.
struct APIResponse: Sendable {
    var status: Int
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object, or nil.
    var object: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }

    /// The `error.message` of an error answer: `{"error":{"message":"…"}}`.
    var errorMessage: String? { (object?["error"] as? [String: Any])?["message"] as? String }

    subscript(_ key: String) -> Any? { object?[key] }

    func string(_ key: String) -> String? { object?[key] as? String }

    func int(_ key: String) -> Int? { object?[key] as? Int }
}

/// A webhook as created: its id and the secret the create response showed (that once).
struct CreatedWebhook: Sendable {
    var id: String
    var secret: String
}

/// The stderr of a `hookrelay serve` run, read as it is written so the pipe never fills.
private final class LogCapture: Sendable {
    private let state = Mutex<(text: String, ended: Bool)>(("", false))

    var text: String { state.withLock { $0.text } }
    var ended: Bool { state.withLock { $0.ended } }

    init(reading handle: FileHandle) {
        let thread = Thread { [self] in
            let descriptor = handle.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 8192)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                let chunk = String(decoding: buffer[0..<count], as: UTF8.self)
                state.withLock { $0.text += chunk }
            }
            try? handle.close()
            state.withLock { $0.ended = true }
        }
        thread.name = "serve-stderr"
        thread.start()
    }

    /// Waits until the writer closed the pipe (the process ended), at most `timeout` seconds.
    func waitForEnd(timeout: TimeInterval) async {
        let deadline = Date().addingTimeInterval(timeout)
        while !ended, Date() < deadline { try? await Task.sleep(for: .milliseconds(5)) }
    }
}

/// `hookrelay serve` on a temporary database and an ephemeral port of 127.0.0.1, with helpers
/// for its API, and ways to stop it (SIGTERM), kill it (SIGKILL) and start it again on the same
/// database.
final class ServeProcess: @unchecked Sendable {
    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// How a run ended.
    struct Exit {
        var status: Int32
        /// Seconds from the signal to the end of the process.
        var seconds: Double
        var timedOut: Bool
        var log: String
    }

    let scratch: ScratchDirectory
    let database: String
    let arguments: [String]
    /// The API token, given in `HOOKRELAY_TOKEN`; nil leaves the server to generate one.
    let token: String?
    private let session: URLSession
    private let lock = NSLock()
    private var process: Process?
    private var capture: LogCapture?
    /// The logs of the runs that ended, oldest first.
    private var earlierLogs: [String] = []
    private var listeningPort = 0

    /// The port this run listens on.
    var port: Int { lock.withLock { listeningPort } }

    /// A `serve` with `config` (a JSON object) written to a file, loopback http allowed unless
    /// `allowHTTP` is false, and `extra` flags; not started yet.
    /// `allowCIDR` replaces the loopback address allowed by default; `database` is another
    /// run's database, for two processes on one file.
    init(
        config: [String: any Sendable]? = nil, allowHTTP: Bool = true, extra: [String] = [],
        token: String? = "hrt_test_" + UUID().uuidString, allowCIDR: [String] = ["127.0.0.1/32"], database: String? = nil
    ) throws {
        self.token = token
        scratch = try ScratchDirectory()
        self.database = database ?? scratch.path("h.db")
        var arguments = ["serve", "--db", self.database, "--listen", "127.0.0.1:0"] + allowCIDR.flatMap { ["--allow-cidr", $0] }
        if allowHTTP { arguments.append("--allow-http") }
        if let config {
            let data = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
            arguments += ["--config", try scratch.file("serve.json", String(decoding: data, as: UTF8.self))]
        }
        self.arguments = arguments + extra
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 15
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration)
    }

    /// Starts `serve` (see ``init(config:allowHTTP:extra:)``) and waits until it listens.
    static func started(
        config: [String: any Sendable]? = nil, allowHTTP: Bool = true, extra: [String] = [],
        token: String? = "hrt_test_" + UUID().uuidString, allowCIDR: [String] = ["127.0.0.1/32"], database: String? = nil
    ) async throws -> ServeProcess {
        let server = try ServeProcess(
            config: config, allowHTTP: allowHTTP, extra: extra, token: token, allowCIDR: allowCIDR, database: database)
        try await server.start()
        return server
    }

    deinit {
        abandon()
        session.invalidateAndCancel()
    }

    /// SIGKILL without waiting, for the end of a test whatever happened in it.
    func abandon() {
        if let process = lock.withLock({ self.process }), process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    // Every wait below sleeps as a task instead of blocking a thread: the tests share a
    // cooperative pool as small as the machine's core count.

    /// Starts the binary (again, on the same database) and waits for its `listening` line.
    func start(timeout: TimeInterval = 60) async throws {
        let process = Process()
        process.executableURL = HookRelayProcess.binary
        process.arguments = arguments
        process.environment = HookRelayProcess.environment(adding: token.map { ["HOOKRELAY_TOKEN": $0] } ?? [:])
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.runWithSignalsUnblocked()
        // Only the child may hold the pipe's write end, or the reader never sees its end.
        try? errors.fileHandleForWriting.close()
        let capture = LogCapture(reading: errors.fileHandleForReading)
        lock.withLock {
            self.process = process
            self.capture = capture
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let port = Self.listeningPort(in: capture.text) {
                lock.withLock { listeningPort = port }
                return
            }
            if !process.isRunning {
                await capture.waitForEnd(timeout: 2)
                throw StartFailure(description: "hookrelay serve ended with status \(process.terminationStatus) before listening:\n\(capture.text)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        // Once more: a test process whose threads were all busy may wake past the deadline with the line there.
        if let port = Self.listeningPort(in: capture.text) {
            lock.withLock { listeningPort = port }
            return
        }
        Glibc.kill(process.processIdentifier, SIGKILL)
        throw StartFailure(description: "hookrelay serve did not report listening within \(timeout) s:\n\(capture.text)")
    }

    /// The port of the first `notice listening address=127.0.0.1:PORT` line.
    static func listeningPort(in log: String) -> Int? {
        for line in log.split(separator: "\n") where line.contains(" notice listening ") {
            guard let range = line.range(of: "address=127.0.0.1:") else { continue }
            let digits = line[range.upperBound...].prefix { $0.isNumber }
            return Int(digits)
        }
        return nil
    }

    /// This run's log so far.
    var log: String { lock.withLock { capture?.text ?? "" } }

    /// Every run's log, oldest first.
    var allLogs: String { lock.withLock { (earlierLogs + [capture?.text ?? ""]).joined() } }

    var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// The process id of this run, while it runs.
    var pid: Int32? { lock.withLock { process.flatMap { $0.isRunning ? $0.processIdentifier : nil } } }

    /// Sends `signal` (SIGSTOP, SIGCONT…) without waiting for anything.
    func send(_ signal: Int32) {
        if let pid { Glibc.kill(pid, signal) }
    }

    /// Sends `signal` and waits for the process to end; kills it after `timeout` seconds.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM, timeout: TimeInterval = 15) async -> Exit {
        let (process, capture) = lock.withLock { (self.process, self.capture) }
        guard let process, let capture else { return Exit(status: -1, seconds: 0, timedOut: false, log: "") }
        let started = Date()
        Glibc.kill(process.processIdentifier, signal)
        var timedOut = false
        while process.isRunning {
            if Date().timeIntervalSince(started) > timeout {
                timedOut = true
                Glibc.kill(process.processIdentifier, SIGKILL)
                break
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
        // Not running any more: this only reaps it.
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(started)
        await capture.waitForEnd(timeout: 5)
        let log = capture.text
        lock.withLock {
            earlierLogs.append(log)
            self.process = nil
            self.capture = nil
        }
        return Exit(status: process.terminationStatus, seconds: seconds, timedOut: timedOut, log: log)
    }

    /// `kill -9`, and waits for the process to be gone.
    @discardableResult
    func kill() async -> Exit { await stop(SIGKILL) }

    /// Starts again on the same database after a stop or kill.
    func restart() async throws {
        if isRunning { await kill() }
        try await start()
    }

    // MARK: Requests

    /// A request with `Authorization: Bearer TOKEN`, or with `authorization` as that header's
    /// value (nil: no header).
    func request(
        _ method: String, _ path: String, body: Data? = nil, contentType: String? = "application/json",
        authorization: String?? = .none
    ) async throws -> APIResponse {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { throw StartFailure(description: "bad path \(path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = body
        let header = authorization ?? token.map { "Bearer \($0)" }
        if let header { request.setValue(header, forHTTPHeaderField: "authorization") }
        if let contentType, body != nil { request.setValue(contentType, forHTTPHeaderField: "content-type") }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw StartFailure(description: "no HTTP response for \(method) \(path)") }
        return APIResponse(status: http.statusCode, body: data)
    }

    func get(_ path: String) async throws -> APIResponse { try await request("GET", path) }

    /// POSTs a JSON value given as an object.
    func post(_ path: String, json object: [String: any Sendable]) async throws -> APIResponse {
        try await request("POST", path, body: try JSONSerialization.data(withJSONObject: object))
    }

    /// POSTs one event as `application/json`, its bytes as given.
    func postEvent(_ event: String) async throws -> APIResponse {
        try await request("POST", "/v1/events", body: Data(event.utf8))
    }

    /// POSTs events as NDJSON, one a line.
    func postEvents(_ events: [String]) async throws -> APIResponse {
        try await request("POST", "/v1/events", body: Data(events.map { $0 + "\n" }.joined().utf8), contentType: "application/x-ndjson")
    }

    /// Creates a webhook for `receiver` (its URL unless `fields` gives one); requires a 201 with an id and secret.
    func createWebhook(
        _ receiver: Receiver?, _ fields: [String: any Sendable] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> CreatedWebhook {
        var fields = fields
        if let receiver, fields["url"] == nil { fields["url"] = receiver.url }
        let response = try await post("/v1/webhooks", json: fields)
        try #require(response.status == 201, "create webhook: \(response.status) \(response.text)", sourceLocation: sourceLocation)
        let id = try #require(response.string("id"), sourceLocation: sourceLocation)
        let secret = try #require(response.string("secret"), sourceLocation: sourceLocation)
        return CreatedWebhook(id: id, secret: secret)
    }

    /// `GET /v1/webhooks/{id}`.
    func webhook(_ id: String) async throws -> APIResponse { try await get("/v1/webhooks/\(id)") }

    /// Polls the webhook until its `state` is `state`; returns the last answer.
    @discardableResult
    func waitForState(_ id: String, _ state: String, timeout: TimeInterval = 5) async throws -> APIResponse {
        let deadline = Date().addingTimeInterval(timeout)
        var last = try await webhook(id)
        while last.string("state") != state, Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
            last = try await webhook(id)
        }
        return last
    }
}

/// A value shared by concurrent tasks of a test.
final class Shared<Value: Sendable>: Sendable {
    private let state: Mutex<Value>

    init(_ value: Value) { state = Mutex(value) }

    var value: Value { state.withLock { $0 } }

    func update(_ body: (inout Value) -> Void) { state.withLock { body(&$0) } }
}

/// Helpers of the `serve` tests.
enum Serve {
    /// Waits `seconds` without blocking a thread.
    static func pause(_ seconds: Double) async throws {
        try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
    }

    /// Waits until `condition` holds or `timeout` passed; returns whether it held.
    @discardableResult
    static func waitUntil(timeout: TimeInterval, _ condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < deadline else { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// Waits until `receiver` has `count` requests or `timeout` passed, and returns them all
    /// (``Receiver/waitFor(_:timeout:)`` without blocking a thread).
    @discardableResult
    static func waitFor(_ receiver: Receiver, _ count: Int, timeout: TimeInterval = 10) async throws -> [Receiver.Request] {
        try await waitUntil(timeout: timeout) { receiver.requests.count >= count }
        return receiver.requests
    }

    /// The number of key bytes of a `whsec_<base64>` secret, or nil when it is not base64.
    static func keyLength(of secret: String) -> Int? {
        Data(base64Encoded: String(secret.dropFirst("whsec_".count)))?.count
    }
}
