import Foundation
import HookRelayCore
import Testing
@testable import HookRelayTemplates

/// `EventLayout.severity(ofEvent:)` (the scanner, what digests' bypass reads) agrees with the
/// severity templates render (`severity_name`, from the decoded event) on every kind of event.
@Suite struct EventSeverityTests {
    static let events = [
        #"{"finding":{"severity":"critical"}}"#, #"{"severity":"High"}"#, #"{"finding":{"severity":" low "}}"#,
        #"{"finding":{"severity":7},"severity":"medium"}"#, #"{"finding":{"severity":"urgent"},"severity":"high"}"#,
        #"{"finding":{"title":"no severity"}}"#, #"{"finding":"x","severity":"info"}"#, #"{"severity":"crit\u0069cal"}"#,
        #"{"finding":{"severity":null},"severity":"low"}"#, #"[{"severity":"high"}]"#, #"not json"#, #"{"severity":"high""#,
    ]

    @Test(arguments: events)
    func theScannerReadsTheSeverityTemplatesRender(_ event: String) throws {
        let bytes = Array(event.utf8)
        let scanned = EventLayout().severity(ofEvent: bytes)
        let rendered = (try? TemplateContext.make(event: bytes, layout: EventLayout(), variables: [:]))?["severity_name"] as? String
        #expect(scanned?.description ?? (rendered == nil ? nil : "none") == rendered, "\(event)")
        #expect(DigestContent.severity(of: bytes) == scanned)
    }
}
