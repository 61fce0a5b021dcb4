import Testing
@testable import HookRelayCore

@Suite struct RecordReaderTests {
    @Test func readsNDJSONConcatenatedAndPrettyPrinted() throws {
        let input = "{\"a\":1}\n\n{\"b\":2}{\"c\":3} {\"d\":4}\n{\n  \"e\": {\n    \"f\": 5\n  }\n}\n"
        let collected = try read(input)
        #expect(collected.records == [#"{"a":1}"#, #"{"b":2}"#, #"{"c":3}"#, #"{"d":4}"#, "{\n  \"e\": {\n    \"f\": 5\n  }\n}"])
        #expect(collected.items[4] == .record("{\n  \"e\": {\n    \"f\": 5\n  }\n}", line: 4, offset: 32))
        #expect(collected.errors.isEmpty)
    }

    @Test func resynchronisesAtTheNextLineAndKeepsNeighbours() throws {
        let input = "{\"a\":1}\n{\"bad\" 1}\n{\"b\":2}\n[1]\n{\"c\":\n{\"d\":4}\nnope\n{\"e\":5}"
        let collected = try read(input)
        #expect(collected.records == [#"{"a":1}"#, #"{"b":2}"#, #"{"d":4}"#, #"{"e":5}"#])
        #expect(collected.items[1] == .invalid("unexpected '1'; expected ':' after an object member name", line: 2, offset: 15))
        #expect(collected.items[3] == .invalid("record is a JSON array, not an object; each event must be a JSON object", line: 4, offset: 26))
        #expect(collected.errors.count == 4)
        #expect(collected.invalidBytes.map { String(decoding: $0, as: UTF8.self) } == ["{\"bad\" 1}\n", "[1]", "{\"c\":\n", "nope\n"])
    }

    @Test func prettyPrintedBadRecordDoesNotLeakInnerObjects() throws {
        let input = "{\n  \"a\": [\n    {\"x\": 1},\n    oops\n  ]\n}\n{\"ok\":true}\n"
        let collected = try read(input)
        #expect(collected.records == [#"{"ok":true}"#])
        #expect(collected.errors.count == 1)
    }

    /// After a record spanning lines, a bad record's column is counted from the last line break,
    /// so an indented record below it is still a resynchronisation point.
    @Test func columnAfterAMultiLineRecord() throws {
        let collected = try read("{\n}  {bad\n   {\"b\":2}\n{\"c\":3}\n")
        #expect(collected.records == ["{\n}", #"{"b":2}"#, #"{"c":3}"#])
    }

    @Test func skipsLeadingByteOrderMarkOnly() throws {
        #expect(try read([0xEF, 0xBB, 0xBF] + Array(#"{"a":1}"#.utf8)).records == [#"{"a":1}"#])
        let inner = try read(Array(#"{"a":1}"#.utf8) + [0x0A, 0xEF, 0xBB, 0xBF] + Array(#"{"b":1}"#.utf8))
        #expect(inner.records == [#"{"a":1}"#])
        #expect(inner.errors.count == 1)
    }

    @Test func recordsStraddlingBufferRefills() throws {
        // Well over the 1 MiB initial buffer, so records cross read boundaries.
        let events = sampleEvents(20_000)
        let collected = try read(Array(events.joined(separator: "\n").utf8))
        #expect(collected.records == events)
    }

    @Test func oversizedRecordIsSkippedWithBoundedMemory() throws {
        let big = #"{"pad":""# + String(repeating: "x", count: 3 << 20) + "\"}"
        let input = #"{"a":1}"# + "\n" + big + "\n" + #"{"b":2}"# + "\n"
        let collected = try read(input, maxRecordSize: 1 << 20)
        #expect(collected.records == [#"{"a":1}"#, #"{"b":2}"#])
        #expect(collected.errors == ["record is larger than --max-record-size (1 MiB)"])
        #expect(collected.invalidBytes[0].count == big.utf8.count + 1)
        // Exactly at the limit is accepted.
        let exact = #"{"p":""# + String(repeating: "y", count: 100 - 8) + "\"}"
        #expect(try read(exact, maxRecordSize: 100).records == [exact])
        #expect(try read(exact, maxRecordSize: 99).errors.count == 1)
    }

    @Test func truncatedLastRecord() throws {
        let collected = try read(#"{"a":1}"# + "\n" + #"{"b":[1,2"#)
        #expect(collected.records == [#"{"a":1}"#])
        #expect(collected.items[1] == .invalid("unexpected end of input inside a JSON value (truncated record)", line: 2, offset: 17))
    }

    @Test func extractsFieldsThroughTheReader() throws {
        var types: [String] = []
        _ = try read(Array(sampleEvents(10).joined(separator: "\n").utf8)) { record in
            types.append(EventLayout().type(of: record).map { String(decoding: $0, as: UTF8.self) } ?? "-")
        }
        #expect(types == Array(repeating: "finding", count: 8) + ["scan_completed", "asset_changed"])
    }
}
