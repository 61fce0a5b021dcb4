import Foundation
import Testing

/// README.md cannot drift: every fenced block in it is run against the debug binary, or, when it
/// cannot run on a test machine, checked.
///
/// Blocks are fenced ```` ```sh ````. A block is run by `bash -euo pipefail` in a fresh directory
/// holding a copy of contrib/examples, with the debug binary first on the PATH, and must exit 0
/// within a bounded time; what it leaves running is killed. A block that cannot run here (it needs
/// root, systemd, the internet, /etc or /var paths, a scanner) has the line
/// `<!-- not run: REASON -->` right before its fence: it must still parse (`bash -n`) and every
/// `hookrelay SUBCOMMAND … --option` in it must name a subcommand and an option the binary's
/// `--help` lists. The run blocks are checked the same way. The blocks that listen on the fixed
/// ports 127.0.0.1:8080 and 9000 (the five-minute tour, the receiver examples) are skipped, with
/// a message, only when another program holds one of those ports.
@Suite struct ReadmeTests {
    static let blocks = ReadmeBlock.readme
    static let fixedPorts = blocks.filter(\.runs).reduce(into: Set<Int>()) { $0.formUnion($1.fixedPorts) }
    static var fixedPortsFree: Bool { fixedPorts.allSatisfy(ShellRun.canListen(on:)) }

    /// `--help` outputs, read once per command.
    final class Helps {
        private var cache: [[String]: String] = [:]
        func help(_ command: [String]) throws -> String {
            if let help = cache[command] { return help }
            let result = try HookRelayProcess.run(command + ["--help"])
            guard result.status == 0 else { throw ShellRunFailure(description: "hookrelay \(command) --help: \(result.stderr)") }
            cache[command] = result.output
            return result.output
        }
    }

    struct ShellRunFailure: Error, CustomStringConvertible { var description: String }

    @Test func everyBlockIsShellAndEveryMarkSitsOnAFence() throws {
        #expect(Self.blocks.count >= 10, "README.md unreadable or without blocks")
        for block in Self.blocks {
            #expect(block.language == "sh", "README.md:\(block.line): fence ```\(block.language): fence shell blocks ```sh (the test runs or checks only those)")
        }
        let text = try String(contentsOf: ReadmeBlock.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where line.hasPrefix("<!--") && line.contains("not run") {
            #expect(line.wholeMatch(of: ReadmeBlock.notRunMark) != nil, "README.md:\(index + 1): write the mark as <!-- not run: REASON -->")
            #expect(index + 1 < lines.count && lines[index + 1].hasPrefix("```"), "README.md:\(index + 1): the mark must be right before a fence")
        }
        // The five-minute tour is run, not only checked.
        #expect(Self.blocks.contains { $0.runs && $0.text.contains("hookrelay serve") && $0.text.contains("hookrelay receive") })
    }

    @Test func everyBlockParsesAndNamesRealSubcommandsAndOptions() throws {
        let helps = Helps()
        for block in Self.blocks {
            if let error = try ShellRun.syntaxError(in: block.text) {
                Issue.record("README.md:\(block.line): bash -n: \(error)")
            }
            for invocation in ShellCommands.hookrelayInvocations(in: block.text) {
                for problem in try ShellCommands.problems(in: invocation, help: helps.help) {
                    Issue.record("README.md:\(block.line): \(problem)")
                }
            }
        }
    }

    @Test(arguments: ReadmeTests.blocks.filter { $0.runs && $0.fixedPorts.isEmpty })
    func blockRunsAsPasted(_ block: ReadmeBlock) throws {
        let result = try ShellRun.run(block.text, timeout: 60)
        #expect(!result.timedOut, "README.md:\(block.line) still ran after 60 s\n\(result.tail)")
        #expect(result.status == 0, "README.md:\(block.line) exited \(result.status)\n\(result.tail)")
    }

    /// The tour and the receiver examples, one after the other since they share the ports.
    @Test(.enabled(if: ReadmeTests.fixedPortsFree, "127.0.0.1:8080 or 127.0.0.1:9000 is held by another program, so the README blocks that listen there are skipped"))
    func blocksOnFixedPortsRunAsPasted() throws {
        let blocks = Self.blocks.filter { $0.runs && !$0.fixedPorts.isEmpty }
        #expect(blocks.count >= 3, "the tour, the receive example and the example-script block")
        var tour: ShellRun.Result?
        for block in blocks {
            let result = try ShellRun.run(block.text, timeout: 120)
            #expect(!result.timedOut, "README.md:\(block.line) still ran after 120 s\n\(result.tail)")
            #expect(result.status == 0, "README.md:\(block.line) exited \(result.status)\n\(result.tail)")
            if tour == nil, block.text.contains("hookrelay serve") { tour = result }  // the first: the tour
        }
        // What the tour shows: every high and critical finding of the sample went through.
        let result = try #require(tour)
        #expect(result.output.contains("webhook: HTTP 201"), "\(result.tail)")
        #expect(result.output.contains(#""accepted":300"#), "\(result.tail)")
        #expect(result.output.contains("\n29\n"), "\(result.tail)")
        #expect(!result.output.contains("whsec_"), "the tour prints no secret")
    }

    /// The checks above can fail: a bogus option, subcommand or syntax, and a failing block, are caught.
    @Test func theChecksCatchWhatIsWrong() throws {
        let helps = Helps()
        let text = """
            hookrelay filter --event finding --bogus < x | hookrelay webhooks add --db x --nope
            hookrelay nosuch --x; hookrelay deliver --url=u --unsigned   # hookrelay filter --commented
            """
        let invocations = ShellCommands.hookrelayInvocations(in: text)
        #expect(invocations.count == 4)
        let problems = try invocations.flatMap { try ShellCommands.problems(in: $0, help: helps.help) }
        #expect(problems.count == 3, "\(problems)")
        #expect(problems.contains { $0.contains("filter`: no option --bogus") })
        #expect(problems.contains { $0.contains("webhooks add`: no option --nope") })
        #expect(problems.contains { $0.contains("nosuch`: no such subcommand") })
        #expect(try ShellRun.syntaxError(in: "if true; then echo\n") != nil)
        let failing = try ShellRun.run("echo started\nfalse\necho never\n", timeout: 10)
        #expect(failing.status != 0 && !failing.output.contains("never"))
        let blocks = ReadmeBlock.blocks(in: "<!-- not run: needs root -->\n```sh\nsudo x\n```\n```sh\nls\n```\n")
        #expect(blocks.map(\.notRun) == ["needs root", nil])
    }

    /// contrib/examples/export-to-webhook.sh against a local `hookrelay receive`, with deliver's
    /// extra flags from HOOKRELAY_DELIVER_FLAGS; without them the address guard refuses the URL.
    @Test func anExampleScriptSendsToALocalReceiverWithFlagsFromTheEnvironment() async throws {
        let scratch = try ScratchDirectory()
        let secret = try #require(try HookRelayProcess.run(["sign", "--new-secret"]).lines.first)
        let receiver = try await ReceiveProcess(["--secret-file", try ReceiveSecrets.file([secret], in: scratch)])
        let script = "sh contrib/examples/export-to-webhook.sh contrib/examples/events.ndjson \(receiver.url) spool.db\n"
        var environment = ["HOOKRELAY": HookRelayProcess.binary.path, "HOOKRELAY_SECRET": secret]

        // Each run has a directory, and so a spool, of its own.
        let refused = try ShellRun.run(script, environment: environment, timeout: 60)
        #expect(refused.status != 0, "plain http to 127.0.0.1 without the flags\n\(refused.tail)")
        #expect(receiver.output.lines.isEmpty)

        environment["HOOKRELAY_DELIVER_FLAGS"] = "--allow-http --allow-cidr 127.0.0.1/32"
        let sent = try ShellRun.run(script, environment: environment, timeout: 60)
        #expect(sent.status == 0, "\(sent.tail)")
        let lines = try await receiver.waitForLines(29)
        #expect(lines.count == 29, "\(receiver.errors.text)")
        var ids: Set<String> = []
        for line in lines {
            let event = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            ids.insert(event["id"] as? String ?? "")
            #expect(["high", "critical"].contains((event["finding"] as? [String: Any])?["severity"] as? String))
        }
        #expect(ids.count == 29)
        _ = await receiver.stop()
    }
}
