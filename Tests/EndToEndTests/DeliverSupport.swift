import Foundation
import Synchronization
import Testing

/// One NDJSON result line of `hookrelay deliver`.
struct DeliveryResult: Decodable, Equatable {
    var webhookID: String
    var url: String
    var status: String
    var attempts: Int
    var httpStatus: Int?
    var error: String?
    var latencyMilliseconds: Int?
    /// A suppressed pair's: the message that carried its key first (`--dedupe-window`).
    var ref: String?

    enum CodingKeys: String, CodingKey {
        case webhookID = "webhook_id", url, status, attempts, httpStatus = "http_status", error
        case latencyMilliseconds = "latency_ms", ref
    }

    static let keys: Set<String> = ["webhook_id", "url", "status", "attempts", "http_status", "error", "latency_ms"]
}

/// Shared arguments, secrets, events and checks of the `deliver` end-to-end tests.
enum Deliver {
    /// The Standard Webhooks test-vector secret (24 bytes).
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    /// A second secret (32 bytes 0x01…0x20), for rotation.
    static let otherSecret = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

    /// Small backoffs and a short attempt limit, so retries take milliseconds.
    static let fast = ["--backoff-base", "20ms", "--backoff-max", "1s", "--timeout", "1s"]
    /// Plain http to loopback only, as the tests' receivers listen there.
    static let loopback = ["--allow-http", "--allow-cidr", "127.0.0.1/32"]

    /// `deliver` to each receiver, with small backoffs, plain http to 127.0.0.1 allowed.
    static func arguments(_ receivers: Receiver..., extra: [String] = []) -> [String] {
        ["deliver"] + receivers.flatMap { ["--url", $0.url] } + loopback + fast + extra
    }

    /// Runs `hookrelay` with `input` on stdin and the given secret and variables. A `deliver`
    /// given no secret in any form is run `--unsigned`, as it must be asked to send unsigned.
    static func run(
        _ arguments: [String], input: String = "", secret: String? = nil, environment: [String: String] = [:],
        timeout: TimeInterval = 60
    ) throws -> HookRelayProcess.Result {
        var extra = environment
        if let secret { extra["HOOKRELAY_SECRET"] = secret }
        return try HookRelayProcess.run(
            unsignedUnlessSigned(arguments, environment: extra), stdin: Data(input.utf8),
            environment: HookRelayProcess.environment(adding: extra), timeout: timeout)
    }

    static func start(_ arguments: [String], input: String = "", secret: String? = nil) throws -> HookRelayProcess.Running {
        var extra: [String: String] = [:]
        if let secret { extra["HOOKRELAY_SECRET"] = secret }
        return try HookRelayProcess.start(
            unsignedUnlessSigned(arguments, environment: extra), stdin: Data(input.utf8),
            environment: HookRelayProcess.environment(adding: extra))
    }

    /// `arguments` with `--unsigned` added when they run `deliver` without any secret.
    static func unsignedUnlessSigned(_ arguments: [String], environment: [String: String]) -> [String] {
        guard arguments.first == "deliver", environment["HOOKRELAY_SECRET"] == nil,
              !arguments.contains(where: { ["--secret", "--secret-file", "--unsigned", "--print-schedule"].contains($0) })
        else { return arguments }
        return arguments + ["--unsigned"]
    }

    /// `count` finding events with ids `<prefix>-0` … as NDJSON.
    static func events(_ count: Int, prefix: String = "evt") -> [String] {
        (0..<count).map { #"{"event_type":"finding","id":"\#(prefix)-\#($0)","finding":{"severity":"high","title":"t\#($0)"}}"# }
    }

    static func ndjson(_ events: [String]) -> String { events.map { $0 + "\n" }.joined() }

    /// The result lines of a run, each checked to be a JSON object with exactly the documented keys.
    static func results(_ result: HookRelayProcess.Result, sourceLocation: SourceLocation = #_sourceLocation) throws -> [DeliveryResult] {
        try result.lines.map { line in
            let data = Data(line.utf8)
            let object = try #require(
                try JSONSerialization.jsonObject(with: data) as? [String: Any], "not a JSON object: \(line)",
                sourceLocation: sourceLocation)
            let keys = object["status"] as? String == "suppressed" ? DeliveryResult.keys.union(["ref"]) : DeliveryResult.keys
            #expect(Set(object.keys) == keys, "\(line)", sourceLocation: sourceLocation)
            return try JSONDecoder().decode(DeliveryResult.self, from: data)
        }
    }

    /// The `webhook-id`s the receiver saw, in order of arrival.
    static func ids(_ requests: some Sequence<Receiver.Request>) -> [String] { requests.map { $0.headers["webhook-id"] ?? "" } }

    /// How often each id arrived.
    static func tally(_ requests: some Sequence<Receiver.Request>) -> [String: Int] {
        ids(requests).reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }
}

/// A value a receiver's answer depends on, changed by the test while it runs.
final class Setting<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func get() -> Value { value.withLock { $0 } }
    func set(_ new: Value) { value.withLock { $0 = new } }
}

/// An independent implementation of the signatures, in Python's standard library.
enum Python {
    /// Runs `python3 -c script arguments…` and returns its standard output without the final newline.
    static func run(_ script: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailure(status: process.terminationStatus)
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
    }

    struct PythonFailure: Error { let status: Int32 }

    /// Writes `body` to a file Python reads, so its bytes pass unchanged.
    private static func withBodyFile<T>(_ body: [UInt8], _ work: (String) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-body-\(UUID().uuidString)").path
        try Data(body).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try work(path)
    }

    /// `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with the base64-decoded secret.
    static func standardSignature(secret: String, id: String, timestamp: String, body: [UInt8]) throws -> String {
        let script = """
            import sys, hmac, hashlib, base64
            secret, msg_id, ts, path = sys.argv[1:5]
            if secret.startswith("whsec_"): secret = secret[len("whsec_"):]
            key = base64.b64decode(secret)
            body = open(path, "rb").read()
            mac = hmac.new(key, msg_id.encode() + b"." + ts.encode() + b"." + body, hashlib.sha256).digest()
            print("v1," + base64.b64encode(mac).decode())
            """
        return try withBodyFile(body) { try run(script, [secret, id, timestamp, $0]) }
    }

    /// Verifies a received request with the reference library (PyPI `standardwebhooks`, which
    /// .ci/run installs): prints "ok", or the library's error and exits 1.
    static func referenceVerify(secret: String, headers: [String: String], body: [UInt8]) throws -> String {
        let script = """
            import sys
            from standardwebhooks.webhooks import Webhook
            secret, msg_id, ts, signature, path = sys.argv[1:6]
            headers = {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": signature}
            try:
                Webhook(secret).verify(open(path, "rb").read(), headers)
                print("ok")
            except Exception as error:
                print(type(error).__name__, error)
            """
        let arguments = ["webhook-id", "webhook-timestamp", "webhook-signature"].map { headers[$0] ?? "" }
        return try withBodyFile(body) { try run(script, [secret] + arguments + [$0]) }
    }

    /// `sha256=` + hex HMAC-SHA256 of the body keyed with the secret's text (GitHub's scheme).
    static func githubSignature(secret: String, body: [UInt8]) throws -> String {
        let script = """
            import sys, hmac, hashlib
            print("sha256=" + hmac.new(sys.argv[1].encode(), open(sys.argv[2], "rb").read(), hashlib.sha256).hexdigest())
            """
        return try withBodyFile(body) { try run(script, [secret, $0]) }
    }

    /// `msg_` + the first 32 hex digits of SHA-256 of the body.
    static func hashID(body: [UInt8]) throws -> String {
        let script = """
            import sys, hashlib
            print("msg_" + hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()[:32])
            """
        return try withBodyFile(body) { try run(script, [$0]) }
    }
}
