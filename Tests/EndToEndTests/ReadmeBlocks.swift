import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// One fenced code block of README.md.
struct ReadmeBlock: Sendable, CustomTestStringConvertible {
    /// The line of the opening fence, counted from 1.
    var line: Int
    /// What follows the opening backticks (`sh`).
    var language: String
    var text: String
    /// The reason of a `<!-- not run: REASON -->` line right before the fence; nil for a block the test runs.
    var notRun: String?

    var runs: Bool { notRun == nil }
    var testDescription: String { "README.md:\(line)" }

    /// The fixed loopback ports the block uses (`127.0.0.1:8080`, `127.0.0.1:9000`), which another
    /// program on the machine may hold.
    var fixedPorts: Set<Int> {
        Set(text.matches(of: #/127\.0\.0\.1:(\d+)/#).compactMap { Int($0.output.1) }.filter { $0 != 0 })
    }

    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Tests/EndToEndTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// The mark of a block the test does not run. It goes on the line right before the fence, with a reason.
    static var notRunMark: Regex<(Substring, Substring)> { #/<!-- not run: (.+) -->/# }

    /// The fenced blocks of `markdown`: fences at the start of a line, three backticks and a language.
    static func blocks(in markdown: String) -> [ReadmeBlock] {
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var blocks: [ReadmeBlock] = []
        var index = 0
        while index < lines.count {
            guard let fence = lines[index].wholeMatch(of: #/```(\S*)\s*/#) else {
                index += 1
                continue
            }
            var end = index + 1
            while end < lines.count, !lines[end].hasPrefix("```") { end += 1 }
            let reason = index > 0 ? lines[index - 1].wholeMatch(of: notRunMark).map { String($0.output.1) } : nil
            blocks.append(
                ReadmeBlock(
                    line: index + 1, language: String(fence.output.1),
                    text: lines[(index + 1)..<min(end, lines.count)].joined(separator: "\n") + "\n", notRun: reason))
            index = end + 1
        }
        return blocks
    }

    /// README.md's blocks; empty if it cannot be read (a test checks it is not).
    static let readme: [ReadmeBlock] = {
        guard let text = try? String(contentsOf: repository.appendingPathComponent("README.md"), encoding: .utf8) else { return [] }
        return blocks(in: text)
    }()
}

/// Every `hookrelay …` command line of a shell text, as its words up to the end of that command.
enum ShellCommands {
    /// The words after each `hookrelay` (or `…/hookrelay`) that starts a command, up to the next
    /// `|`, `;`, `&`, `(`, `)`, `<`, `>` or comment. Continued lines are joined; quotes are kept
    /// whole (a `hookrelay` inside quotes is not looked at).
    static func hookrelayInvocations(in text: String) -> [[String]] {
        var words: [String?] = []  // nil separates commands
        var word = ""
        var quote: Character?
        var inWord = false
        func endWord() {
            if inWord { words.append(word) }
            word = ""
            inWord = false
        }
        var characters = Array(text.replacingOccurrences(of: "\\\n", with: " "))
        characters.append("\n")
        var index = 0
        while index < characters.count {
            let character = characters[index]
            index += 1
            if let open = quote {
                word.append(character)
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                word.append(character)
                inWord = true
            case " ", "\t":
                endWord()
            case "\n", "|", ";", "&", "(", ")", "<", ">", "`":
                endWord()
                words.append(nil)
            case "#" where !inWord:
                while index < characters.count, characters[index] != "\n" { index += 1 }
            default:
                word.append(character)
                inWord = true
            }
        }
        var invocations: [[String]] = []
        var current: [String]?
        for word in words {
            guard let word else {
                if let finished = current { invocations.append(finished) }
                current = nil
                continue
            }
            if current != nil {
                current?.append(word)
            } else if word == "hookrelay" || word.hasSuffix("/hookrelay") {
                current = []
            }
        }
        return invocations
    }

    /// What is wrong with the subcommands and long options of `invocation`, the words after
    /// `hookrelay`; `help` gives a command's `--help` output (root for `[]`).
    static func problems(in invocation: [String], help: ([String]) throws -> String) rethrows -> [String] {
        var path: [String] = []
        var rest = invocation[...]
        // Subcommands come first, as many levels as the helps list.
        while let next = rest.first, !next.hasPrefix("-") {
            let subcommands = ManPageTests.helpSubcommands(try help(path))
            if subcommands.isEmpty { break }
            guard subcommands.contains(next) else {
                return ["`hookrelay \((path + [next]).joined(separator: " "))`: no such subcommand (\(subcommands.sorted().joined(separator: ", ")))"]
            }
            path.append(next)
            rest = rest.dropFirst()
        }
        // ArgumentParser's options of every command, which the helps do not list.
        var known = ManPageTests.helpOptions(try help(path)).union(["--help", "--version"])
        if path.isEmpty { known.insert("--generate-completion-script") }
        var problems: [String] = []
        for word in rest {
            if word == "--" { break }
            guard word.hasPrefix("--") else { continue }
            let name = String(word.prefix { $0 != "=" })
            if !known.contains(name) {
                problems.append("`hookrelay \(path.joined(separator: " "))`: no option \(name)")
            }
        }
        return problems
    }
}

/// Runs a shell text the way a user's terminal would run it pasted, in a directory of its own.
enum ShellRun {
    struct Result {
        var status: Int32
        var output: String
        var errors: String
        var timedOut: Bool
        /// The end of what the block wrote, for a failure's message.
        var tail: String { "stdout: …\(output.suffix(1500))\nstderr: …\(errors.suffix(1500))" }
    }

    /// Runs `script` with `bash -euo pipefail` in a fresh directory holding a copy of
    /// contrib/examples, with the debug binary's directory first on the PATH and HOME and TMPDIR in
    /// that directory. Whatever the script left running (its background jobs) is killed when it ends.
    static func run(_ script: String, environment extra: [String: String] = [:], timeout: TimeInterval) throws -> Result {
        let scratch = try ScratchDirectory()
        let examples = scratch.url.appendingPathComponent("contrib/examples")
        try FileManager.default.createDirectory(at: examples.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: ReadmeBlock.repository.appendingPathComponent("contrib/examples"), to: examples)
        let scriptPath = try scratch.file("block.sh", script)
        let outputURL = URL(fileURLWithPath: try scratch.file("block.stdout", ""))
        let errorsURL = URL(fileURLWithPath: try scratch.file("block.stderr", ""))

        // Every process the block starts inherits this marker, so none can outlive the test.
        let marker = UUID().uuidString
        var environment = HookRelayProcess.environment(adding: extra)
        environment["PATH"] = HookRelayProcess.binary.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["HOME"] = scratch.url.path
        environment["TMPDIR"] = scratch.url.path
        environment["HOOKRELAY_README_RUN"] = marker

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-euo", "pipefail", scriptPath]
        process.currentDirectoryURL = scratch.url
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorsURL)
        try process.runWithSignalsUnblocked()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        // Not `isRunning`: it stays true while a background job of the block lives on.
        while !process.hasEnded {
            if Date() > deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(20_000)
        }
        // What the block left running goes first: until it has, Foundation waits for it.
        killProcesses(marked: marker)
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            output: String(decoding: try Data(contentsOf: outputURL), as: UTF8.self),
            errors: String(decoding: try Data(contentsOf: errorsURL), as: UTF8.self),
            timedOut: timedOut)
    }

    /// Kills (SIGKILL) every process whose environment holds `HOOKRELAY_README_RUN=marker`.
    static func killProcesses(marked marker: String) {
        let needle = Data("HOOKRELAY_README_RUN=\(marker)".utf8)
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap(Int32.init) ?? []
        for pid in pids where pid != getpid() {
            guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            if environ.split(separator: 0).contains(needle) { kill(pid, SIGKILL) }
        }
    }

    /// `bash -n`: nil when `script` parses, else bash's complaint.
    static func syntaxError(in script: String) throws -> String? {
        let scratch = try ScratchDirectory()
        let path = try scratch.file("block.sh", script)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-n", path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 ? nil : message
    }

    /// Whether 127.0.0.1:`port` can be listened on now (nothing else holds it).
    static func canListen(on port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var reuse: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return bound == 0 && listen(socket, 1) == 0
    }
}
