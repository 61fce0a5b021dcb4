import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `GET /metrics` of a running `hookrelay serve`: Prometheus text that the reference parser
/// (Python `prometheus_client`) reads, with the values the API and the receivers saw, and
/// nothing secret in it.
@Suite struct ServeMetricsTests {
    @Test func metricsCountWhatHappenedAndRevealNothing() async throws {
        let ok = try Receiver()
        let failing = try Receiver { _, _ in Receiver.Response(status: 500) }
        let gone = try Receiver { _, _ in Receiver.Response(status: 410) }
        // Never answers: its first delivery stays in flight, the others wait, due.
        let stuck = try Receiver { _, _ in Receiver.Response(hang: true) }
        let server = try ServeProcess(config: [
            // One attempt each at a time; a failed one is retried only after the test; nothing times out during it.
            "per_webhook_concurrency": 1, "retry_schedule": ["1h"], "timeout": "120s",
        ])
        defer { server.abandon() }
        // Other suites' synchronous waits can hold the test threads for many seconds: wait long.
        try await server.start(timeout: 60)
        let headerValue = "hdr-value-4f1c9e"
        var webhooks = [try await server.createWebhook(ok, ["headers": ["X-Api-Key": headerValue], "description": "desc-8d2a"])]
        webhooks.append(try await server.createWebhook(failing))
        let goneWebhook = try await server.createWebhook(gone)
        webhooks.append(goneWebhook)
        webhooks.append(try await server.createWebhook(stuck))

        let first = (1...5).map { #"{"event_type":"finding","id":"metrics-ev-\#($0)","finding":{"severity":"high","title":"content-7b3e"}}"# }
        let batch = try await server.postEvents(first)
        #expect(batch.int("accepted") == 5, "\(batch.text)")
        // 410 Gone disables its webhook after one attempt; its other deliveries fail unsent.
        #expect(try await server.waitForState(goneWebhook.id, "disabled", timeout: 30).string("state") == "disabled")
        // Two duplicates and one new event: the new one is skipped for the disabled webhook.
        let second = try await server.postEvents(Array(first[0..<2]) + [#"{"event_type":"finding","id":"metrics-ev-6","severity":"low"}"#])
        #expect(second.int("accepted") == 1, "\(second.text)")
        #expect(second.int("duplicates") == 2)
        try await Serve.waitFor(ok, 6, timeout: 30)
        try await Serve.waitFor(failing, 6, timeout: 30)

        let expected: [String: Double] = [
            "hookrelay_events_ingested_total": 6,
            #"hookrelay_attempts_total{outcome="2xx"}"#: 6,
            #"hookrelay_attempts_total{outcome="3xx"}"#: 0,
            #"hookrelay_attempts_total{outcome="4xx"}"#: 1,
            #"hookrelay_attempts_total{outcome="5xx"}"#: 6,
            #"hookrelay_attempts_total{outcome="timeout"}"#: 0,
            #"hookrelay_attempts_total{outcome="blocked"}"#: 0,
            #"hookrelay_attempts_total{outcome="error"}"#: 0,
            "hookrelay_attempt_duration_seconds_count": 13,
            #"hookrelay_deliveries{state="delivered"}"#: 6,
            // The failing webhook's six wait for their retry, the stuck one's six are due.
            #"hookrelay_deliveries{state="pending"}"#: 12,
            #"hookrelay_deliveries{state="failed"}"#: 5,
            #"hookrelay_deliveries{state="skipped"}"#: 1,
            "hookrelay_queue_depth": 12,
            #"hookrelay_webhooks{state="healthy"}"#: 2,
            #"hookrelay_webhooks{state="unhealthy"}"#: 1,
            #"hookrelay_webhooks{state="disabled"}"#: 1,
        ]
        // The counters move once a response is in, the gauges once the outcome is committed:
        // scrape until they settle (a scrape after the deadline still counts, should the test
        // threads have been held up meanwhile).
        func settled(_ text: String) -> Bool {
            let values = Self.roughValues(text)
            return expected.allSatisfy { values[$0.key] == $0.value }
        }
        let deadline = Date().addingTimeInterval(30)
        var scrape = try await Self.scrape(server)
        while !settled(scrape.text), Date() < deadline {
            try await Serve.pause(0.05)
            scrape = try await Self.scrape(server)
        }
        let samples = try await Self.parse(scrape.text)

        #expect(scrape.status == 200)
        #expect(scrape.contentType == "text/plain; version=0.0.4; charset=utf-8")
        for (series, value) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(samples.values[series] == value, "\(series)")
        }
        #expect(samples.types["hookrelay_events_ingested"] == "counter")
        #expect(samples.types["hookrelay_attempts"] == "counter")
        #expect(samples.types["hookrelay_attempt_duration_seconds"] == "histogram")
        for gauge in ["hookrelay_deliveries", "hookrelay_queue_depth", "hookrelay_oldest_due_delivery_age_seconds", "hookrelay_webhooks"] {
            #expect(samples.types[gauge] == "gauge", "\(gauge)")
        }
        #expect(samples.values[#"hookrelay_attempt_duration_seconds_bucket{le="+Inf"}"#] == 13)
        #expect(samples.values[#"hookrelay_attempt_duration_seconds_bucket{le="30.0"}"#] == 13)
        // The stuck webhook's deliveries have been due since the first batch came in.
        let age = try #require(samples.values["hookrelay_oldest_due_delivery_age_seconds"])
        #expect(age > 0 && age < 120, "\(age)")

        for webhook in webhooks {
            #expect(!scrape.text.contains(webhook.secret))
            #expect(!scrape.text.contains(webhook.id))
        }
        for secretLike in ["whsec_", headerValue, "desc-8d2a", "content-7b3e", "metrics-ev-", "127.0.0.1", "/hook", server.database] {
            #expect(!scrape.text.contains(secretLike), "/metrics shows \(secretLike)")
        }
    }

    /// `GET /metrics` with no credentials of any kind.
    static func scrape(_ server: ServeProcess) async throws -> (status: Int, contentType: String?, text: String) {
        let url = try #require(URL(string: "http://127.0.0.1:\(server.port)/metrics"))
        let (data, response) = try await URLSession.shared.data(from: url)
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, http.value(forHTTPHeaderField: "content-type"), String(decoding: data, as: UTF8.self))
    }

    /// The sample lines of `text` as `name{labels}` → value, without any checking; only to tell
    /// when the values have settled (``parse(_:)`` is the reference).
    static func roughValues(_ text: String) -> [String: Double] {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
        return values
    }

    /// The samples (`name{label="value",…}` in label order → value) and the family types, as
    /// `prometheus_client.parser.text_string_to_metric_families` reads `text`; it throws on
    /// anything that is not valid exposition format. Python runs off the test threads.
    static func parse(_ text: String) async throws -> (values: [String: Double], types: [String: String]) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try parseBlocking(text) }) }
        }
    }

    private static func parseBlocking(_ text: String) throws -> (values: [String: Double], types: [String: String]) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-metrics-\(UUID().uuidString)").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let script = """
            import sys, json
            from prometheus_client.parser import text_string_to_metric_families
            samples, types = {}, {}
            for family in text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read()):
                types[family.name] = family.type
                for sample in family.samples:
                    labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(sample.labels.items()))
                    samples[sample.name + ("{" + labels + "}" if labels else "")] = sample.value
            print(json.dumps({"values": samples, "types": types}))
            """
        let output = try Python.run(script, [path])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let values = (object["values"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.doubleValue }
        return (values, object["types"] as? [String: String] ?? [:])
    }
}
