import Foundation

/// Validators from outside this project (Slack's SDK, the Adaptive Card schema, GitHub's
/// cmark-gfm) run through python3. A test that needs one is skipped, saying which package is
/// missing, only outside CI: with `CI` set it runs, and a missing package fails it.
enum OutsideValidator {
    static let isCI: Bool = {
        let value = ProcessInfo.processInfo.environment["CI"] ?? ""
        return !value.isEmpty && value != "0" && value.lowercased() != "false"
    }()

    /// Whether a test needing the Python `module` should run.
    static func canRun(_ module: String) -> Bool {
        isCI || (try? python("import \(module)", input: [])).map { $0.status == 0 } == true
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `script` with `lines` as its standard input, one a line; throws with what it printed
    /// when it exits non-zero.
    @discardableResult
    static func run(_ script: String, lines: [[UInt8]]) throws -> String {
        let result = try python(script, input: Array(lines.joined(separator: [0x0A])) + [0x0A])
        guard result.status == 0 else {
            throw Failure(description: "python3 exited \(result.status):\n\(result.output)")
        }
        return result.output
    }

    /// Standard input and output go through files, so neither side can block on a full pipe.
    private static func python(_ script: String, input: [UInt8]) throws -> (status: Int32, output: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-validator-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputURL = directory.appendingPathComponent("in")
        let outputURL = directory.appendingPathComponent("out")
        try Data(input).write(to: inputURL)
        try Data().write(to: outputURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        process.standardInput = try FileHandle(forReadingFrom: inputURL)
        let output = try FileHandle(forWritingTo: outputURL)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        try output.close()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: outputURL), as: UTF8.self))
    }
}
