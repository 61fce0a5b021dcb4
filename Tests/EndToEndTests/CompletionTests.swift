import Foundation
import Testing

/// The shell completions committed under contrib/completions against what the binary's argument
/// parser generates, so a new subcommand or option cannot leave them stale.
@Suite struct CompletionTests {
    /// Each shell and its committed file.
    static let scripts: [(String, String)] = [
        ("bash", "hookrelay.bash"),
        ("zsh", "_hookrelay"),
        ("fish", "hookrelay.fish"),
    ]

    static let completionsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Tests/EndToEndTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()
        .appendingPathComponent("contrib/completions")

    @Test(arguments: scripts)
    func committedScriptIsWhatTheBinaryGenerates(_ shell: String, _ name: String) throws {
        let result = try HookRelayProcess.run(["--generate-completion-script", shell])
        #expect(result.status == 0, "\(result.stderr)")
        let generated = result.output
        // Guard against an empty or unrelated script, which a stale empty file would match.
        #expect(generated.contains("serve") && generated.contains("--drain"), "the \(shell) script names no subcommand or option")

        let path = Self.completionsDirectory.appendingPathComponent(name)
        let committed = try String(contentsOf: path, encoding: .utf8)
        guard committed != generated else { return }
        let committedLines = committed.split(separator: "\n", omittingEmptySubsequences: false)
        let generatedLines = generated.split(separator: "\n", omittingEmptySubsequences: false)
        let first = zip(committedLines, generatedLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(committedLines.count, generatedLines.count)
        func line(_ lines: [Substring]) -> String { first < lines.count ? "\"\(lines[first])\"" : "(end of file)" }
        Issue.record("""
            contrib/completions/\(name) differs from `hookrelay --generate-completion-script \(shell)` \
            from line \(first + 1): committed \(line(committedLines)), generated \(line(generatedLines)). \
            Regenerate all three with `make completions` and commit them.
            """)
    }
}
