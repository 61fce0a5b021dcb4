import Foundation
import HookRelayStore
@testable import HookRelayServer
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// Losing the database (issue 15): clients hear 503 with `Retry-After` within seconds, never a 500
/// and never a 202 for what was not stored; attempts in flight finish and their outcomes are
/// written once the database is back; the instance reconnects by itself.
@Suite struct ServeOutageTests {
    struct Busy: TransientStoreError, CustomStringConvertible {
        var isTransient: Bool
        var description: String { "database is locked in /var/lib/hookrelay/x.db" }
    }

    @Test func aTransientStoreErrorIs503WithRetryAfterAndAnyOtherA500() async throws {
        let log = LogRecorder()
        let router = Router(context: ServeRequestContext.self)
        router.add(middleware: ErrorMiddleware(logger: Logger(label: "test") { _ in log }))
        router.get("/v1/busy") { _, _ -> Response in throw Busy(isTransient: true) }
        router.get("/v1/broken") { _, _ -> Response in throw Busy(isTransient: false) }
        try await Application(router: router).test(.router) { client in
            let busy = try await client.execute(uri: "/v1/busy", method: .get)
            #expect(busy.status == .serviceUnavailable)
            #expect(busy.headers[.retryAfter] == "2")
            #expect(String(buffer: busy.body) == #"{"error":{"message":"the database is unavailable; nothing of this request was stored; retry"}}"#)
            #expect(try await client.execute(uri: "/v1/broken", method: .get).status == .internalServerError)
        }
        #expect(log.all.map(\.message) == ["request failed"], "the 500 is logged; the 503 is logged where the store failed")
    }

    static func event(_ id: String) -> String { #"{"event_type":"finding","id":"\#(id)"}"# }

    @Test(.enabled(if: PrivatePostgres.runs, Comment(rawValue: PrivatePostgres.skipNote)))
    func losingPostgreSQLAnswers503KeepsTheOutcomeInFlightAndReconnects() async throws {
        let cluster = try PrivatePostgres()
        let serve = try ServeHarness { $0.database = cluster.url }
        let id = try await serve.webhook()
        serve.sender.script(.held(204))
        try await serve.run { client in
            #expect(try await client.postEvent(Self.event("a")) == .accepted)
            let inFlight = try await next(serve.sender.requests)
            #expect(inFlight.header("webhook-id") == "a")

            try cluster.stop()
            let start = ContinuousClock.now
            let refused = try await client.execute(
                uri: "/v1/events", method: .post,
                headers: [.authorization: "Bearer \(ServeHarness.token)", .contentType: "application/json"],
                body: ByteBuffer(string: Self.event("b")))
            let waited = start.duration(to: .now)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "2")
            #expect(String(buffer: refused.body).contains("the database is unavailable; nothing of this request was stored"))
            // Not the 75 s a statement may take: a connection is waited for 2 s (then 250 ms).
            #expect(waited < .seconds(8), "answered after \(waited)")
            // A second refusal in the same outage: ingest logs the outage once, not per commit.
            #expect(try await client.postEvent(Self.event("c")) == .serviceUnavailable)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .serviceUnavailable)
            #expect(try await client.api(.get, "deliveries") == .serviceUnavailable, "the API's reads too")

            // The attempt in flight finishes while the database is down; its outcome is kept.
            serve.sender.release()
            try await eventually("the dispatcher reports the outage") {
                serve.log.all.contains { $0.message.hasPrefix("the database is unavailable") }
            }
            try await Task.sleep(for: .seconds(1))

            try cluster.start()
            try await eventually("the kept outcome written", within: .seconds(60)) {
                (try? await serve.delivery(of: id))?.state.status == .delivered
            }
            let delivered = try await serve.delivery(of: id)
            #expect(delivered.state.attempts == 1)
            #expect(delivered.state.lastHTTPStatus == 204)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)

            // New events are accepted and delivered (b was refused, so it is new here).
            #expect(try await client.postEvent(Self.event("b")) == .accepted)
            try await eventually("b delivered") {
                let records = try await serve.admin.deliveries(webhook: id, status: .delivered, since: nil, before: nil, limit: 10)
                return records.count == 2
            }
        }
        #expect(serve.sender.tally() == ["a": 1, "b": 1], "a sent once, its outcome kept; b sent once it was accepted")
        let logged = serve.log.all
        #expect(!logged.contains { $0.message == "request failed" }, "no 500")
        #expect(logged.filter { $0.message.hasPrefix("the database is unavailable") }.count == 1, "logged once per outage")
        #expect(logged.contains { $0.message.hasPrefix("the database is back") })
        #expect(logged.filter { $0.message.hasPrefix("ingest failed") }.map(\.message) == [
            "ingest failed: the database is unavailable; answering 503 until it is back",
        ])
        #expect(logged.filter { $0.message == "ingest: the database is back" }.count == 1)
    }
}
