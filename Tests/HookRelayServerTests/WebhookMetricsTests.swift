import Foundation
import HookRelayAdmin
@testable import HookRelayServer
import Hummingbird
import HummingbirdTesting
import Testing

/// `metrics_per_webhook`: attempts and latency per webhook on `/metrics`, off by default, with
/// the label's values capped (`metrics_webhooks`; the rest as `other`), a deleted webhook's
/// series gone at the next scrape, and never a URL in a label.
@Suite struct WebhookMetricsTests {
    static func metrics(_ client: any TestClientProtocol) async throws -> String {
        String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
    }

    /// The `webhook` label values of `hookrelay_webhook_attempts_total` in `text`.
    static func labelled(_ text: String) -> Set<String> {
        Set(text.matches(of: #/hookrelay_webhook_attempts_total\{webhook="([^"]*)"/#).map { String($0.output.1) })
    }

    /// The value of the series `line` starts with (its name and labels).
    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func thereAreNoPerWebhookSeriesUnlessAskedFor() async throws {
        let serve = try ServeHarness()
        let id = try await serve.webhook()
        try await serve.run { client in
            #expect(try await client.postEvent(#"{"event_type":"finding","id":"m-1"}"#) == .accepted)
            try await eventually("delivered") { try await serve.count(id, .delivered) == 1 }
            let text = try await Self.metrics(client)
            #expect(!text.contains("hookrelay_webhook_"))
            #expect(!text.contains(id))
        }
    }

    @Test func theWebhooksLabelledAreCappedTheRestAreOtherAndADeletedOnesSeriesGo() async throws {
        let serve = try ServeHarness {
            $0.metricsPerWebhook = true
            $0.metricsWebhooks = 2
        }
        var made: [String] = []
        for name in ["a", "b", "c"] { made.append(try await serve.webhook("http://\(name).receiver.test/hook?key=secret")) }
        let ids = made
        try await serve.run { client in
            #expect(try await client.postEvent(#"{"event_type":"finding","id":"m-1"}"#) == .accepted)
            try await eventually("delivered") {
                var all = 0
                for id in ids { all += try await serve.count(id, .delivered) }
                return all == 3
            }
            let text = try await Self.metrics(client)
            let labelled = Self.labelled(text)
            #expect(labelled.count == 3 && labelled.contains("other"), "\(labelled.sorted())")
            #expect(labelled.subtracting(["other"]).isSubset(of: Set(ids)))
            let twoXX = (labelled.sorted()).compactMap { Self.value(text, #"hookrelay_webhook_attempts_total{webhook="\#($0)",outcome="2xx"}"#) }
            #expect(twoXX == [1, 1, 1], "\(text)")
            #expect(Self.value(text, #"hookrelay_webhook_attempt_duration_seconds_count{webhook="other"}"#) == 1)
            #expect(!text.contains("receiver.test") && !text.contains("secret"), "no URL in a label")
            if MetricsPromtoolTests.available() {
                let checked = try MetricsPromtoolTests.promtool(["check", "metrics"], input: Data(text.utf8))
                #expect(checked.status == 0 && checked.output.isEmpty, "promtool check metrics:\n\(checked.output)\n\(text)")
            }

            // A deleted webhook's series go, and its place is the next webhook's.
            let deleted = try #require(labelled.subtracting(["other"]).sorted().first)
            #expect(try await client.api(.delete, "webhooks/" + deleted) == .ok)
            let after = try await Self.metrics(client)
            #expect(!after.contains(deleted), "\(after)")
            #expect(Self.labelled(after).count == 2)
            let newer = try await serve.webhook("http://d.receiver.test/hook")
            #expect(try await client.postEvent(#"{"event_type":"finding","id":"m-2"}"#) == .accepted)
            try await eventually("delivered") { try await serve.count(newer, .delivered) == 1 }
            let last = try await Self.metrics(client)
            #expect(Self.labelled(last).contains(newer) && Self.labelled(last).count == 3, "\(Self.labelled(last).sorted())")
        }
    }

    @Test func theConfigKeysAreReadAndAWrongCapIsRefused() throws {
        let apply = ServeConfiguration.fromTOML
        #expect(try !apply("").metricsPerWebhook && (try apply("")).metricsWebhooks == 100)
        let on = try apply("metrics_per_webhook = true\nmetrics_webhooks = 20")
        #expect(on.metricsPerWebhook && on.metricsWebhooks == 20)
        for wrong in ["metrics_webhooks = 0", "metrics_webhooks = 10001"] {
            let error = #expect(throws: ServeConfiguration.Problem.self) { try apply(wrong) }
            #expect(error?.description.hasSuffix("metrics_webhooks must be between 1 and 10000") == true, "\(String(describing: error))")
        }
    }
}
