import Testing
@testable import HookRelayCore

@Suite struct JSONScannerTests {
    @Test func extractsFieldsAtPaths() {
        let (outcome, values, bytes) = scanAll(
            #"{"event_type":"finding","finding":{"severity":"high","asset":"a.example"},"n":[{"severity":"x"}]}"#,
            paths: ["event_type", "finding.severity", "finding.asset", "severity", "n"])
        guard case let .complete(end, _, isObject) = outcome else {
            Issue.record("not complete: \(outcome)")
            return
        }
        #expect(end == bytes.count)
        #expect(isObject)
        #expect(string(values[0], in: bytes) == "finding")
        #expect(string(values[1], in: bytes) == "high")
        #expect(string(values[2], in: bytes) == "a.example")
        #expect(values[3].kind == .absent)  // a severity inside an array is not a top-level one
        #expect(values[4].kind == .other)
    }

    @Test func unescapesValuesAndKeys() {
        let (_, values, bytes) = scanAll(#"{"sev\u0065rity":"crit\u0069cal \ud83d\ude00 \n\"","x":1}"#, paths: ["severity"])
        #expect(values[0].kind == .escapedString)
        #expect(string(values[0], in: bytes) == "critical 😀 \n\"")
    }

    @Test func lastDuplicateKeyWins() {
        let (_, values, bytes) = scanAll(
            #"{"finding":{"severity":"high"},"finding":{"title":"t"},"event_type":"a","event_type":"b"}"#,
            paths: ["finding.severity", "event_type"])
        #expect(values[0].kind == .absent)
        #expect(string(values[1], in: bytes) == "b")
    }

    @Test func nonStringValuesAreMarkedOther() {
        let (_, values, _) = scanAll(#"{"a":12.5e3,"b":null,"c":true,"d":{"x":1}}"#, paths: ["a", "b", "c", "d"])
        #expect(values.map(\.kind) == [.other, .other, .other, .other])
    }

    @Test func reportsValuesThatAreNotObjects() {
        for (text, isObject) in [("[1,2]", false), (#""s""#, false), ("-0.5E+7", false), ("null", false), ("{}", true)] {
            guard case let .complete(_, _, object) = scanAll(text).0 else {
                Issue.record("\(text) not complete")
                continue
            }
            #expect(object == isObject, "\(text)")
        }
    }

    /// Every proper prefix of a valid record asks for more input; the whole record completes.
    @Test func everyPrefixNeedsMore() {
        let text = #"{"a":[1,-2.5e-3,true,false,null,"x\u00e9\ud83d\ude00 é😀"],"b":{"c":{}},"d":[]}"#
        let bytes = Array(text.utf8)
        let scanner = JSONScanner(selector: FieldSelector(["a", "b.c"]))
        for length in 0..<bytes.count {
            let outcome = bytes.withUnsafeBytes { scanner.scan(UnsafeRawBufferPointer(rebasing: $0[0..<length]), from: 0, isEOF: false) }
            #expect(outcome == .needMore, "prefix of \(length) bytes")
        }
        let whole = bytes.withUnsafeBytes { scanner.scan($0, from: 0, isEOF: false) }
        #expect(whole == .complete(end: bytes.count, newlines: 0, isObject: true))
    }

    @Test(arguments: [
        (#"{"a":1,}"#, "unexpected '}'; expected '\"' to start an object member name", 7),
        (#"{"a" 1}"#, "unexpected '1'; expected ':' after an object member name", 5),
        (#"{"a":1 "b":2}"#, "unexpected '\"'; expected ',' or '}' after an object member", 7),
        (#"{"a":[1 2]}"#, "unexpected '2'; expected ',' or ']' after an array element", 8),
        (#"{"a":01}"#, "invalid number: leading zeros are not allowed", 6),
        (#"{"a":1.}"#, "invalid number: expected a digit after the decimal point", 7),
        (#"{"a":tru}"#, "invalid literal; expected true, false or null", 5),
        (#"{"a":"\x"}"#, #"invalid escape sequence '\x' in a string; allowed: \" \\ \/ \b \f \n \r \t \uXXXX"#, 6),
        (#"{"a":"\ud800"}"#, #"lone UTF-16 surrogate \uD800 in a string (not a Unicode character)"#, 6),
        (#"{"a":"\u12"}"#, #"invalid \u escape in a string: expected four hex digits"#, 6),
        ("{\"a\":\"\t\"}", #"unescaped control character 0x09 inside a string; escape it (\n, \t, \u00XX)"#, 6),
        (#"{"a":'x'}"#, "unexpected '''; expected a JSON value (object, array, string, number, true, false or null)", 5),
        (#"{"a":"x"#, "unexpected end of input inside a JSON value (truncated record)", 7),
        (#"{"a":"\ud800\u0041"}"#, #"lone UTF-16 surrogate \uD800 in a string (not a Unicode character)"#, 6),
    ])
    func explainsErrors(_ text: String, _ message: String, _ offset: Int) {
        guard case let .failure(error) = scanAll(text).0 else {
            Issue.record("\(text) accepted")
            return
        }
        #expect(error.description == message)
        #expect(error.offset == offset)
    }

    @Test func rejectsInvalidUTF8() {
        for bytes: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            let record = Array(#"{"a":""#.utf8) + bytes + Array(#""}"#.utf8)
            let outcome = record.withUnsafeBytes { JSONScanner().scan($0, from: 0, isEOF: true) }
            guard case let .failure(error) = outcome, case .invalidUTF8 = error.reason else {
                Issue.record("\(bytes) gave \(outcome)")
                continue
            }
        }
    }

    @Test func limitsNestingWithoutRecursion() {
        let deep = String(repeating: "[", count: 1_000_000)
        guard case let .failure(error) = scanAll(deep, maxDepth: 512).0 else {
            Issue.record("accepted")
            return
        }
        #expect(error.reason == .tooDeep(limit: 512))
        #expect(error.offset == 512)
        let (outcome, _, _) = scanAll(String(repeating: "[", count: 512) + String(repeating: "]", count: 512), maxDepth: 512)
        #expect(outcome == .complete(end: 1024, newlines: 0, isObject: false))
    }

    @Test func countsNewlinesForPositions() {
        guard case let .failure(error) = scanAll("{\n  \"a\": 1,\n  \"b\" 2\n}").0 else {
            Issue.record("accepted")
            return
        }
        #expect(error.newlines == 2)
    }
}
