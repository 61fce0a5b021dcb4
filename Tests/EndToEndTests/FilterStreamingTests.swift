import Foundation
import Testing

/// `filter` as a pipeline stage: paused input, a reader that goes away, the conformance corpus.
@Suite struct FilterStreamingTests {
    /// Reads from `handle` until `count` newline-terminated lines arrived or `timeout` passed.
    static func readLines(_ handle: FileHandle, count: Int, timeout: TimeInterval) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var data = Data()
        let fd = handle.fileDescriptor
        while data.filter({ $0 == 0x0A }).count < count, Date() < deadline {
            var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pollfd, 1, 100) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The binary run with `arguments`, its standard input and output pipes kept open.
    static func start(_ arguments: [String]) throws -> (process: Process, stdin: Pipe, stdout: Pipe) {
        let process = Process()
        process.executableURL = HookRelayProcess.binary
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, stdin, stdout)
    }

    @Test func matchesAreOnStdoutWhileTheInputPauses() throws {
        let (process, stdin, stdout) = try Self.start(["filter", "--event", "finding"])
        defer { process.terminate() }

        let first = #"{"event_type":"finding","id":"1"}"#
        stdin.fileHandleForWriting.write(Data((first + "\n" + #"{"event_type":"other"}"# + "\n").utf8))
        // The input stays open: the match must arrive without more input or EOF.
        #expect(Self.readLines(stdout.fileHandleForReading, count: 1, timeout: 10) == first + "\n")

        let second = #"{"event_type":"finding","id":"2"}"#
        stdin.fileHandleForWriting.write(Data((second + "\n").utf8))
        #expect(Self.readLines(stdout.fileHandleForReading, count: 1, timeout: 10) == second + "\n")
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func closedOutputPipeEndsQuietly() throws {
        let scratch = try ScratchDirectory()
        let line = #"{"event_type":"finding","finding":{"severity":"high","title":"x"}}"# + "\n"
        let input = try scratch.file("big.ndjson", String(repeating: line, count: 200_000))
        let process = Process()
        process.executableURL = HookRelayProcess.binary
        process.arguments = ["filter", input]
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        #expect(Self.readLines(stdout.fileHandleForReading, count: 1, timeout: 10).hasPrefix(line))
        try stdout.fileHandleForReading.close()  // like `| head -1`
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        #expect(stderr.fileHandleForReading.readDataToEndOfFile().isEmpty)
    }

    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("HookRelayCoreTests/Fixtures/json-test-suite/test_parsing")

    /// Documents that are invalid only because they hold no value at all: as a stream they are
    /// zero records, which is not an error (as in jq).
    static let emptyStreams: Set = ["n_single_space.json", "n_structure_UTF8_BOM_no_data.json", "n_structure_no_data.json"]

    /// Every y_ file that is an object comes out byte for byte; every other y_ value is reported
    /// as not an object; every n_ file but the empty ones is reported with status 65. Nothing crashes.
    @Test func conformanceCorpusThroughTheBinary() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).sorted()
        #expect(names.count == 318)
        for name in names where !name.hasPrefix("i_") {
            let bytes = try Data(contentsOf: Self.corpus.appendingPathComponent(name))
            let result = try HookRelayProcess.run(["filter"], stdin: bytes)
            #expect(result.status == 0 || result.status == 65, "\(name): status \(result.status)")
            if Self.emptyStreams.contains(name) {
                #expect(result.status == 0 && result.stdout.isEmpty && result.stderr.isEmpty, "\(name)")
            } else if name.hasPrefix("n_") {
                #expect(result.status == 65, "\(name) accepted")
                #expect(result.stderr.hasPrefix("hookrelay: line "), "\(name): \(result.stderr)")
            } else {
                let trimmed = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                if trimmed.hasPrefix("{") {
                    #expect(result.status == 0, "\(name): \(result.stderr)")
                    #expect(result.output == trimmed + "\n", "\(name)")
                } else {
                    #expect(result.status == 65, "\(name)")
                    #expect(result.stderr.contains("not an object"), "\(name): \(result.stderr)")
                }
            }
        }
    }
}
