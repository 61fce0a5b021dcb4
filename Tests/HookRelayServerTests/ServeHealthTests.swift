import HookRelayAdmin
import HookRelayCore
@testable import HookRelayServer
import HookRelayStore
import Testing

/// A webhook's health in `serve`, in process: failures make it unhealthy, failing for
/// `disable_after` disables it, 410 disables it at once, an enable and a success heal it. The
/// failing time is measured on the manual clock.
@Suite struct ServeHealthTests {
    /// Three attempts an event, a second apart; `unhealthy` after two failures, `disabled` at the
    /// first failure ten seconds or more after the failing began.
    static func health(_ configuration: inout ServeConfiguration) {
        configuration.retry = RetryPolicy(schedule: [.seconds(1), .seconds(1)], jitter: 0)
        configuration.unhealthyAfter = 2
        configuration.disableAfter = .seconds(10)
    }

    static func event(_ id: String) -> String { #"{"event_type":"finding","id":"\#(id)","severity":"high"}"# }

    /// Sends `event` and moves the clock through its retries until its delivery has `attempts` of them.
    static func fail(_ serve: ServeHarness, _ webhook: String, _ event: String, attempts: Int) async throws {
        for attempt in 1...attempts {
            if attempt > 1 { serve.advance(.seconds(1)) }
            try await eventually("\(event)'s attempt \(attempt)") { try await serve.deliveries(webhook)[event]?.attempts == attempt }
        }
    }

    @Test func aFailingWebhookTurnsUnhealthyThenDisabledAndHealthyAgainAfterEnableAndASuccess() async throws {
        let serve = try ServeHarness(Self.health)
        let id = try await serve.webhook()
        // h-1 three times, h-2 once; after the enable h-4 twice, then success (204).
        serve.sender.script(.status(500), .status(500), .status(500), .status(500), .status(500), .status(500))
        let start = serve.clock.now
        try await serve.run { client in
            #expect(try await client.call(.get, "webhooks/\(id)")["state"] as? String == "healthy")

            // h-1 fails three times: unhealthy, and it stays so while it has failed for less than disable_after.
            #expect(try await client.postEvent(Self.event("h-1")) == .accepted)
            try await Self.fail(serve, id, "h-1", attempts: 3)
            try await eventually("h-1 failed") { try await serve.deliveries(id)["h-1"]?.status == .failed }
            #expect(try await client.call(.get, "webhooks/\(id)")["state"] as? String == "unhealthy")
            serve.advance(.seconds(1))
            try await serve.settled()
            #expect(serve.sender.tally() == ["h-1": 3], "retry_schedule has two retries")
            #expect(try await client.call(.get, "webhooks/\(id)")["state"] as? String == "unhealthy")

            // Past disable_after since the first failure, h-2's first failure disables the webhook.
            serve.advance(.milliseconds(10_000 - (serve.clock.now - start)))
            #expect(try await client.postEvent(Self.event("h-2")) == .accepted)
            try await eventually("disabled") { try await serve.admin.webhook(id).state == .disabled }
            #expect(try await client.call(.get, "webhooks/\(id)")["state"] as? String == "disabled")

            // Disabled: a new event is accepted, but nothing is sent, not even h-2's retries.
            let skipped = try await client.call(.post, "events", Self.event("h-3"))
            #expect(skipped.status == .accepted)
            #expect(skipped["accepted"] as? Int == 1)
            #expect(try await serve.deliveries(id)["h-3"]?.status == .skipped)
            for _ in 0..<3 { serve.advance(.seconds(1)) }
            try await serve.settled()
            #expect(serve.sender.tally() == ["h-1": 3, "h-2": 1])
            #expect(try await client.call(.get, "webhooks/\(id)")["state"] as? String == "disabled")

            // Enabled: h-4 fails twice (unhealthy again), then one success makes the webhook healthy.
            let enabled = try await client.call(.post, "webhooks/\(id)/enable")
            #expect(enabled.status == .ok)
            #expect(enabled["state"] as? String == "healthy")
            #expect(enabled["consecutive_failures"] as? Int == 0)
            #expect(try await client.postEvent(Self.event("h-4")) == .accepted)
            try await Self.fail(serve, id, "h-4", attempts: 2)
            serve.advance(.seconds(1))
            try await eventually("h-4 delivered") { try await serve.deliveries(id)["h-4"]?.status == .delivered }
            try await eventually("four health changes") { serve.log.healthChanges(of: id).count >= 4 }
            #expect(serve.log.healthChanges(of: id) == ["unhealthy", "disabled", "unhealthy", "healthy"])
            #expect(serve.sender.tally()["h-4"] == 3)
            #expect(try await client.call(.get, "webhooks/\(id)")["state"] as? String == "healthy")
        }
        #expect(serve.sender.tally()["h-3"] == nil, "an event ingested while disabled was sent")
        #expect(serve.sender.tally() == ["h-1": 3, "h-2": 1, "h-4": 3])

        // The state is persisted: a new run reads it.
        let restarted = try ServeHarness(reopening: serve)
        #expect(restarted.state.webhook(id)?.state == .healthy)
        try await restarted.run { client in
            let shown = try await client.call(.get, "webhooks/\(id)")
            #expect(shown["state"] as? String == "healthy")
        }
    }

    @Test func changingAFailingWebhookKeepsItsFailureClock() async throws {
        let serve = try ServeHarness(Self.health)
        let id = try await serve.webhook()
        serve.sender.script(.status(500), .status(500), .status(500), .status(500))
        let start = serve.clock.now
        try await serve.run { client in
            #expect(try await client.postEvent(Self.event("k-1")) == .accepted)
            try await Self.fail(serve, id, "k-1", attempts: 3)
            try await eventually("unhealthy") { try await serve.admin.webhook(id).state == .unhealthy }

            let changed = try await client.call(.patch, "webhooks/\(id)", #"{"description":"renamed"}"#)
            #expect(changed.status == .ok)
            #expect(changed["description"] as? String == "renamed")
            #expect(changed["state"] as? String == "unhealthy")

            // Failing since the first attempt, disable_after ago: the next failure disables it.
            serve.advance(.milliseconds(10_000 - (serve.clock.now - start)))
            #expect(try await client.postEvent(Self.event("k-2")) == .accepted)
            try await eventually("k-2's attempt") { serve.sender.sent == 4 }
            try await eventually("disabled") { try await serve.admin.webhook(id).state == .disabled }
        }
        #expect(serve.sender.tally() == ["k-1": 3, "k-2": 1])
    }

    @Test func theFailureCountIsShownWhileAWebhookFails() async throws {
        let serve = try ServeHarness {
            $0.retry = RetryPolicy(schedule: [.seconds(1), .seconds(1), .seconds(1)], jitter: 0)
            $0.unhealthyAfter = 2
        }
        let id = try await serve.webhook()
        serve.sender.script(.status(500), .status(500), .status(500), .status(500))
        try await serve.run { client in
            #expect(try await client.postEvent(Self.event("c-1")) == .accepted)
            try await Self.fail(serve, id, "c-1", attempts: 4)
            try await serve.settled()
            let shown = try await client.call(.get, "webhooks/\(id)")
            #expect(shown["state"] as? String == "unhealthy")
            #expect(shown["consecutive_failures"] as? Int == 4, "\(shown.object)")
        }
        #expect(serve.sender.sent == 4)
    }

    @Test func a410DisablesTheWebhookAtOnce() async throws {
        let serve = try ServeHarness {
            $0.retry = RetryPolicy(schedule: [.seconds(1), .seconds(1), .seconds(1)], jitter: 0)
            $0.unhealthyAfter = 5
        }
        let id = try await serve.webhook()
        serve.sender.script(.status(410), .status(410), .status(410), .status(410))
        try await serve.run { client in
            #expect(try await client.postEvent(Self.event("g-1")) == .accepted)
            try await eventually("disabled") { try await serve.admin.webhook(id).state == .disabled }
            #expect(try await client.call(.get, "webhooks/\(id)")["state"] as? String == "disabled")
            #expect(try await client.postEvent(Self.event("g-2")) == .accepted)
            for _ in 0..<4 { serve.advance(.seconds(1)) }
            try await serve.settled()
            let deliveries = try await serve.deliveries(id)
            #expect(deliveries["g-1"]?.status == .failed && deliveries["g-1"]?.attempts == 1)
            #expect(deliveries["g-2"]?.status == .skipped)
        }
        #expect(serve.sender.tally() == ["g-1": 1], "one attempt, no retry, nothing after")
        #expect(serve.log.healthChanges(of: id) == ["disabled"])
    }
}
