import HookRelayCore
import Testing

/// `finding.status` is compared the same way by de-duplication's key and by a ticket webhook's
/// `ticket_fixed_statuses`: NFC, trimmed, without case.
@Suite struct FindingStatusTests {
    static func event(_ status: String) -> [UInt8] {
        Array(#"{"event_type":"finding","finding":{"title":"t","status":"\#(status)"}}"#.utf8)
    }

    @Test func aStatusIsOneOfTheListComparedAsDedupeComparesIt() {
        let fixed = ["fixed", "Résolu"]
        #expect(Fingerprinter.reportsStatus(ofEvent: Self.event(" FIXED\\t"), in: fixed))
        #expect(Fingerprinter.reportsStatus(ofEvent: Self.event("re\u{301}solu"), in: fixed), "NFD matches NFC")
        #expect(Fingerprinter.reportsStatus(ofEvent: Self.event("R\u{C9}SOLU"), in: fixed), "without case, beyond ASCII")
        #expect(!Fingerprinter.reportsStatus(ofEvent: Self.event("open"), in: fixed))
        #expect(!Fingerprinter.reportsStatus(ofEvent: Self.event(""), in: ["", "fixed"]), "an empty status is none")
        #expect(!Fingerprinter.reportsStatus(ofEvent: Array(#"{"finding":{"title":"t"}}"#.utf8), in: fixed))
        #expect(!Fingerprinter.reportsStatus(ofEvent: Array("not json".utf8), in: fixed))
    }
}
