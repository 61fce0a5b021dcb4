import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// What a pipe carries, read on a thread of its own as it is written, so the writer never
/// blocks and a test sees each line when it is flushed.
final class PipeCapture: Sendable {
    private let state = Mutex<(data: Data, ended: Bool)>((Data(), false))

    var data: Data { state.withLock { $0.data } }
    var text: String { String(decoding: data, as: UTF8.self) }
    var ended: Bool { state.withLock { $0.ended } }
    /// The complete lines so far, without their newlines.
    var lines: [String] { text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }

    init(reading handle: FileHandle, name: String) {
        let thread = Thread { [self] in
            let descriptor = handle.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 8192)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                state.withLock { $0.data.append(contentsOf: buffer[0..<count]) }
            }
            try? handle.close()
            state.withLock { $0.ended = true }
        }
        thread.name = name
        thread.start()
    }
}

/// `hookrelay receive --listen 127.0.0.1:0` with its standard output and error read as they
/// come, and a small HTTP client to send it requests.
final class ReceiveProcess: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible { var description: String }

    let process = Process()
    let output: PipeCapture
    let errors: PipeCapture
    private(set) var port = 0
    private let session: URLSession

    /// The URL webhooks are sent to.
    var url: String { "http://127.0.0.1:\(port)/hooks" }

    /// Starts `hookrelay receive ARGUMENTS --listen 127.0.0.1:0` and waits for its `listening on` line.
    /// `closeOutput` closes the reading end of standard output at once (a consumer that went away).
    init(_ arguments: [String], environment: [String: String] = [:], closeOutput: Bool = false) async throws {
        process.executableURL = HookRelayProcess.binary
        process.arguments = ["receive"] + arguments + ["--listen", "127.0.0.1:0"]
        process.environment = HookRelayProcess.environment(adding: environment)
        process.standardInput = FileHandle.nullDevice
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.runWithSignalsUnblocked()
        // Only the child may hold the write ends, or the readers never see their end.
        try? stdout.fileHandleForWriting.close()
        try? stderr.fileHandleForWriting.close()
        if closeOutput { try? stdout.fileHandleForReading.close() }
        output = PipeCapture(reading: closeOutput ? Self.emptyPipe() : stdout.fileHandleForReading, name: "receive-stdout")
        errors = PipeCapture(reading: stderr.fileHandleForReading, name: "receive-stderr")
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 15
        session = URLSession(configuration: configuration)

        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let port = Self.listeningPort(in: errors.text) {
                self.port = port
                return
            }
            if !process.isRunning {
                throw Failure(description: "hookrelay receive ended with status \(process.terminationStatus) before listening:\n\(errors.text)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        // Once more: a test process whose threads were all busy may wake past the deadline with the line there.
        if let port = Self.listeningPort(in: errors.text) {
            self.port = port
            return
        }
        kill(process.processIdentifier, SIGKILL)
        throw Failure(description: "hookrelay receive did not report listening within 60 s:\n\(errors.text)")
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        session.invalidateAndCancel()
    }

    /// The reading end of a pipe nobody writes to.
    private static func emptyPipe() -> FileHandle {
        let pipe = Pipe()
        try? pipe.fileHandleForWriting.close()
        return pipe.fileHandleForReading
    }

    /// The port of `hookrelay: listening on 127.0.0.1:PORT`.
    static func listeningPort(in text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("hookrelay: listening on 127.0.0.1:") {
            return Int(line.dropFirst("hookrelay: listening on 127.0.0.1:".count))
        }
        return nil
    }

    /// Waits until standard output holds `count` lines, at most `timeout` seconds; returns them all.
    @discardableResult
    func waitForLines(_ count: Int, timeout: TimeInterval = 10) async throws -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        while output.lines.count < count, Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return output.lines
    }

    /// Waits until standard error contains `text`, at most `timeout` seconds; returns whether it did.
    @discardableResult
    func waitForError(containing text: String, timeout: TimeInterval = 10) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !errors.text.contains(text) {
            guard Date() < deadline else { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// Sends `signal` and waits for the end; kills after `timeout` seconds. Returns the status
    /// (nil when it had to be killed).
    func stop(_ signal: Int32 = SIGTERM, timeout: TimeInterval = 15) async -> Int32? {
        kill(process.processIdentifier, signal)
        return await waitForExit(timeout: timeout)
    }

    /// Waits for the process to end by itself; kills it after `timeout` seconds (then nil).
    func waitForExit(timeout: TimeInterval = 15) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        process.waitUntilExit()
        // Let the readers take what is left in the pipes.
        let end = Date().addingTimeInterval(5)
        while !errors.ended || !output.ended, Date() < end { try? await Task.sleep(for: .milliseconds(5)) }
        return process.terminationStatus
    }

    /// Sends a request to `path` and returns its status and response headers.
    func send(
        _ body: [UInt8], headers: [String: String], method: String = "POST", path: String = "/hooks"
    ) async throws -> (status: Int, headers: [String: String]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if method != "GET" { request.httpBody = Data(body) }
        request.setValue("application/json", forHTTPHeaderField: "content-type")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (_, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw Failure(description: "no HTTP response") }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return (http.statusCode, fields)
    }

    /// Sends `body` signed per Standard Webhooks with `secret` (by Python's hmac, an independent
    /// implementation), with `id` and `timestamp` (default now).
    func sendSigned(
        _ body: String, secret: String, id: String, timestamp: Int64 = Int64(Date().timeIntervalSince1970)
    ) async throws -> Int {
        let bytes = Array(body.utf8)
        let signature = try Python.standardSignature(secret: secret, id: id, timestamp: String(timestamp), body: bytes)
        return try await send(bytes, headers: ["webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature]).status
    }
}

/// Secrets of the receive tests, in `whsec_` form.
enum ReceiveSecrets {
    /// A secret neither sender knows: 32 bytes of 0x42.
    static let stranger = "whsec_" + Data(repeating: 0x42, count: 32).base64EncodedString()

    /// A file holding `secrets`, one a line, in `scratch`.
    static func file(_ secrets: [String], in scratch: ScratchDirectory, name: String = "secrets") throws -> String {
        try scratch.file(name, secrets.map { $0 + "\n" }.joined())
    }
}
