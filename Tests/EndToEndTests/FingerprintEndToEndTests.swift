import Foundation
import Testing

/// `filter --print-fingerprint`, `filter --unique` and `render --fingerprint` through the binary.
@Suite struct FingerprintEndToEndTests {
    /// A finding as a scanner reports it at each scan: a new event id, the same finding.
    static func finding(
        _ id: String, title: String = "SQL Injection", asset: String = "app1.example.com",
        url: String = "https://app1.example.com/login?user=1", severity: String = "high", extra: String = ""
    ) -> String {
        #"{"event_type":"finding","id":"\#(id)","finding":{"title":"\#(title)","severity":"\#(severity)","asset":"\#(asset)","url":"\#(url)","parameter":"user"\#(extra)}}"#
    }

    let events = [
        Self.finding("e1"),
        Self.finding("e2", asset: "APP1.example.com ", url: "HTTPS://App1.Example.com/login?user=1"), // the same finding, another scan
        Self.finding("e3", title: "Reflected XSS"),
        #"{"event_type":"scan_completed","id":"e4","scan":{"asset":"app1.example.com"}}"#,
        Self.finding("e5", severity: "low"), // a change of severity
        Self.finding("e6", extra: #","id":"F-77""#),
        Self.finding("e7", title: "Other title", extra: #","id":"F-77""#), // the same scanner id
        #"{"event_type":"scan_completed","id":"e8","scan":{"asset":"app1.example.com"}}"#,
    ]
    var input: String { events.joined(separator: "\n") + "\n" }

    func ids(_ result: HookRelayProcess.Result) -> [String] {
        result.lines.map { line in
            let start = line.range(of: #""id":"e"#)!.upperBound
            return "e" + String(line[start...].prefix { $0 != "\"" })
        }
    }

    @Test func printFingerprintWritesOneLinePerKeptEvent() throws {
        let result = try HookRelayProcess.run(["filter", "--print-fingerprint"], stdin: input)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.lines
        #expect(lines.count == events.count)
        #expect(lines[0].wholeMatch(of: /fp_[0-9a-f]{32}/) != nil, "\(lines[0])")
        #expect(lines[1] == lines[0])
        #expect(lines[2] != lines[0] && lines[2].hasPrefix("fp_"))
        #expect(lines[3] == "")
        #expect(lines[4] == lines[0]) // severity is not part of the fingerprint
        #expect(lines[5] == "F-77" && lines[6] == "F-77")
        // It composes with the event filters.
        let scans = try HookRelayProcess.run(["filter", "--event", "finding", "--min-severity", "high", "--print-fingerprint"], stdin: input)
        #expect(scans.lines == [lines[0], lines[1], lines[2], "F-77", "F-77"])
    }

    @Test func uniqueDropsRepeatsButNotASeverityChange() throws {
        let result = try HookRelayProcess.run(["filter", "--unique", "--summary"], stdin: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(ids(result) == ["e1", "e3", "e4", "e5", "e6", "e8"])
        #expect(result.lines[0] == events[0]) // byte for byte
        #expect(result.stderr == "hookrelay: read 8, matched 6, invalid 0, unknown severity 0, duplicates 2\n")
        let ignoring = try HookRelayProcess.run(["filter", "--unique", "--unique-ignores-severity"], stdin: input)
        #expect(ids(ignoring) == ["e1", "e3", "e4", "e6", "e8"])
    }

    @Test func uniqueComposesWithFiltersCountAndFields() throws {
        let count = try HookRelayProcess.run(["filter", "--unique", "--event", "finding", "--count"], stdin: input)
        #expect(count.output == "4\n")
        let high = try HookRelayProcess.run(["filter", "--unique", "--min-severity", "high", "--event", "finding"], stdin: input)
        #expect(ids(high) == ["e1", "e3", "e6"])
        // Only the asset: every finding on app1 is one, apart from the one with a scanner id.
        let asset = try HookRelayProcess.run(
            ["filter", "--unique", "--unique-ignores-severity", "--event", "finding", "--fingerprint-fields", "finding.asset"], stdin: input)
        #expect(ids(asset) == ["e1", "e6"])
        let noID = try HookRelayProcess.run(
            ["filter", "--unique", "--unique-ignores-severity", "--fingerprint-fields", "finding.asset", "--fingerprint-id-field", "none"], stdin: input)
        #expect(ids(noID) == ["e1", "e4", "e8"])
        let unique = try HookRelayProcess.run(["filter", "--unique", "--print-fingerprint"], stdin: input)
        #expect(unique.lines.count == 6)
    }

    /// The window keeps the most recently seen fingerprints: a duplicate pushed out by newer ones
    /// passes again, and seeing one again refreshes it (least recently seen goes first, not oldest).
    @Test func theWindowForgetsTheLeastRecentlySeen() throws {
        let stream = [
            Self.finding("e1", title: "A"), Self.finding("e2", title: "B"), Self.finding("e3", title: "A"),
            Self.finding("e4", title: "C"), Self.finding("e5", title: "B"), Self.finding("e6", title: "A"),
        ].joined(separator: "\n")
        // Window 2: e3 refreshes A, so C evicts B; B (e5) then passes again and evicts A, so A (e6) does too.
        let small = try HookRelayProcess.run(["filter", "--unique", "--unique-window", "2"], stdin: stream)
        #expect(small.status == 0, "\(small.stderr)")
        #expect(ids(small) == ["e1", "e2", "e4", "e5", "e6"])
        // Window 3 holds all three: every repeat is a duplicate.
        let large = try HookRelayProcess.run(["filter", "--unique", "--unique-window", "3"], stdin: stream)
        #expect(ids(large) == ["e1", "e2", "e4"])
    }

    @Test func uniqueStreamsWithoutWaitingForTheEnd() throws {
        let (process, stdin, stdout) = try FilterStreamingTests.start(["filter", "--unique"])
        defer { process.terminate() }
        stdin.fileHandleForWriting.write(Data((events[0] + "\n" + events[1] + "\n").utf8))
        // The input stays open: the first occurrence must come out, the repeat must not.
        #expect(FilterStreamingTests.readLines(stdout.fileHandleForReading, count: 1, timeout: 10) == events[0] + "\n")
        stdin.fileHandleForWriting.write(Data((events[2] + "\n").utf8))
        #expect(FilterStreamingTests.readLines(stdout.fileHandleForReading, count: 1, timeout: 10) == events[2] + "\n")
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(stdout.fileHandleForReading.readDataToEndOfFile().isEmpty)
    }

    @Test func renderShowsTheFingerprintBeforeTheBody() throws {
        let result = try HookRelayProcess.run(["render", "--fingerprint"], stdin: input)
        #expect(result.status == 0, "\(result.stderr)")
        let printed = try HookRelayProcess.run(["filter", "--print-fingerprint"], stdin: input)
        #expect(result.lines == zip(printed.lines, events).map { "\($0)\t\($1)" })
        let slack = try HookRelayProcess.run(["render", "--fingerprint", "--template", "slack", "--fingerprint-fields", "finding.title"], stdin: events[0])
        #expect(slack.status == 0, "\(slack.stderr)")
        let fields = slack.output.split(separator: "\t", maxSplits: 1)
        #expect(fields.count == 2 && fields[0].hasPrefix("fp_") && fields[0] != printed.lines[0] && fields[1].hasPrefix("{"))
        let plain = try HookRelayProcess.run(["render"], stdin: events[0])
        #expect(plain.output == events[0] + "\n")
    }

    static let seventeenFields: String = (1...17).map { "f\($0)" }.joined(separator: ",")

    static let usageCases: [([String], String)] = [
        (["filter", "--unique-window", "10"], "--unique-window applies to --unique; add --unique"),
        (["filter", "--unique-ignores-severity"], "--unique-ignores-severity applies to --unique; add --unique"),
        (["filter", "--unique", "--unique-window", "0"], "--unique-window must be between 1 and 100000000 fingerprints; 0 was given"),
        (["filter", "--unique", "--unique-window", "lots"], "The value 'lots' is invalid for '--unique-window <n>'"),
        (["filter", "--count", "--print-fingerprint"], "use either --count or --print-fingerprint, not both"),
        (["filter", "--unique", "--fingerprint-fields", ","], "--fingerprint-fields needs at least one dotted path"),
        (["filter", "--unique", "--fingerprint-fields", "finding..title"], "--fingerprint-fields: 'finding..title' is not a field path"),
        (["render", "--fingerprint", "--fingerprint-id-field", "finding."], "--fingerprint-id-field: 'finding.' is not a field path"),
        (["filter", "--print-fingerprint", "--fingerprint-fields", seventeenFields], "--fingerprint-fields takes at most 16 paths; 17 were given"),
    ]

    @Test(arguments: FingerprintEndToEndTests.usageCases)
    func usageErrors(_ arguments: [String], _ message: String) throws {
        let result = try HookRelayProcess.run(arguments, stdin: input)
        #expect(result.status == 64)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
