import HookRelayCore
@testable import HookRelayServer
import HookRelayStore
import Testing

/// Which webhooks ingest gives an event, in process (issue 14): a health change only sets
/// whether a webhook's deliveries are skipped; the filters are not built again.
@Suite struct IngestMatchersTests {
    /// The targets `matchers` give each of `events`, as "webhook" or "webhook skipped".
    func targets(_ matchers: IngestMatchers, _ events: [String]) throws -> [[String]] {
        let configuration = RecordReaderConfiguration(selector: EventLayout().selector)
        var batch = IngestBatch(webhooks: matchers.webhooks)
        try Array(events.joined(separator: "\n").utf8).withUnsafeBytes { bytes in
            try RecordReader.records(in: bytes, configuration: configuration) { record in
                matchers.addTargets(for: record, among: matchers.indices(of: Team.defaultID), to: &batch)
                batch.append(id: "e\(batch.count)", body: record.bytes)
            }
        }
        let stored = try SQLiteSpool(path: ":memory:")
        _ = try stored.ingest([batch], now: 1)
        let rows = try stored.connection.statement("""
            SELECT m.id, d.endpoint, d.status FROM messages m LEFT JOIN deliveries d ON d.message_id = m.id ORDER BY m.id, d.id
            """)
        var all: [[String]] = []
        while try rows.step() {
            if Int(rows.int(0)) > all.count { all.append([]) }
            if let endpoint = rows.text(1) { all[all.count - 1].append(endpoint + (rows.text(2) == "skipped" ? " skipped" : "")) }
        }
        try rows.run()
        return all
    }

    @Test func aHealthChangeSetsOnlyWhetherDeliveriesAreSkipped() throws {
        var findings = Webhook(id: "wh_b", url: "https://b.example/", events: ["finding"], minSeverity: .high, secrets: ["whsec_x"], now: 0)
        findings.state = .unhealthy
        let every = Webhook(id: "wh_a", url: "https://a.example/", secrets: ["whsec_x"], now: 0)
        var matchers = IngestMatchers([findings, every])
        let before = matchers
        let events = [
            #"{"id":"1","event_type":"finding","finding":{"severity":"critical"}}"#,
            #"{"id":"2","event_type":"finding","finding":{"severity":"low"}}"#,
        ]
        #expect(try targets(matchers, events) == [["wh_a", "wh_b"], ["wh_a"]])
        matchers.healthChanged("wh_b", to: .disabled)
        #expect(try targets(matchers, events) == [["wh_a", "wh_b skipped"], ["wh_a"]])
        #expect(try targets(before, events) == [["wh_a", "wh_b"], ["wh_a"]], "a copy taken before keeps its decisions")
        #expect(matchers.filters.withUnsafeBufferPointer { $0.baseAddress } == before.filters.withUnsafeBufferPointer { $0.baseAddress },
                "the filters are shared, not built again")
        matchers.healthChanged("wh_b", to: .healthy)
        matchers.healthChanged("wh_unknown", to: .disabled)
        #expect(try targets(matchers, events) == [["wh_a", "wh_b"], ["wh_a"]])
    }
}
