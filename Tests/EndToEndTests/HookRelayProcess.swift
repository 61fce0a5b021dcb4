import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `hookrelay` binary through `Process`, as a user's shell would.
struct HookRelayProcess {
    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
        /// The process was killed because it outlived the `timeout` it was run with.
        var timedOut = false
        var output: String { String(decoding: stdout, as: UTF8.self) }
        var lines: [String] { output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
    }

    /// The binary SwiftPM built next to the test bundle, or `HOOKRELAY_BIN`.
    static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["HOOKRELAY_BIN"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("hookrelay")
    }()

    /// The test runner's environment without `HOOKRELAY_SECRET` and `HOOKRELAY_TOKEN`, with `extra` added: what a
    /// user's shell passes on, so `${VAR}` expansion and secrets are under the test's control.
    static func environment(adding extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["HOOKRELAY_SECRET"] = nil
        environment["HOOKRELAY_TOKEN"] = nil
        environment.merge(extra) { _, new in new }
        return environment
    }

    /// A started `hookrelay` that can be waited for or killed.
    final class Running {
        let process = Process()
        private let directory: URL
        private let outputURL: URL
        private let errorsURL: URL

        fileprivate init(_ arguments: [String], stdin: Data, environment: [String: String]?) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-e2e-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let input = directory.appendingPathComponent("stdin")
            outputURL = directory.appendingPathComponent("stdout")
            errorsURL = directory.appendingPathComponent("stderr")
            try stdin.write(to: input)
            _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errorsURL.path, contents: nil)

            process.executableURL = HookRelayProcess.binary
            process.arguments = arguments
            if let environment { process.environment = environment }
            process.standardInput = try FileHandle(forReadingFrom: input)
            process.standardOutput = try FileHandle(forWritingTo: outputURL)
            process.standardError = try FileHandle(forWritingTo: errorsURL)
            try process.runWithSignalsUnblocked()
        }

        deinit {
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(at: directory)
        }

        /// What the process has written to standard error so far.
        var stderrSoFar: String { String(decoding: (try? Data(contentsOf: errorsURL)) ?? Data(), as: UTF8.self) }

        /// Sends `signal` (SIGKILL by default) to the process.
        func kill(_ signal: Int32 = SIGKILL) {
            _ = Glibc.kill(process.processIdentifier, signal)
        }

        /// Waits for the process to end; kills it after `timeout` seconds so a hang fails the
        /// test instead of stalling the suite.
        func wait(timeout: TimeInterval = 60) throws -> Result {
            let deadline = Date().addingTimeInterval(timeout)
            var timedOut = false
            while process.isRunning {
                if Date() > deadline {
                    timedOut = true
                    kill()
                    break
                }
                usleep(5_000)
            }
            process.waitUntilExit()
            return Result(
                status: process.terminationStatus,
                stdout: try Data(contentsOf: outputURL),
                stderr: String(decoding: try Data(contentsOf: errorsURL), as: UTF8.self),
                timedOut: timedOut)
        }
    }

    /// Starts `hookrelay` with `stdin` as standard input (through a file, so large inputs cannot deadlock).
    static func start(_ arguments: [String], stdin: Data = Data(), environment: [String: String]? = nil) throws -> Running {
        try Running(arguments, stdin: stdin, environment: environment)
    }

    /// Runs with `stdin` as standard input (through a file, so large inputs cannot deadlock).
    static func run(
        _ arguments: [String], stdin: Data = Data(), environment: [String: String]? = nil, timeout: TimeInterval = 60
    ) throws -> Result {
        try start(arguments, stdin: stdin, environment: environment).wait(timeout: timeout)
    }

    static func run(_ arguments: [String], stdin: String) throws -> Result {
        try run(arguments, stdin: Data(stdin.utf8))
    }
}

/// A scratch directory removed when the test ends.
final class ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String, _ contents: String) throws -> String {
        let path = url.appendingPathComponent(name).path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

extension Process {
    /// `run()`, with no signal blocked in the child. A child inherits the signal mask of the
    /// thread that starts it, and the test runner's threads block SIGTERM, SIGINT, SIGHUP and
    /// more: a program started with them blocked, and whatever it starts (a README block's
    /// `python3 … &`), would sit through `kill` as no program started from a shell does.
    func runWithSignalsUnblocked() throws {
        var all = sigset_t()
        var previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_UNBLOCK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        try run()
    }

    /// Whether the process has ended, told by /proc (its state is Z until it is reaped or it is
    /// gone): `isRunning` stays true until every process holding Foundation's end-of-process
    /// socket, which its children inherit, has ended too.
    var hasEnded: Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(processIdentifier)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return !isRunning }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}
