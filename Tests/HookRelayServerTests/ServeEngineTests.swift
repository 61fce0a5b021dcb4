import HookRelayAdmin
import HookRelayCore
import HookRelayDelivery
@testable import HookRelayServer
import HookRelayStore
import Testing

/// `serve`'s delivery behaviours in process (issue 14): the API's router, the dispatch service,
/// the real store (SQLite, and PostgreSQL when the tests have a server), a fake sender and a clock that moves only when told. Retries fall due
/// by moving the clock, not by waiting for it.
@Suite struct ServeEngineTests {
    static let event = #"{"event_type":"finding","id":"evt_1","finding":{"title":"SQL injection","severity":"high"}}"#

    @Test(arguments: StoreBackend.allCases)
    func retriesFollowTheScheduleOnTheClockAndHealthFollowsTheAttempts(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend) {
            $0.retry = RetryPolicy(schedule: [.seconds(5), .seconds(60)], jitter: 0)
            $0.unhealthyAfter = 2
        }
        let id = try await serve.webhook()
        serve.sender.script(.status(503), .status(500))
        let start = serve.clock.now
        try await serve.run { client in
            #expect(try await client.postEvent(Self.event) == .accepted)
            _ = try await next(serve.sender.requests)
            try await eventually("the first attempt recorded") { try await serve.delivery(of: id).state.attempts == 1 }
            var delivery = try await serve.delivery(of: id)
            #expect(delivery.state.status == .pending)
            #expect(delivery.state.nextAttemptAt == start + 5_000, "5 s after the attempt, by the schedule")
            #expect(delivery.state.lastHTTPStatus == 503)

            serve.advance(.seconds(5))
            _ = try await next(serve.sender.requests)
            try await eventually("the second attempt recorded") { try await serve.delivery(of: id).state.attempts == 2 }
            delivery = try await serve.delivery(of: id)
            #expect(delivery.state.nextAttemptAt == start + 65_000)
            try await eventually("two failures make the webhook unhealthy") { try await serve.admin.webhook(id).state == .unhealthy }

            serve.advance(.seconds(60))
            let third = try await next(serve.sender.requests)
            #expect(third.body == Array(Self.event.utf8), "the event's bytes, as received")
            try await eventually("delivered") { try await serve.delivery(of: id).state.status == .delivered }
            try await eventually("a success heals the webhook") { try await serve.admin.webhook(id).state == .healthy }
        }
        #expect(serve.sender.sent == 3)
    }

    @Test(arguments: StoreBackend.allCases)
    func aGoneAnswerDisablesTheWebhookAndFailsWhatElseWaits(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend) { $0.perWebhookConcurrency = 1 }
        let id = try await serve.webhook()
        serve.sender.script(.status(410))
        try await serve.run { client in
            // In one request, so both wait when the first is sent (an event arriving after the
            // 410 would be stored `skipped`).
            let events = #"{"event_type":"finding","id":"a"}"# + "\n" + #"{"event_type":"finding","id":"b"}"#
            #expect(try await client.postEvent(events, ndjson: true) == .accepted)
            _ = try await next(serve.sender.requests)
            try await eventually("both deliveries failed") {
                let records = try await serve.admin.deliveries(webhook: id, status: .failed, since: nil, before: nil, limit: 10)
                return records.count == 2
            }
            #expect(try await serve.admin.webhook(id).state == .disabled)
        }
        #expect(serve.sender.sent == 1, "nothing more went to a webhook that answered 410")
    }

    @Test(arguments: StoreBackend.allCases)
    func aPausedWebhookKeepsItsDeliveriesUntilResumed(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        let paused = try await serve.webhook("http://paused.test/hook")
        let open = try await serve.webhook("http://open.test/hook")
        try await serve.run { client in
            #expect(try await client.api(.post, "webhooks/\(paused)/pause") == .ok)
            #expect(try await client.postEvent(Self.event) == .accepted)
            let first = try await next(serve.sender.requests)
            #expect(first.url == "http://open.test/hook")
            try await eventually("the open webhook's delivery done") { try await serve.delivery(of: open).state.status == .delivered }
            // Rounds come and go; the paused webhook's delivery stays unclaimed.
            for _ in 0..<3 { serve.advance(.seconds(1)) }
            try await eventually("the dispatcher idle") { try await serve.state.read { try $0.statistics(now: 0).deliveries[.pending] } == 1 }
            #expect(try await serve.delivery(of: paused).state.attempts == 0)
            #expect(serve.sender.sent == 1)

            #expect(try await client.api(.post, "webhooks/\(paused)/resume") == .ok)
            let resumed = try await next(serve.sender.requests)
            #expect(resumed.url == "http://paused.test/hook")
            try await eventually("delivered after resuming") { try await serve.delivery(of: paused).state.status == .delivered }
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func aRotatedSecretSignsBesideTheNewOne(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        let id = try await serve.webhook()
        try await serve.run { client in
            #expect(try await client.api(.post, "webhooks/\(id)/rotate-secret") == .ok)
            #expect(try await client.postEvent(Self.event) == .accepted)
            let request = try await next(serve.sender.requests)
            let signatures = try #require(request.header("webhook-signature")).split(separator: " ")
            #expect(signatures.count == 2 && signatures.allSatisfy { $0.hasPrefix("v1,") })
            #expect(request.header("webhook-id") == "evt_1")
            #expect(request.header("webhook-timestamp") == String(serve.clock.now / 1000), "the timestamp is the clock's")
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func deletingAWebhookDiscardsItsPendingWork(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend) { $0.retry = RetryPolicy(schedule: [.seconds(5)], jitter: 0) }
        let id = try await serve.webhook()
        serve.sender.script(.status(503))
        try await serve.run { client in
            #expect(try await client.postEvent(Self.event) == .accepted)
            _ = try await next(serve.sender.requests)
            try await eventually("the retry scheduled") { try await serve.delivery(of: id).state.attempts == 1 }
            #expect(try await client.api(.delete, "webhooks/\(id)") == .ok)
            serve.advance(.seconds(10))
            try await eventually("nothing pending") { try await serve.state.read { try $0.statistics(now: 0).deliveries[.pending] } == nil }
            #expect(try await client.api(.get, "webhooks/\(id)") == .notFound)
        }
        #expect(serve.sender.sent == 1, "the discarded retry was never sent")
    }

    @Test(arguments: StoreBackend.allCases)
    func shutdownCutsOffAnAttemptAfterTheGraceAndLeavesItDueAtOnce(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend) { $0.shutdownGrace = .milliseconds(50) }
        let id = try await serve.webhook()
        serve.sender.script(.hang)
        try await serve.run { client in
            #expect(try await client.postEvent(Self.event) == .accepted)
            _ = try await next(serve.sender.requests)
            // Returning stops the service as SIGTERM does, with the attempt still in flight.
        }
        let delivery = try await serve.delivery(of: id)
        #expect(delivery.state.status == .pending)
        #expect(delivery.state.lastError == Attempt.cutOffError)
        #expect(delivery.state.nextAttemptAt == serve.clock.now, "due again at once, after the next start")
        let webhook = try await serve.admin.webhook(id)
        #expect(webhook.state == .healthy && webhook.consecutiveFailures == 0, "a cut-off attempt is not held against the webhook")
    }
}
