import Foundation
import HookRelayAdmin
import HookRelayCore
@testable import HookRelayServer
import HookRelayStore
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// OpenTelemetry traces (issue 17): an ingest span per `POST /v1/events`, a child of the
/// request's `traceparent`; an attempt span per attempt, a child of the ingest span through the
/// stored event, whichever backend; `traceparent` sent only to webhooks that ask for it; no
/// URL query, header, body or secret in a span; nothing at all when off.
@Suite struct TracingTests {
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let parentID = "00f067aa0ba902b7"
    static let incoming = "00-\(traceID)-\(parentID)-01"
    static let event = #"{"id":"evt_t1","type":"finding","severity":"high","title":"x"}"#

    /// Posts ``event`` with the ``incoming`` trace context.
    static func postTraced(_ client: some TestClientProtocol) async throws -> HTTPResponse.Status {
        try await client.execute(
            uri: "/v1/events", method: .post,
            headers: [.authorization: "Bearer \(ServeHarness.token)", .contentType: "application/json", .init("traceparent")!: incoming],
            body: ByteBuffer(string: event)
        ).status
    }

    @Test(arguments: StoreBackend.allCases)
    func ingestAndAttemptSpansShareTheIncomingTrace(_ backend: StoreBackend) async throws {
        let asking = "http://asks.test/hook?token=sekrit-query"
        let quiet = "http://quiet.test/hook"
        let (spans, sent, stored) = try await OTLPReceiver.run { receiver, endpoint in
            let (sent, stored) = try await OTLPReceiver.tracing(to: endpoint) { tracer in
                let serve = try ServeHarness(on: backend, tracer: tracer) { $0.retry = RetryPolicy(schedule: [.seconds(5)], jitter: 0) }
                serve.sender.script(for: asking, .status(500))
                try await serve.run { client in
                    let created = try await client.call(.post, "webhooks", #"{"url":"\#(asking)","trace_context":true,"headers":{"X-Api-Key":"sekrit-header"}}"#)
                    #expect(created.status == .created)
                    #expect(created["trace_context"] as? Bool == true)
                    #expect(try await client.call(.post, "webhooks", #"{"url":"\#(quiet)"}"#)["trace_context"] as? Bool == false)
                    #expect(try await Self.postTraced(client) == .accepted)
                    try await eventually("both webhooks tried") { serve.sender.sent == 2 }
                    serve.advance(.seconds(6))
                    try await serve.settled()
                }
                // What an operator's retry claims (each backend's claim by id) has the context too.
                let stored = try await serve.state.withStore { store -> String? in
                    guard case let .claimed(delivery, _) = try store.claimDelivery(id: 1, now: serve.clock.now, lease: 1) else { return nil }
                    return delivery.traceparent
                }
                return (serve.sender.all, stored)
            }
            #expect(receiver.requests > 0, "the spans were exported")
            for body in receiver.bodies {
                for secret in ["sekrit", "whsec_", "?token", "finding"] {
                    #expect(!body.contains(secret), "no query, header, secret or body in a span: \(secret)")
                }
            }
            return (try receiver.spans(), sent, stored)
        }
        let ingest = try #require(spans.first { $0.name == Routes.ingestSpanName }, "spans: \(spans)")
        #expect(ingest.traceID == Self.traceID)
        #expect(ingest.parentSpanID == Self.parentID, "the ingest span is a child of the request's traceparent")
        #expect(ingest.attributes["hookrelay.events.accepted"] == "1")
        #expect(ingest.attributes["hookrelay.events.duplicates"] == "0")
        #expect(ingest.attributes["hookrelay.team"] == "default")
        #expect(ingest.attributes["http.response.status_code"] == "202")
        #expect(stored == "00-\(Self.traceID)-\(ingest.spanID)-01", "the event is stored with the ingest span's traceparent")

        let attempts = spans.filter { $0.name == WebhookAttempts.spanName }
        #expect(attempts.count == 3, "two attempts to one webhook, one to the other: \(attempts)")
        for attempt in attempts {
            #expect(attempt.traceID == Self.traceID, "the attempt joins the event's trace")
            #expect(attempt.parentSpanID == ingest.spanID, "a child of the ingest span, through the stored event")
            #expect(attempt.attributes["hookrelay.webhook.id"]?.hasPrefix("wh_") == true)
            #expect(attempt.attributes["hookrelay.message.id"] == "evt_t1")
        }
        func values(_ spans: [OTLPReceiver.ExportedSpan], _ key: String) -> [String] { spans.map { $0.attributes[key] ?? "-" } }
        let toAsking: [OTLPReceiver.ExportedSpan] = attempts.filter { $0.attributes["server.address"] == "asks.test" }
            .sorted { values([$0], "hookrelay.attempt.number")[0] < values([$1], "hookrelay.attempt.number")[0] }
        #expect(values(toAsking, "hookrelay.attempt.number") == ["1", "2"])
        #expect(values(toAsking, "http.response.status_code") == ["500", "204"])
        #expect(values(toAsking, "hookrelay.attempt.outcome") == ["5xx", "2xx"])
        #expect(values(toAsking, "hookrelay.delivery.next") == ["retry", "delivered"])
        #expect(attempts.filter { $0.attributes["server.address"] == "quiet.test" }.count == 1)

        // The webhook that asks gets each attempt span as the parent; the other gets nothing.
        let askingRequests = sent.filter { $0.url == asking }
        #expect(askingRequests.count == 2)
        #expect(Set(askingRequests.compactMap { $0.header("traceparent") }) == Set(toAsking.map { "00-\(Self.traceID)-\($0.spanID)-01" }))
        #expect(sent.filter { $0.url == quiet }.allSatisfy { $0.header("traceparent") == nil })
    }

    @Test func offMeansNoSpansAndNoTraceparent() async throws {
        #expect(try ServeConfiguration().tracing.resolved(environment: [:]) == nil, "off by default")
        try await OTLPReceiver.run { receiver, _ in
            let serve = try ServeHarness()
            try await serve.run { client in
                #expect(try await client.call(.post, "webhooks", #"{"url":"http://asks.test/hook","trace_context":true}"#).status == .created)
                #expect(try await Self.postTraced(client) == .accepted)
                try await serve.settled()
            }
            #expect(serve.sender.all.count == 1)
            #expect(serve.sender.all.allSatisfy { $0.header("traceparent") == nil }, "no trace context is sent when traces are off")
            let stored = try await serve.state.withStore { store -> String?? in
                guard case let .claimed(delivery, _) = try store.claimDelivery(id: 1, now: 0, lease: 1) else { return .none }
                return .some(delivery.traceparent)
            }
            #expect(stored == .some(nil), "delivery 1 is stored without a traceparent")
            #expect(receiver.requests == 0)
        }
    }

    @Test func traceContextMustBeABoolean() async throws {
        let serve = try ServeHarness()
        try await serve.run { client in
            for value in ["1", "\"yes\"", "null"] {
                let answer = try await client.call(.post, "webhooks", #"{"url":"http://receiver.test/hook","trace_context":\#(value)}"#)
                #expect(answer.status == .unprocessableContent, "trace_context \(value)")
                #expect((answer["error"] as? [String: Any])?["message"] as? String == #""trace_context" must be true or false"#)
            }
            let id = try #require(try await client.call(.post, "webhooks", #"{"url":"http://receiver.test/hook"}"#)["id"] as? String)
            #expect(try await client.call(.patch, "webhooks/\(id)", #"{"trace_context":true}"#)["trace_context"] as? Bool == true)
            #expect(try await client.call(.get, "webhooks/\(id)")["trace_context"] as? Bool == true)
        }
    }
}
