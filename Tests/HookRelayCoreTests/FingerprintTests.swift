import Foundation
import Testing
@testable import HookRelayCore

@Suite struct FingerprintTests {
    func fingerprint(_ event: String, _ fingerprinter: Fingerprinter = Fingerprinter()) -> Fingerprint? {
        fingerprinter.fingerprint(ofEvent: Array(event.utf8))
    }

    /// The `--unique` key of each event, read through the record reader as `filter` reads them.
    func keys(_ events: [String], severity: Bool = true, _ fingerprinter: Fingerprinter = Fingerprinter()) throws -> [FingerprintKey?] {
        var keys: [FingerprintKey?] = []
        let paths = fingerprinter.selector.paths.map { $0.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".") }
        _ = try read(Array(events.joined(separator: "\n").utf8), paths: paths) { record in
            keys.append(fingerprinter.key(of: record, severity: severity))
        }
        return keys
    }

    let sql = #"{"event_type":"finding","id":"evt_1","finding":{"asset":"app1.example.com","title":"SQL Injection","url":"https://app1.example.com/login?user=1","parameter":"user","severity":"high"}}"#

    /// The documented encoding, computed independently with Python's hashlib:
    /// sha256(b"hookrelay-fingerprint/1" + for each field: len8(path) path (0 | tag len8(value) value)).
    @Test func matchesTheDocumentedEncoding() {
        #expect(fingerprint(sql)?.text == "fp_664578d7fb3c4c018ca8b407424ffc96")
        #expect(fingerprint(sql)?.source == .fields)
        let numberParameter = #"{"finding":{"asset":"app1.example.com","title":"SQL Injection","parameter":5}}"#
        #expect(fingerprint(numberParameter)?.text == "fp_9f7936dfd0848ec8ba3163ec340e2351")
    }

    @Test func stableAcrossKeyOrderWhitespaceAndOtherFields() {
        let reordered = """
            {
              "finding": {
                "severity": "low", "parameter": "user",
                "url": "https://app1.example.com/login?user=1",
                "cvss": 9.1, "title": "SQL Injection", "asset": "app1.example.com"
              },
              "id": "evt_2", "timestamp": "2025-01-02T00:00:00Z", "event_type": "finding"
            }
            """
        let expected = fingerprint(sql)
        #expect(expected != nil)
        #expect(fingerprint(reordered) == expected)
        let escaped = #"{"finding":{"asset":"app1.example.com","title":"SQL\u0020Injection","url":"https:\/\/app1.example.com\/login?user=1","parameter":"user"}}"#
        #expect(fingerprint(escaped) == expected)
    }

    @Test func normalisesSpaceAndTheCaseOfHostsOnly() {
        let expected = fingerprint(sql)
        let noisy = #"{"finding":{"asset":" APP1.Example.COM\t","title":"  SQL Injection\n","url":"HTTPS://App1.EXAMPLE.com/login?user=1 ","parameter":"user"}}"#
        #expect(fingerprint(noisy) == expected)
        // The path, the query, the title and the parameter keep their case.
        let path = #"{"finding":{"asset":"app1.example.com","title":"SQL Injection","url":"https://app1.example.com/LOGIN?user=1","parameter":"user"}}"#
        let title = #"{"finding":{"asset":"app1.example.com","title":"sql injection","url":"https://app1.example.com/login?user=1","parameter":"user"}}"#
        let parameter = #"{"finding":{"asset":"app1.example.com","title":"SQL Injection","url":"https://app1.example.com/login?user=1","parameter":"User"}}"#
        for other in [path, title, parameter] { #expect(fingerprint(other) != expected) }
        // User information before '@' keeps its case; the host after it does not.
        #expect(fingerprint(#"{"finding":{"url":"https://Bob@API.example.com/x"}}"#) == fingerprint(#"{"finding":{"url":"https://Bob@api.example.com/x"}}"#))
        #expect(fingerprint(#"{"finding":{"url":"https://Bob@api.example.com/x"}}"#) != fingerprint(#"{"finding":{"url":"https://bob@api.example.com/x"}}"#))
    }

    @Test func unicodeIsComparedInNFC() {
        let composed = "{\"finding\":{\"title\":\"Caf\u{E9} XSS\",\"asset\":\"b\u{FC}cher.example\"}}"
        let decomposed = "{\"finding\":{\"title\":\"Cafe\u{301} XSS\",\"asset\":\"bu\u{308}cher.example\"}}"
        let escaped = #"{"finding":{"title":"Caf\u00e9 XSS","asset":"B\u00dcCHER.example"}}"#
        let other = "{\"finding\":{\"title\":\"Caf\u{E8} XSS\",\"asset\":\"b\u{FC}cher.example\"}}"
        #expect(fingerprint(composed) != nil)
        #expect(fingerprint(decomposed) == fingerprint(composed))
        #expect(fingerprint(escaped) == fingerprint(composed))
        #expect(fingerprint(other) != fingerprint(composed))
        // A no-break space is white space too.
        #expect(fingerprint("{\"finding\":{\"title\":\"\u{A0}Caf\u{E9} XSS\",\"asset\":\"b\u{FC}cher.example\"}}") == fingerprint(composed))
    }

    @Test func theIDWinsWhenUsable() {
        let withID = #"{"finding":{"id":"F-1001","asset":"app1.example.com","title":"SQL Injection"}}"#
        #expect(fingerprint(withID) == Fingerprint(source: .id, text: "F-1001"))
        #expect(fingerprint(#"{"finding":{"id":" F-1001 ","title":"Other"}}"#)?.text == "F-1001")
        #expect(fingerprint(#"{"finding":{"id":12345}}"#) == Fingerprint(source: .id, text: "12345"))
        #expect(fingerprint(#"{"finding":{"id":"12345"}}"#) == Fingerprint(source: .id, text: "12345"))
        // Unusable ids fall back to the fields: empty, blank, null, boolean, object, control characters.
        let fields = fingerprint(#"{"finding":{"title":"SQL Injection"}}"#)
        #expect(fields?.source == .fields)
        for id in [#""""#, #""  ""#, "null", "true", #"{"a":1}"#, #""F\n1""#, #""F\u0007""#] {
            #expect(fingerprint(#"{"finding":{"id":\#(id),"title":"SQL Injection"}}"#) == fields, "id \(id)")
        }
        // The event's own id is not the finding's.
        #expect(fingerprint(#"{"id":"evt_9","finding":{"title":"SQL Injection"}}"#) == fields)
    }

    @Test func eventsWithoutTheFieldsHaveNone() {
        #expect(fingerprint(#"{"event_type":"scan_completed","id":"evt_3","scan":{"asset":"app1.example.com"}}"#) == nil)
        #expect(fingerprint(#"{"finding":{"asset":null,"title":"  ","url":""}}"#) == nil)
        #expect(fingerprint(#"[1]"#) == nil)
    }

    @Test func partsCannotRunIntoEachOther() {
        let a = fingerprint(#"{"finding":{"title":"a","url":"bc"}}"#)
        let b = fingerprint(#"{"finding":{"title":"ab","url":"c"}}"#)
        let c = fingerprint(#"{"finding":{"title":"abc"}}"#)
        let d = fingerprint(#"{"finding":{"url":"abc"}}"#)
        #expect(Set([a, b, c, d].compactMap { $0 }).count == 4)
        // Types are told apart; missing, null and empty are the same absence.
        #expect(fingerprint(#"{"finding":{"title":"x","parameter":1}}"#) != fingerprint(#"{"finding":{"title":"x","parameter":"1"}}"#))
        #expect(fingerprint(#"{"finding":{"title":"x","parameter":"null"}}"#) != fingerprint(#"{"finding":{"title":"x"}}"#))
        #expect(fingerprint(#"{"finding":{"title":"x","parameter":null}}"#) == fingerprint(#"{"finding":{"title":"x","parameter":""}}"#))
        #expect(fingerprint(#"{"finding":{"title":"x","parameter":null}}"#) == fingerprint(#"{"finding":{"title":"x"}}"#))
    }

    @Test func theFieldsAreConfigurable() {
        let short = Fingerprinter(rule: FingerprintRule(fields: ["finding.asset", "finding.title"]))
        let one = #"{"finding":{"asset":"app1.example.com","title":"XSS","url":"https://app1.example.com/a"}}"#
        let two = #"{"finding":{"asset":"app1.example.com","title":"XSS","url":"https://app1.example.com/b"}}"#
        #expect(fingerprint(one) != fingerprint(two))
        #expect(fingerprint(one, short) == fingerprint(two, short))
        // Other fields, or the same fields in another order, give other fingerprints.
        let reordered = Fingerprinter(rule: FingerprintRule(fields: ["finding.title", "finding.asset"]))
        #expect(fingerprint(one, reordered) != fingerprint(one, short))
        #expect(fingerprint(one, short) != fingerprint(one))
        // A custom id path, and none: then the fields always count.
        let scanner = Fingerprinter(rule: FingerprintRule(idPath: "finding.uid", fields: ["finding.title"]))
        #expect(fingerprint(#"{"finding":{"uid":"u-7","id":"F-1","title":"XSS"}}"#, scanner)?.text == "u-7")
        let noID = Fingerprinter(rule: FingerprintRule(idPath: nil, fields: ["finding.title"]))
        #expect(fingerprint(#"{"finding":{"id":"F-1","title":"XSS"}}"#, noID) == fingerprint(#"{"finding":{"title":"XSS"}}"#, noID))
        #expect(fingerprint(#"{"finding":{"id":"F-1","title":"XSS"}}"#, noID)?.source == .fields)
        // Fields of other event types, with a layout whose paths come first.
        let scans = Fingerprinter(rule: FingerprintRule(idPath: nil, fields: ["scan.asset", "scan.profile"]), layout: EventLayout(teamPath: "team"))
        #expect(fingerprint(#"{"scan":{"asset":"a.example","profile":"full"},"team":"t"}"#, scans) != nil)
    }

    @Test func theUniqueKeyHoldsTheSeverityUnlessTold() throws {
        let high = sql
        let low = sql.replacingOccurrences(of: #""severity":"high""#, with: #""severity":"low""#)
        let upper = sql.replacingOccurrences(of: #""severity":"high""#, with: #""severity":"HIGH""#)
        let none = sql.replacingOccurrences(of: #","severity":"high""#, with: "")
        let events = [high, low, upper, none, #"{"event_type":"scan_completed"}"#]
        let withSeverity = try keys(events)
        #expect(withSeverity.count == 5)
        #expect(withSeverity[0] != withSeverity[1])
        #expect(withSeverity[0] == withSeverity[2])
        #expect(withSeverity[3] != withSeverity[0] && withSeverity[3] != withSeverity[1])
        #expect(withSeverity[4] == nil)
        let without = try keys(events, severity: false)
        #expect(without[0] != nil && without[0] == without[1] && without[1] == without[3])
        // An id and fields are different keys even when the text could coincide.
        let ids = try keys([#"{"finding":{"id":"7"}}"#, #"{"finding":{"id":7}}"#, #"{"finding":{"title":"7"}}"#])
        #expect(ids[0] == ids[1] && ids[0] != ids[2])
    }
}
