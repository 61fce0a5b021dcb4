import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The torture suite (issue 7): its tests run one at a time, beside the rest of the suite, so that
/// their timings (leases, latencies, timeouts) do not depend on each other's load.
@Suite(.serialized) struct TortureSuite {}

/// Settings and helpers of the torture suite (issue 7): a short run by default, as CI runs it,
/// and a long one when the environment has `HOOKRELAY_TORTURE=long` (`bash bench/torture.sh`).
/// Every test prints its figures on one line starting with `torture:`.
enum Torture {
    static let long = ProcessInfo.processInfo.environment["HOOKRELAY_TORTURE"] == "long"

    /// `short` in CI, `long` in the long run.
    static func scale<T>(_ short: T, long: T) -> T { Self.long ? long : short }

    /// Prints a test's figures, on one line that `bench/torture.sh` collects.
    static func report(_ line: String) {
        print("torture: \(line)")
    }

    static func megabytes(kilobytes: Int) -> String { String(format: "%.1f MB", Double(kilobytes) / 1024) }

    static func milliseconds(_ seconds: Double) -> String { String(format: "%.0f ms", seconds * 1000) }

    /// The `p` quantile (0…1) of `values`, nearest rank.
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    /// The peak resident set size of a running process (`VmHWM` of /proc/PID/status) in KiB.
    static func peakRSS(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// Runs `hookrelay` to its end without blocking a thread; the result has its exact peak RSS.
    static func run(
        _ arguments: [String], stdin: Data = Data(), secret: String? = nil, timeout: TimeInterval = 120
    ) async throws -> WatchedProcess.Result {
        try await WatchedProcess.hookrelay(arguments, stdin: stdin, secret: secret, measuringPeak: true).wait(timeout: timeout)
    }
}

/// A child process (`hookrelay`, `python3`) whose standard streams are files, waited for without
/// blocking a thread, with its peak RSS sampled while it runs.
final class WatchedProcess: @unchecked Sendable {
    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
        var timedOut: Bool
        /// The largest VmHWM seen while it ran, in KiB (0: never sampled).
        var peakKilobytes: Int
        var seconds: Double
        var output: String { String(decoding: stdout, as: UTF8.self) }
        var lines: [String] { output.split(separator: "\n").map(String.init) }
        /// Ended by SIGKILL (Foundation reports the signal number as the status).
        var killed: Bool { status == SIGKILL || status == 128 + SIGKILL }

        /// As the result of ``HookRelayProcess``, for the helpers that read one.
        var plain: HookRelayProcess.Result { HookRelayProcess.Result(status: status, stdout: stdout, stderr: stderr, timedOut: timedOut) }
    }

    let process = Process()
    let scratch: ScratchDirectory
    private let outputURL: URL
    private let errorsURL: URL
    private let started = Date()
    private let peak = Mutex(0)
    /// Where ``peakWrapper`` writes the child's peak RSS, when the process is run through it.
    private var peakFile: String?

    /// Runs `argv[2:]` as its child and writes the child's peak RSS (`ru_maxrss` of `wait4`, KiB)
    /// to `argv[1]`, then ends as the child did. Sampling VmHWM misses the peak of a process that
    /// ends between two samples; this does not. The child dies with the wrapper (PDEATHSIG).
    static let peakWrapper = """
        import ctypes, os, signal, sys
        peak, argv = sys.argv[1], sys.argv[2:]
        pid = os.fork()
        if pid == 0:
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            os.execv(argv[0], argv)
        _, status, usage = os.wait4(pid, 0)
        with open(peak, "w") as f:
            f.write(str(usage.ru_maxrss))
        if os.WIFSIGNALED(status):
            signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
            os.kill(os.getpid(), os.WTERMSIG(status))
        sys.exit(os.WEXITSTATUS(status))
        """

    init(executable: URL, arguments: [String], stdin: Data = Data(), stdinFile: String? = nil, environment: [String: String]? = nil) throws {
        scratch = try ScratchDirectory()
        outputURL = scratch.url.appendingPathComponent("stdout")
        errorsURL = scratch.url.appendingPathComponent("stderr")
        let input = stdinFile ?? scratch.path("stdin")
        if stdinFile == nil { try stdin.write(to: URL(fileURLWithPath: input)) }
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorsURL.path, contents: nil)
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: input))
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorsURL)
        try process.runWithSignalsUnblocked()
    }

    deinit {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    /// `hookrelay` with `stdin` (or the file `stdinFile`) as its input and `secret` as `HOOKRELAY_SECRET`;
    /// `measuringPeak` runs it through ``peakWrapper`` (signals then reach the wrapper, not hookrelay).
    static func hookrelay(
        _ arguments: [String], stdin: Data = Data(), stdinFile: String? = nil, secret: String? = nil, measuringPeak: Bool = false
    ) throws -> WatchedProcess {
        let environment = HookRelayProcess.environment(adding: secret.map { ["HOOKRELAY_SECRET": $0] } ?? [:])
        guard measuringPeak else {
            return try WatchedProcess(
                executable: HookRelayProcess.binary, arguments: arguments, stdin: stdin, stdinFile: stdinFile, environment: environment)
        }
        let peakFile = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-peak-\(UUID().uuidString)").path
        let process = try WatchedProcess(
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: ["python3", "-c", peakWrapper, peakFile, HookRelayProcess.binary.path] + arguments, stdin: stdin,
            stdinFile: stdinFile, environment: environment)
        process.peakFile = peakFile
        return process
    }

    /// `python3 -c script arguments…`.
    static func python(_ script: String, _ arguments: [String] = []) throws -> WatchedProcess {
        try WatchedProcess(executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: ["python3", "-c", script] + arguments)
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var peakKilobytes: Int { peak.withLock { $0 } }

    /// What it wrote so far.
    var stdoutSoFar: String { String(decoding: (try? Data(contentsOf: outputURL)) ?? Data(), as: UTF8.self) }
    var stderrSoFar: String { String(decoding: (try? Data(contentsOf: errorsURL)) ?? Data(), as: UTF8.self) }

    func send(_ signal: Int32) { if process.isRunning { Glibc.kill(pid, signal) } }

    /// Reads VmHWM now (of the wrapper, when there is one: useless, so not read).
    func sample() {
        guard peakFile == nil, process.isRunning, let value = Torture.peakRSS(pid: pid) else { return }
        peak.withLock { $0 = max($0, value) }
    }

    /// Waits for the end, sampling the peak RSS every 20 ms; kills the process after `timeout`.
    func wait(timeout: TimeInterval = 120) async throws -> Result {
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            sample()
            if Date() > deadline {
                timedOut = true
                Glibc.kill(pid, SIGKILL)
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(5)) }
        // Not running any more: this only reaps it.
        process.waitUntilExit()
        if let peakFile {
            if let text = try? String(contentsOfFile: peakFile, encoding: .utf8), let value = Int(text) { peak.withLock { $0 = value } }
            try? FileManager.default.removeItem(atPath: peakFile)
        }
        return Result(
            status: process.terminationStatus, stdout: try Data(contentsOf: outputURL),
            stderr: String(decoding: try Data(contentsOf: errorsURL), as: UTF8.self), timedOut: timedOut,
            peakKilobytes: peakKilobytes, seconds: Date().timeIntervalSince(started))
    }

    /// SIGKILL, and waits for it to be gone.
    @discardableResult
    func kill() async throws -> Result {
        send(SIGKILL)
        return try await wait(timeout: 30)
    }
}

/// SQLite checks through Python's `sqlite3` module (CI has python3, not the sqlite3 shell).
enum SQLiteCheck {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Runs `sql` on the database and returns the rows as JSON arrays.
    static func rows(_ database: String, _ sql: String) async throws -> [[Any]] {
        let script = """
            import json, sqlite3, sys
            con = sqlite3.connect(sys.argv[1], timeout=30)
            rows = con.execute(sys.argv[2]).fetchall()
            con.close()
            print(json.dumps([list(r) for r in rows]))
            """
        let result = try await WatchedProcess.python(script, [database, sql]).wait(timeout: 120)
        guard result.status == 0 else { throw Failure(description: "python3 sqlite3 (\(sql)): \(result.stderr)") }
        return (try JSONSerialization.jsonObject(with: result.stdout) as? [[Any]]) ?? []
    }

    /// The first column of the first row, as text.
    static func scalar(_ database: String, _ sql: String) async throws -> String {
        guard let value = try await rows(database, sql).first?.first else { return "" }
        return "\(value)"
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    static func integrity(_ database: String) async throws -> String {
        try await rows(database, "PRAGMA integrity_check").map { "\($0.first ?? "")" }.joined(separator: "; ")
    }
}

/// Raw HTTP/1.1 on a socket of 127.0.0.1, for requests `URLSession` will not make (a chunked
/// body, one cut off). Runs on a thread of its own, so the waiting blocks no task.
enum RawHTTP {
    struct Exchange: Sendable {
        /// Everything the server sent before closing (or before `timeout`).
        var response: String
        /// The status code of the response, if one came.
        var status: Int? {
            guard response.hasPrefix("HTTP/1.1 ") else { return nil }
            return Int(response.dropFirst(9).prefix(3))
        }
        var body: String { response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }
        /// A write failed (the server closed or reset the connection while the request was sent).
        var writeError: String?
    }

    /// Connects to 127.0.0.1:`port`, writes `parts` one after another (with `pause` seconds between
    /// them), and reads until the server closes the connection or `timeout` passes; with
    /// `abandon`, closes right after writing instead of reading.
    static func exchange(port: Int, parts: [Data], pause: TimeInterval = 0, abandon: Bool = false, timeout: TimeInterval = 30) async -> Exchange {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: blockingExchange(port: port, parts: parts, pause: pause, abandon: abandon, timeout: timeout))
            }
            thread.name = "raw-http"
            thread.start()
        }
    }

    private static func blockingExchange(port: Int, parts: [Data], pause: TimeInterval, abandon: Bool, timeout: TimeInterval) -> Exchange {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return Exchange(response: "", writeError: "socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return Exchange(response: "", writeError: "connect: \(errno)") }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var writeError: String?
        // As an HTTP client does: stop sending once the server answers (a 413 before the body
        // ends; the server then stops reading, and sending would block).
        outer: for (index, part) in parts.enumerated() {
            if index > 0, pause > 0 { usleep(UInt32(pause * 1_000_000)) }
            var offset = 0
            while offset < part.count {
                var ready = pollfd(fd: fd, events: Int16(POLLIN | POLLOUT), revents: 0)
                guard poll(&ready, 1, Int32(timeout * 1000)) > 0 else {
                    writeError = "the server read nothing for \(timeout) s"
                    break outer
                }
                if ready.revents & Int16(POLLIN) != 0 { break outer }
                let sent = part.withUnsafeBytes {
                    send(fd, $0.baseAddress! + offset, min(part.count - offset, 65536), Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                }
                if sent < 0, errno == EAGAIN { continue }
                if sent <= 0 {
                    writeError = String(cString: strerror(errno))
                    break outer
                }
                offset += sent
            }
        }
        if abandon { return Exchange(response: "", writeError: writeError) }
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return Exchange(response: String(decoding: received, as: UTF8.self), writeError: writeError)
    }

    /// A request head with the given headers and `Connection: close`.
    static func head(_ method: String, _ path: String, port: Int, headers: [String]) -> Data {
        Data((["\(method) \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Connection: close"] + headers + ["", ""]).joined(separator: "\r\n").utf8)
    }

    /// `data` as one chunk of a chunked body.
    static func chunk(_ data: Data) -> Data {
        Data(String(data.count, radix: 16).utf8) + Data("\r\n".utf8) + data + Data("\r\n".utf8)
    }

    static let lastChunk = Data("0\r\n\r\n".utf8)

    /// POSTs `count` bodies (`body(index)`) to `path` of 127.0.0.1:`port` on `lanes` keep-alive
    /// connections, each driven by a thread of its own (URLSession on Linux manages a few hundred
    /// requests a second; this, thousands). Returns how many requests got each status (0: no
    /// answer) and the first few answers that were not 202.
    static func postMany(
        port: Int, path: String, headers: [String], count: Int, lanes: Int, body: @escaping @Sendable (Int) -> String
    ) async -> (statuses: [Int: Int], failures: [String]) {
        await withTaskGroup(of: ([Int: Int], [String]).self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        let thread = Thread {
                            var statuses: [Int: Int] = [:]
                            var failures: [String] = []
                            var connection: KeepAlive?
                            for index in stride(from: lane, to: count, by: lanes) {
                                let payload = Data(body(index).utf8)
                                let head = (["POST \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Content-Length: \(payload.count)"] + headers + ["", ""])
                                    .joined(separator: "\r\n")
                                if connection == nil { connection = KeepAlive(port: port) }
                                let (status, text) = connection?.exchange(Data(head.utf8) + payload) ?? (0, "cannot connect")
                                statuses[status, default: 0] += 1
                                if status != 202 {
                                    if failures.count < 5 { failures.append("\(status) \(text)") }
                                    connection = nil
                                }
                            }
                            continuation.resume(returning: (statuses, failures))
                        }
                        thread.name = "post-many"
                        thread.start()
                    }
                }
            }
            var statuses: [Int: Int] = [:]
            var failures: [String] = []
            for await (laneStatuses, laneFailures) in group {
                statuses.merge(laneStatuses, uniquingKeysWith: +)
                failures += laneFailures
            }
            return (statuses, failures)
        }
    }

    /// One blocking keep-alive connection; responses must carry Content-Length (Hummingbird's do).
    final class KeepAlive {
        private let fd: Int32
        private var pending = [UInt8]()

        init?(port: Int) {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return nil }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            var wait = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            guard connected == 0 else {
                close(fd)
                return nil
            }
        }

        deinit { close(fd) }

        /// Sends `request` and reads one response: its status and body (status 0: none came).
        func exchange(_ request: Data) -> (Int, String) {
            var offset = 0
            while offset < request.count {
                let sent = request.withUnsafeBytes { send(fd, $0.baseAddress! + offset, request.count - offset, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { return (0, "send: \(String(cString: strerror(errno)))") }
                offset += sent
            }
            let separator: [UInt8] = Array("\r\n\r\n".utf8)
            var headEnd: Int?
            while headEnd == nil {
                headEnd = pending.indices.dropLast(3).first { pending[$0..<$0 + 4].elementsEqual(separator) }
                if headEnd == nil, !fill() { return (0, "the connection closed before a response") }
            }
            let head = String(decoding: pending[..<headEnd!], as: UTF8.self)
            let status = Int(head.dropFirst(9).prefix(3)) ?? 0
            let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            let bodyStart = headEnd! + 4
            while pending.count < bodyStart + length {
                if !fill() { return (0, "the connection closed inside a response") }
            }
            let body = String(decoding: pending[bodyStart..<bodyStart + length], as: UTF8.self)
            pending.removeFirst(bodyStart + length)
            return (status, body)
        }

        private func fill() -> Bool {
            var buffer = [UInt8](repeating: 0, count: 16384)
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { return false }
            pending += buffer[0..<count]
            return true
        }
    }
}

extension ServeProcess {
    /// `hookrelay_queue_depth` from `/metrics`: pending deliveries, due or waiting.
    func queueDepth() async throws -> Int? {
        let text = try await get("/metrics").text
        for line in text.split(separator: "\n") where line.hasPrefix("hookrelay_queue_depth ") {
            return Double(line.split(separator: " ").last ?? "").map { Int($0) }
        }
        return nil
    }

    /// The largest VmHWM of the running process seen by the sampling task started here, in KiB.
    /// Samples every 20 ms until the returned task is cancelled.
    func samplePeakRSS(into peak: Shared<Int>) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                if let pid, let value = Torture.peakRSS(pid: pid) { peak.update { $0 = max($0, value) } }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }
}
