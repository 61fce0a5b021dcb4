import Foundation
import Testing

@Suite struct FilterEndToEndTests {
    let events = [
        #"{"event_type":"finding","id":"1","finding":{"severity":"critical","asset":"api.example.com","title":"SQLi"}}"#,
        #"{"event_type":"finding","id":"2","finding":{"severity":"low","asset":"www.example.org"}}"#,
        #"{"event_type":"scan_completed","id":"3","scan":{"asset":"api.example.com"}}"#,
        #"{"event_type":"asset_changed","id":"4","asset":{"name":"db.example.com"}}"#,
        #"{"event_type":"finding","id":"5","finding":{"severity":"High","asset":"db.example.com"}}"#,
        #"{"event_type":"finding","id":"6","finding":{"severity":"urgent"}}"#,
    ]
    var input: String { events.joined(separator: "\n") + "\n" }

    func ids(_ result: HookRelayProcess.Result) -> [String] {
        result.lines.map { line in
            let start = line.range(of: #""id":""#)!.upperBound
            return String(line[start...].prefix { $0 != "\"" })
        }
    }

    @Test func keepsMatchingEventsByteForByte() throws {
        let result = try HookRelayProcess.run(["filter", "--event", "finding", "--min-severity", "high"], stdin: input)
        #expect(result.status == 0)
        #expect(result.lines == [events[0], events[4]])
        #expect(result.stderr == "")
    }

    @Test func prettyPrintedInputIsPassedThroughUnchanged() throws {
        let pretty = "{\n  \"event_type\": \"finding\",\n  \"finding\": { \"severity\": \"critical\" }\n}\n{\"event_type\":\"x\"}"
        let result = try HookRelayProcess.run(["filter", "--event", "finding"], stdin: pretty)
        #expect(result.output == "{\n  \"event_type\": \"finding\",\n  \"finding\": { \"severity\": \"critical\" }\n}\n")
    }

    @Test(arguments: [
        (["--event", "scan_completed,asset_changed"], ["3", "4"]),
        (["--event", "scan_completed", "--event", "asset_changed"], ["3", "4"]),
        (["--severity", "low", "--severity", "HIGH"], ["2", "3", "4", "5"]),
        (["--severity", "low,critical"], ["1", "2", "3", "4"]),
        (["--min-severity", "medium"], ["1", "3", "4", "5"]),
        (["--asset", "*.example.com"], ["1", "3", "4", "5"]),
        (["--asset", "db.*", "--asset", "www.*"], ["2", "4", "5"]),
        (["--event", "finding", "--invert"], ["3", "4"]),
        (["--min-severity", "critical", "--event", "finding"], ["1"]),
    ])
    func options(_ arguments: [String], _ expected: [String]) throws {
        let result = try HookRelayProcess.run(["filter"] + arguments, stdin: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(ids(result) == expected)
    }

    @Test func customFieldPaths() throws {
        let input = #"{"type":"finding","meta":{"level":"info"},"id":"a"}"# + "\n" + #"{"type":"finding","meta":{"level":"high"},"id":"b"}"#
        let result = try HookRelayProcess.run(
            ["filter", "--type-field", "type", "--event", "finding", "--severity-field", "meta.level", "--min-severity", "high"], stdin: input)
        #expect(ids(result) == ["b"])
    }

    @Test func countAndSummary() throws {
        let result = try HookRelayProcess.run(["filter", "--count", "--summary", "--min-severity", "high"], stdin: input + "{oops}\n")
        #expect(result.output == "4\n")
        #expect(result.stderr.hasSuffix("hookrelay: read 7, matched 4, invalid 1, unknown severity 1\n"))
        #expect(result.status == 65)
    }

    @Test func invalidRecordsAreReportedAndSkipped() throws {
        let bad = input + "{\"event_type\":\"finding\" \"x\"}\n" + #"{"event_type":"finding","id":"7"}"# + "\n"
        let result = try HookRelayProcess.run(["filter", "--event", "finding"], stdin: bad)
        #expect(result.status == 65)
        #expect(ids(result) == ["1", "2", "5", "6", "7"])
        // The error is at the quote after `"finding" `, 24 bytes into the record that follows `input`.
        let offset = input.utf8.count + 24
        #expect(result.stderr == "hookrelay: line 7, byte \(offset): unexpected '\"'; expected ',' or '}' after an object member; the record was skipped\n")
    }

    static let invalidInputs: [String: [UInt8]] = [
        "invalid UTF-8": [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D],
        "array": Array("[1,2]".utf8),
        "lone surrogate": Array(#"{"a":"\udc00"}"#.utf8),
        "10,000 open arrays": Array(String(repeating: "[", count: 10_000).utf8),
        "10,000 deep in an object": Array(("{\"a\":" + String(repeating: "[", count: 10_000)).utf8),
        "truncated line": Array(#"{"a":1"#.utf8),
    ]

    @Test(arguments: [
        ("invalid UTF-8", "invalid UTF-8 byte 0xFF in a string; input must be UTF-8"),
        ("array", "record is a JSON array, not an object; each event must be a JSON object"),
        ("lone surrogate", #"lone UTF-16 surrogate \uDC00 in a string (not a Unicode character)"#),
        ("10,000 open arrays", "nesting deeper than 512 levels"),
        ("10,000 deep in an object", "nesting deeper than 512 levels"),
        ("truncated line", "unexpected '{'; expected ',' or '}' after an object member (in the record that began on line 2)"),
    ])
    func eachKindOfInvalidInput(_ kind: String, _ message: String) throws {
        let bad = Self.invalidInputs[kind]!
        let data = Data(Array((events[0] + "\n").utf8) + bad + Array(("\n" + events[1] + "\n").utf8))
        let result = try HookRelayProcess.run(["filter"], stdin: data)
        #expect(result.status == 65)
        #expect(result.lines == [events[0], events[1]])
        #expect(result.stderr.contains("hookrelay: line "))
        #expect(result.stderr.contains(message), "\(result.stderr.prefix(300))")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func recordOverTheSizeLimit() throws {
        let big = #"{"pad":""# + String(repeating: "x", count: 5000) + "\"}"
        let result = try HookRelayProcess.run(["filter", "--max-record-size", "4k"], stdin: events[0] + "\n" + big + "\n" + events[1])
        #expect(result.status == 65)
        #expect(result.lines == [events[0], events[1]])
        let offset = events[0].utf8.count + 1
        #expect(result.stderr == "hookrelay: line 2, byte \(offset): record is larger than --max-record-size (4 KiB); the record was skipped\n")
    }

    @Test func invalidFailStopsAtTheFirst() throws {
        let result = try HookRelayProcess.run(["filter", "--invalid=fail"], stdin: events[0] + "\nnot json\n" + events[1] + "\n")
        #expect(result.status == 65)
        #expect(result.lines == [events[0]])
        #expect(result.stderr.components(separatedBy: "\n").count == 2)
        // It stopped: the message says so, not "skipped".
        #expect(result.stderr.contains("stopped there (--invalid=fail)") && !result.stderr.contains("skipped"), "\(result.stderr)")
    }

    /// A run without an invalid record leaves no empty file; a path that cannot be written is
    /// reported at the start, before anything is read.
    @Test func invalidFileIsMadeOnlyForAnInvalidRecord() throws {
        let scratch = try ScratchDirectory()
        let rejects = scratch.path("rejects.ndjson")
        let clean = try HookRelayProcess.run(["filter", "--invalid", rejects], stdin: events[0] + "\n")
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(!FileManager.default.fileExists(atPath: rejects))
        let unwritable = try HookRelayProcess.run(["filter", "--invalid", "/nonexistent-dir/rejects.ndjson"], stdin: events[0] + "\n")
        #expect(unwritable.status != 0)
        #expect(unwritable.lines.isEmpty)
        #expect(unwritable.stderr.contains("/nonexistent-dir/rejects.ndjson"), "\(unwritable.stderr)")
    }

    @Test func invalidFileCollectsRawRecords() throws {
        let scratch = try ScratchDirectory()
        let rejects = scratch.path("rejects.ndjson")
        let result = try HookRelayProcess.run(
            ["filter", "--invalid", rejects], stdin: events[0] + "\n{\"a\" 1}\n[1]\n" + events[1] + "\nnope")
        #expect(result.status == 0)
        #expect(result.lines == [events[0], events[1]])
        // `[1]` follows a bad record on a line that does not start a record, so it is part of it.
        #expect(try String(contentsOfFile: rejects, encoding: .utf8) == "{\"a\" 1}\n[1]\nnope\n")
        #expect(result.stderr.split(separator: "\n").count == 2)
    }

    @Test func filesAndStandardInput() throws {
        let scratch = try ScratchDirectory()
        let first = try scratch.file("a.ndjson", events[0] + "\n")
        let second = try scratch.file("b.ndjson", "{broken\n" + events[1] + "\n")
        let result = try HookRelayProcess.run(["filter", first, "-", second], stdin: events[2])
        #expect(result.lines == [events[0], events[2], events[1]])
        #expect(result.stderr.hasPrefix("hookrelay: \(second): line 1, byte 1: "))
        #expect(result.status == 65)
    }

    @Test func missingInputFile() throws {
        let scratch = try ScratchDirectory()
        let present = try scratch.file("a.ndjson", events[0])
        let result = try HookRelayProcess.run(["filter", scratch.path("missing.ndjson"), present, scratch.url.path])
        #expect(result.status == 66)
        #expect(result.lines == [events[0]])
        #expect(result.stderr.contains("hookrelay: \(scratch.path("missing.ndjson")): cannot open: No such file or directory\n"))
        #expect(result.stderr.contains("hookrelay: \(scratch.url.path): is a directory; give a file of JSON events\n"))
    }

    @Test(arguments: [
        (["--min-severity", "severe"], "unknown severity 'severe'; use one of critical, high, medium, low, info"),
        (["--min-severity", "high", "--severity", "low"], "use either --min-severity or --severity, not both"),
        (["--max-record-size", "huge"], "--max-record-size 'huge' is not a size"),
        (["--type-field", "a..b"], "field path 'a..b' is not valid"),
        (["--frobnicate"], "Unknown option '--frobnicate'"),
    ])
    func usageErrors(_ arguments: [String], _ message: String) throws {
        let result = try HookRelayProcess.run(["filter"] + arguments, stdin: input)
        #expect(result.status == 64)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func versionAndHelp() throws {
        let version = try HookRelayProcess.run(["--version"])
        #expect(version.status == 0)
        #expect(version.output.hasPrefix("0."))
        let help = try HookRelayProcess.run(["filter", "--help"])
        #expect(help.status == 0)
        #expect(help.output.contains("--min-severity <severity>"))
    }

    @Test func emptyAndBlankInput() throws {
        #expect(try HookRelayProcess.run(["filter"], stdin: "").status == 0)
        let blank = try HookRelayProcess.run(["filter", "--count"], stdin: "\n \r\n\t\n")
        #expect(blank.output == "0\n")
        #expect(blank.status == 0)
    }
}

/// README's main job, on the sample the repository ships.
@Suite struct SampleEventsTests {
    @Test func theReadmeMainJobPrintsTheSamplesHighAndCriticalFindings() throws {
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../contrib/examples/events.ndjson").path
        let input = try #require(FileManager.default.contents(atPath: sample))
        let result = try HookRelayProcess.run(["filter", "--event", "finding", "--min-severity", "high"], stdin: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.count == 29)
        for line in result.lines {
            let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(event["event_type"] as? String == "finding")
            #expect(["high", "critical"].contains((event["finding"] as? [String: Any])?["severity"] as? String))
        }
        let all = String(decoding: input, as: UTF8.self).split(separator: "\n")
        #expect(all.count == 300)
        for type in ["finding", "scan_completed", "asset_changed"] { #expect(all.contains { $0.contains(#""event_type":"\#(type)""#) }) }
        for severity in ["critical", "high", "medium", "low", "info"] { #expect(all.contains { $0.contains(#""severity":"\#(severity)""#) }) }
    }
}
