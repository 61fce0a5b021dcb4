import Testing
@testable import HookRelayCore

@Suite struct FilterTests {
    /// The verdicts of `filter` for each record of `input`.
    func verdicts(_ filter: Filter, _ input: [String], layout: EventLayout = EventLayout()) throws -> [Filter.Verdict] {
        var verdicts: [Filter.Verdict] = []
        let paths = layout.selector.paths.map { $0.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".") }
        _ = try read(Array(input.joined(separator: "\n").utf8), paths: paths) { record in
            verdicts.append(filter.evaluate(record, layout: layout))
        }
        return verdicts
    }

    let events = [
        #"{"event_type":"finding","finding":{"severity":"critical","asset":"api.example.com"}}"#,
        #"{"event_type":"finding","finding":{"severity":"LOW","asset":"www.example.org"}}"#,
        #"{"event_type":"finding","severity":"High","asset":"db.internal"}"#,
        #"{"event_type":"scan_completed","scan":{"asset":"api.example.com"}}"#,
        #"{"event_type":"asset_changed","asset":{"name":"new.example.com"}}"#,
        #"{"event_type":"finding","finding":{"severity":"urgent"}}"#,
        #"{"event_type":"finding","finding":{"severity":3}}"#,
        #"{"event_type":"fin\u0064ing","finding":{"severity":"crit\u0069cal"}}"#,
    ]

    @Test func minimumSeverityPassesEventsWithoutOne() throws {
        let result = try verdicts(Filter(severity: .atLeast(.high)), events).map(\.matches)
        #expect(result == [true, false, true, true, true, false, false, true])
    }

    @Test func exactSeverities() throws {
        let result = try verdicts(Filter(severity: .oneOf([.low, .high])), events).map(\.matches)
        #expect(result == [false, true, true, true, true, false, false, false])
    }

    @Test func unknownSeveritiesAreCountedWhateverTheFilter() throws {
        let result = try verdicts(Filter(), events)
        #expect(result.map(\.unknownSeverity) == [false, false, false, false, false, true, true, false])
        #expect(result.allSatisfy { $0.matches })
        let excluded = try verdicts(Filter(severity: .atLeast(.info)), events)
        #expect(excluded[5].exclusion == .unknownSeverity("urgent"))
        #expect(excluded[6].exclusion == .unknownSeverity(nil))
    }

    @Test func eventTypesAreComparedUnescaped() throws {
        let result = try verdicts(Filter(eventTypes: ["finding"]), events).map(\.matches)
        #expect(result == [true, true, true, false, false, true, true, true])
        let excluded = try verdicts(Filter(eventTypes: ["finding"]), events)[3].exclusion
        #expect(excluded == .eventType("scan_completed"))
        #expect(excluded?.description == #"event type "scan_completed" is not selected"#)
    }

    @Test func assetGlobsLookInEveryAssetField() throws {
        let result = try verdicts(Filter(assetGlobs: ["*.example.com"]), events).map(\.matches)
        #expect(result == [true, false, false, true, true, false, false, false])
        let internalOnly = try verdicts(Filter(assetGlobs: ["db.*", "www.example.[a-o]rg"]), events).map(\.matches)
        #expect(internalOnly == [false, true, true, false, false, false, false, false])
    }

    @Test func customFieldPaths() throws {
        let layout = EventLayout(typePath: "kind", severityPaths: ["meta.level"])
        let input = [#"{"kind":"finding","meta":{"level":"info"}}"#, #"{"kind":"finding","meta":{"level":"critical"}}"#]
        let result = try verdicts(Filter(eventTypes: ["finding"], severity: .atLeast(.medium)), input, layout: layout)
        #expect(result.map(\.matches) == [false, true])
    }

    @Test func severityNames() {
        #expect(Severity("CRITICAL") == .critical)
        #expect(Severity("Info") == .info)
        #expect(Severity("critical ") == nil)
        #expect(Severity("hig") == nil)
        #expect(Severity.allCases.sorted() == [.info, .low, .medium, .high, .critical])
    }

    @Test func byteCounts() {
        #expect(ByteCount.parse("16M") == 16 << 20)
        #expect(ByteCount.parse("512k") == 512 << 10)
        #expect(ByteCount.parse("1GiB") == 1 << 30)
        #expect(ByteCount.parse("100") == 100)
        #expect(ByteCount.parse("0") == nil)
        #expect(ByteCount.parse("lots") == nil)
        #expect(ByteCount.format(16 << 20) == "16 MiB")
    }
}
