import HookRelayCore
@testable import HookRelayServer
import HookRelayStore
import Hummingbird
import HummingbirdTesting
import Testing

/// Repairing deliveries on a running `serve`, in process: re-queueing the failed ones,
/// recovering a time range, retrying one delivery while another retry of it is in flight.
@Suite struct ServeRepairTests {
    static func events(_ ids: [String]) -> String { ids.map { #"{"event_type":"finding","id":"\#($0)"}"# }.joined(separator: "\n") }

    @Test func retryFailedRequeuesAndRecoverResendsATimeRange() async throws {
        let serve = try ServeHarness { $0.retry = RetryPolicy(schedule: [.seconds(1)], jitter: 0) }
        let id = try await serve.webhook()
        serve.sender.script(.status(500), .status(500), .status(500), .status(500))
        try await serve.run { client in
            #expect(try await client.postEvent(Self.events(["f-1", "f-2"]), ndjson: true) == .accepted)
            try await eventually("the first attempts") { serve.sender.sent == 2 }
            serve.advance(.seconds(1))
            try await eventually("both failed") { try await serve.count(id, .failed) == 2 }
            let requeued = try await client.call(.post, "webhooks/\(id)/retry-failed")
            #expect(requeued["requeued"] as? Int == 2, "\(requeued.object)")
            try await eventually("both delivered") { try await serve.count(id, .delivered) == 2 }
            #expect(try await client.call(.post, "webhooks/\(id)/retry-failed")["requeued"] as? Int == 0)

            // Two more events a moment later; recovering from between the batches resends those two only.
            serve.advance(.milliseconds(1100))
            let boundary = serve.clock.now / 1000
            serve.advance(.milliseconds(1100))
            #expect(try await client.postEvent(Self.events(["g-1", "g-2"]), ndjson: true) == .accepted)
            try await eventually("four delivered") { try await serve.count(id, .delivered) == 4 }
            let sent = serve.sender.tally()
            // A moment after (recover leaves what changed at its own instant: what it re-queued).
            serve.advance(.milliseconds(100))
            let recovered = try await client.call(.post, "webhooks/\(id)/recover?since=\(boundary)")
            #expect(recovered["requeued"] as? Int == 2, "\(recovered.object)")
            try await eventually("the two resent") { serve.sender.sent == sent.values.reduce(0, +) + 2 }
            try await serve.settled()
            let now = serve.sender.tally()
            #expect(now["g-1"] == sent["g-1"].map { $0 + 1 } && now["g-2"] == sent["g-2"].map { $0 + 1 }, "\(now)")
            #expect(now["f-1"] == sent["f-1"] && now["f-2"] == sent["f-2"], "\(now)")
            #expect(try await client.call(.post, "webhooks/\(id)/recover").status == .badRequest)
            #expect(try await client.call(.post, "webhooks/\(id)/recover?since=soon").status == .badRequest)
            // Found by the fuzzer: this overflowed and killed the daemon.
            #expect(try await client.call(.post, "webhooks/\(id)/recover?since=31312312312312312").status == .badRequest)
            #expect(try await client.call(.post, "webhooks/wh_none/recover?since=1h").status == .notFound)
        }
        #expect(serve.sender.tally() == ["f-1": 3, "f-2": 3, "g-1": 2, "g-2": 2])
    }

    @Test func twoConcurrentRetriesOfOneDeliveryMakeOneAttempt() async throws {
        let serve = try ServeHarness { $0.retry = RetryPolicy(schedule: [.seconds(1)], jitter: 0) }
        let id = try await serve.webhook()
        serve.sender.script(.status(500), .status(500))
        try await serve.run { client in
            #expect(try await client.postEvent(#"{"event_type":"finding","id":"c-1"}"#) == .accepted)
            try await eventually("the first attempt") { serve.sender.sent == 1 }
            serve.advance(.seconds(1))
            try await eventually("failed") { try await serve.count(id, .failed) == 1 }
            let delivery = try #require(try await serve.deliveries(id)["c-1"]).id
            let before = serve.sender.sent
            // The first retry's attempt is answered only after the second retry has its answer.
            serve.sender.script(.held(204), .held(204))
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<2 { group.addTask { try await client.call(.post, "deliveries/\(delivery)/retry").status } }
                var statuses: [HTTPResponse.Status] = []
                while let status = try await group.next() {
                    statuses.append(status)
                    serve.sender.release()
                }
                return statuses
            }
            #expect(statuses.map(\.code).sorted() == [200, 409], "\(statuses)")
            #expect(serve.sender.sent == before + 1, "one attempt")
            #expect(try await serve.deliveries(id)["c-1"]?.status == .delivered)
        }
        #expect(serve.sender.sent == 3)
    }
}
