import Foundation
import HookRelayAdmin
import HookRelayCore
@testable import HookRelayServer
import HookRelayStore
import HummingbirdTesting
import Testing

/// The operator's actions on a running `serve`, in process: deletion, duplicates, pause and
/// resume, rotation, re-queueing and recovering, retrying one delivery. Time is the manual clock's.
@Suite struct ServeOperatorEngineTests {
    static func event(_ id: String) -> String { #"{"event_type":"finding","id":"\#(id)","severity":"high"}"# }

    static func events(_ ids: [String]) -> String { ids.map(event).joined(separator: "\n") }

    @Test func deletingAWebhookDiscardsItsPendingDeliveries() async throws {
        let serve = try ServeHarness {
            $0.retry = RetryPolicy(schedule: [.seconds(1), .seconds(1)], jitter: 0)
            $0.perWebhookConcurrency = 2
        }
        let doomedURL = "http://doomed.test/hook"
        let doomed = try await serve.webhook(doomedURL, ["events": ["finding"]])
        let other = try await serve.webhook("http://other.test/hook")
        // The doomed webhook's receiver holds its attempts until the test lets them fail.
        serve.sender.script(for: doomedURL, .held(503), .held(503), .held(503), .held(503), .held(503), .held(503))
        let ids = (0..<5).map { "del-\($0)" }
        try await serve.run { client in
            #expect(try await client.postEvent(Self.events(ids), ndjson: true) == .accepted)
            try await eventually("the other webhook's five delivered") { try await serve.count(other, .delivered) == 5 }
            // per_webhook_concurrency 2: two attempts are held, three deliveries wait.
            try await eventually("two attempts held") { serve.sender.tally(doomedURL).values.reduce(0, +) == 2 }

            let deleted = try await client.call(.delete, "webhooks/\(doomed)")
            #expect(deleted.status == .ok)
            #expect(deleted["deleted"] as? String == doomed)
            #expect(deleted["discarded_deliveries"] as? Int == 5, "\(deleted.object)")
            #expect(try await client.call(.get, "webhooks/\(doomed)").status == .notFound)
            #expect(try await client.call(.delete, "webhooks/\(doomed)").status == .notFound)
            let atDelete = serve.sender.tally(doomedURL)

            // The held attempts fail after the delete, their retries fall due: nothing more is sent.
            #expect(try await client.postEvent(Self.event("del-after")) == .accepted)
            serve.sender.release()
            for _ in 0..<3 { serve.advance(.seconds(1)) }
            try await eventually("del-after delivered to the other webhook") { try await serve.count(other, .delivered) == 6 }
            try await serve.settled()
            #expect(serve.sender.tally(doomedURL) == atDelete)
        }
        #expect(serve.sender.tally(doomedURL).values.reduce(0, +) == 2, "sent to a deleted webhook")
        #expect(serve.sender.tally("http://other.test/hook") == Dictionary(uniqueKeysWithValues: (ids + ["del-after"]).map { ($0, 1) }))
    }

    @Test func aDuplicateEventIsCountedAndNotSentAgain() async throws {
        let serve = try ServeHarness()
        _ = try await serve.webhook()
        let ids = (0..<3).map { "dup-\($0)" }
        try await serve.run { client in
            let first = try await client.call(.post, "events", Self.events(ids), ndjson: true)
            #expect(first.status == .accepted)
            #expect(first["accepted"] as? Int == 3)
            #expect(first["duplicates"] as? Int == 0)
            try await eventually("three sent") { serve.sender.sent == 3 }

            // The same three again, and one new one.
            let again = try await client.call(.post, "events", Self.events(ids + ["dup-new"]), ndjson: true)
            #expect(again.status == .accepted)
            #expect(again["accepted"] as? Int == 1)
            #expect(again["duplicates"] as? Int == 3)
            #expect(again["ids"] as? [String] == ["dup-0", "dup-1", "dup-2", "dup-new"])
            let single = try await client.call(.post, "events", Self.event("dup-1"))
            #expect(single.status == .accepted)
            #expect(single["accepted"] as? Int == 0)
            #expect(single["duplicates"] as? Int == 1)
            try await eventually("four sent") { serve.sender.sent == 4 }
            try await serve.settled()
        }
        #expect(serve.sender.tally() == ["dup-0": 1, "dup-1": 1, "dup-2": 1, "dup-new": 1])
    }

    @Test func aPausedWebhookAccumulatesAndResumeDrainsIt() async throws {
        let serve = try ServeHarness()
        let pausedURL = "http://paused.test/hook"
        let id = try await serve.webhook(pausedURL)
        // Gets the same events: once it has them, the dispatcher has passed the paused webhook over.
        let open = try await serve.webhook("http://open.test/hook")
        let ids = (1...5).map { "q-\($0)" }
        try await serve.run { client in
            let paused = try await client.call(.post, "webhooks/\(id)/pause")
            #expect(paused.status == .ok)
            #expect(paused["paused"] as? Bool == true)
            #expect(try await client.postEvent(Self.events(ids), ndjson: true) == .accepted)
            try await eventually("the open webhook's five delivered") { try await serve.count(open, .delivered) == 5 }
            for _ in 0..<3 { serve.advance(.seconds(1)) }
            #expect(serve.sender.tally(pausedURL).isEmpty, "a paused webhook was sent to")
            #expect(try await serve.count(id, .pending) == 5)

            let resumed = try await client.call(.post, "webhooks/\(id)/resume")
            #expect(resumed["paused"] as? Bool == false)
            try await eventually("drained") { try await serve.count(id, .delivered) == 5 }
            #expect(try await client.call(.post, "webhooks/wh_none/pause").status == .notFound)
        }
        #expect(serve.sender.tally(pausedURL) == Dictionary(uniqueKeysWithValues: ids.map { ($0, 1) }))
    }

    @Test func aRotatedSecretSignsBesideTheNewOneAndBothVerify() async throws {
        let serve = try ServeHarness()
        let created = try await serve.admin.createWebhook(["url": "http://receiver.test/hook"])
        try await serve.state.refreshWebhook(created.id)
        let old = try #require(created.secrets.first)
        let id = created.id
        try await serve.run { client in
            let rotated = try await client.call(.post, "webhooks/\(id)/rotate-secret")
            #expect(rotated.status == .ok)
            let secret = try #require(rotated["secret"] as? String)
            #expect(secret != old && secret.hasPrefix("whsec_"))
            let until = try #require(rotated["previous_secret_until"] as? Int)
            #expect(abs(Int64(until) - serve.clock.now - 24 * 3600 * 1000) < 60_000, "24 h overlap")
            #expect(try await client.call(.get, "webhooks/\(id)")["secret"] == nil, "the new secret is shown again")

            #expect(try await client.postEvent(Self.event("rot-1")) == .accepted)
            let request = try await next(serve.sender.requests)
            let header = try #require(request.header("webhook-signature"))
            let signatures = header.split(separator: " ").map(String.init)
            #expect(signatures.count == 2, "\(signatures)")
            let secrets = try [secret, old].map { try WebhookSecret($0) }
            let now = serve.clock.now / 1000
            for key in secrets {
                #expect(Self.verifies(request, signature: header, secrets: [key], now: now), "the signatures do not verify with \(key)")
            }
            for signature in signatures {
                #expect(secrets.filter { Self.verifies(request, signature: signature, secrets: [$0], now: now) }.count == 1, "each signature is one secret's")
            }
        }
    }

    static func verifies(_ request: FakeSender.Request, signature: String, secrets: [WebhookSecret], now: Int64) -> Bool {
        request.body.withUnsafeBytes { body in
            (try? Signer.verify(
                id: request.header("webhook-id"), timestamp: request.header("webhook-timestamp"), signature: signature, body: body,
                secrets: secrets, now: now)) != nil
        }
    }
}
