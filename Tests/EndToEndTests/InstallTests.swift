import Foundation
import Testing

/// The Makefile's install and uninstall targets and the systemd units of contrib/systemd, checked
/// with the tools a user has: `make`, `man -l` and `systemd-analyze verify`. They install the
/// binary the tests run (`make install BIN=…`), so no release build is needed here.
///
/// Without a tool the test is skipped, unless `CI` is set: `.ci/run` installs them, so there a
/// missing tool is a failure.
@Suite struct InstallTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Tests/EndToEndTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static let units = ["hookrelay.service", "hookrelay-drain.service", "hookrelay-drain.timer"]

    static let inCI = !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty

    /// `name`'s path in `PATH`, if it is there.
    static func tool(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Whether a test needing `tools` runs: always under CI, else when every tool is installed.
    static func runs(needing tools: [String]) -> Bool {
        inCI || tools.allSatisfy { tool($0) != nil }
    }

    static func skipped(needing tools: [String], packages: String) -> Comment {
        let missing = tools.filter { tool($0) == nil }
        return Comment(rawValue: "\(missing.joined(separator: ", ")) not found (Debian: apt-get install \(packages)); with CI set this fails")
    }

    /// Under CI a missing tool fails the test at once, with one clear message.
    static func require(_ tools: [String]) throws {
        for name in tools {
            try #require(tool(name) != nil, "\(name) is not installed: .ci/run installs it when missing")
        }
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Both streams, for failure messages.
        var text: String { "exit status \(status)\n\(stdout)\(stderr)" }
    }

    /// Runs `arguments[0]` found in `PATH`, its output collected through files so a large output
    /// cannot block it.
    static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Output {
        let scratch = try ScratchDirectory()
        let outURL = URL(fileURLWithPath: scratch.path("stdout"))
        let errURL = URL(fileURLWithPath: scratch.path("stderr"))
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        process.currentDirectoryURL = repository
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// `make TARGETS BIN=<the binary the tests run> VARIABLES` in the repository.
    static func make(_ targets: [String], _ variables: [String: String]) throws -> Output {
        let assignments = (["BIN": HookRelayProcess.binary.path].merging(variables) { _, new in new })
            .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return try run(["make", "--no-print-directory"] + targets + assignments)
    }

    /// The regular files under `directory`, as paths relative to it.
    static func files(under directory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let path = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(directory)/\(path)", isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(path)
            }
        }
        return files.sorted()
    }

    static func verify(_ paths: [String], manPath: String) throws -> Output {
        // Documentation=man:… is checked by running man(1): MANPATH makes it look in the prefix.
        try run(["systemd-analyze", "verify"] + paths, environment: ["MANPATH": manPath, "SYSTEMD_LOG_COLOR": "0"])
    }

    @Test(.enabled(
        if: runs(needing: ["make", "systemd-analyze", "man"]),
        skipped(needing: ["make", "systemd-analyze", "man"], packages: "make systemd man-db")))
    func unitsPassSystemdAnalyzeVerify() throws {
        try Self.require(["make", "systemd-analyze", "man"])
        let scratch = try ScratchDirectory()
        let prefix = scratch.path("usr")
        let unitDirectory = scratch.path("system")
        let install = try Self.make(["install", "install-systemd"], ["PREFIX": prefix, "SYSTEMDDIR": unitDirectory])
        try #require(install.status == 0, "make install install-systemd: \(install.text)")

        let binary = "\(prefix)/bin/hookrelay"
        for unit in Self.units where unit.hasSuffix(".service") {
            let text = try String(contentsOfFile: "\(unitDirectory)/\(unit)", encoding: .utf8)
            let execStart = text.split(separator: "\n").filter { $0.hasPrefix("ExecStart=") }
            #expect(
                execStart.count == 1 && execStart[0].hasPrefix("ExecStart=\(binary) "),
                "make install-systemd should point \(unit)'s ExecStart at \(binary): \(execStart)")
        }

        let paths = Self.units.map { "\(unitDirectory)/\($0)" }
        let verified = try Self.verify(paths, manPath: "\(prefix)/share/man")
        #expect(verified.status == 0, "systemd-analyze verify: \(verified.text)")
        #expect(verified.stdout.isEmpty && verified.stderr.isEmpty, "systemd-analyze verify should print nothing: \(verified.text)")

        // The checker itself: a unit whose binary is missing, or that has a misspelt setting, is
        // reported (else this test could not fail).
        let broken = scratch.path("broken")
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        let serve = try String(contentsOfFile: "\(unitDirectory)/hookrelay.service", encoding: .utf8)
        try serve.replacingOccurrences(of: binary, with: scratch.path("missing/hookrelay"))
            .write(toFile: "\(broken)/hookrelay.service", atomically: true, encoding: .utf8)
        let missingBinary = try Self.verify(["\(broken)/hookrelay.service"], manPath: "\(prefix)/share/man")
        #expect(missingBinary.status != 0, "verify should refuse a unit whose ExecStart binary is missing: \(missingBinary.text)")
        try serve.replacingOccurrences(of: "ProtectHome=yes", with: "ProtectHomes=yes")
            .write(toFile: "\(broken)/hookrelay.service", atomically: true, encoding: .utf8)
        let misspelt = try Self.verify(["\(broken)/hookrelay.service"], manPath: "\(prefix)/share/man")
        #expect(misspelt.stderr.contains("ProtectHomes"), "verify should report an unknown setting: \(misspelt.text)")
    }

    @Test(.enabled(if: runs(needing: ["make", "man"]), skipped(needing: ["make", "man"], packages: "make man-db")))
    func installAndUninstall() throws {
        try Self.require(["make", "man"])
        let scratch = try ScratchDirectory()
        let destination = scratch.path("stage")
        let prefix = "/opt/hookrelay"
        let root = destination + prefix
        let variables = ["DESTDIR": destination, "PREFIX": prefix]
        let install = try Self.make(["install"], variables)
        try #require(install.status == 0, "make install: \(install.text)")

        let manPages = try FileManager.default.contentsOfDirectory(atPath: Self.repository.appendingPathComponent("man").path)
            .filter { $0.hasSuffix(".1") }.sorted()
        #expect(manPages.contains("hookrelay-serve.1"), "man pages found: \(manPages)")
        let expected = (["bin/hookrelay", "share/bash-completion/completions/hookrelay",
                         "share/fish/vendor_completions.d/hookrelay.fish", "share/zsh/site-functions/_hookrelay"]
            + manPages.map { "share/man/man1/\($0)" }).sorted()
        #expect(Self.files(under: destination) == expected.map { "\(prefix.dropFirst())/\($0)" })

        // The installed binary runs, and is the one given.
        let version = try Self.run(["\(root)/bin/hookrelay", "--version"])
        let reference = try HookRelayProcess.run(["--version"])
        #expect(version.status == 0 && !version.stdout.isEmpty && version.stdout == reference.output, "\(version.text)")
        let mode = try FileManager.default.attributesOfItem(atPath: "\(root)/bin/hookrelay")[.posixPermissions] as? Int
        #expect(mode == 0o755)

        // Every page renders without a warning, and man finds the pages where they were put.
        for page in manPages {
            let rendered = try Self.run(
                ["man", "--warnings", "-l", "\(root)/share/man/man1/\(page)"],
                environment: ["MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat", "LC_ALL": "C.UTF-8"])
            #expect(rendered.status == 0 && rendered.stderr.isEmpty, "man -l \(page): \(rendered.text)")
            #expect(rendered.stdout.contains("NAME"), "man -l \(page) rendered no NAME section")
        }
        let found = try Self.run(["man", "-w", "hookrelay-serve"], environment: ["MANPATH": "\(root)/share/man"])
        #expect(found.stdout == "\(root)/share/man/man1/hookrelay-serve.1\n", "man -w hookrelay-serve: \(found.text)")

        for (installed, committed) in [
            ("share/bash-completion/completions/hookrelay", "hookrelay.bash"),
            ("share/zsh/site-functions/_hookrelay", "_hookrelay"),
            ("share/fish/vendor_completions.d/hookrelay.fish", "hookrelay.fish"),
        ] {
            let copy = FileManager.default.contents(atPath: "\(root)/\(installed)")
            let original = FileManager.default.contents(atPath: CompletionTests.completionsDirectory.appendingPathComponent(committed).path)
            #expect(copy != nil && copy == original, "\(installed) should be contrib/completions/\(committed)")
        }
        let bash = try Self.run(["bash", "-c", "source \"$1\" && complete -p hookrelay", "bash", "\(root)/share/bash-completion/completions/hookrelay"])
        #expect(bash.status == 0 && bash.stdout.contains("hookrelay"), "bash should load the completion: \(bash.text)")

        let uninstall = try Self.make(["uninstall"], variables)
        try #require(uninstall.status == 0, "make uninstall: \(uninstall.text)")
        #expect(Self.files(under: destination) == [], "make uninstall left files behind")
    }
}
