import Foundation
import HookRelayPostgres
import Testing

extension TortureSuite {
    /// Several `serve` instances on one PostgreSQL database (issue 15): one of three killed with
    /// SIGKILL at random moments under ingest spread over all three, and restarted.
    @Suite struct TortureSharedDatabaseTests {
        @Test(.enabled(if: PostgresTestDatabase.runs, Comment(rawValue: PostgresTestDatabase.skipNote)))
        func threeInstancesWithOneKilledAtRandomLoseNothingAndKeepThePerWebhookLimit() async throws {
            let cycles = Torture.scale(10, long: 40)
            let limit = 2
            // Answers after 5–20 ms, so attempts are in flight when a kill lands and the limit is reached.
            let respond: Receiver.Respond = { _, _ in Receiver.Response(delay: .milliseconds(Int64.random(in: 5...20))) }
            let all = try Receiver(respond: respond)
            let high = try Receiver(respond: respond)
            defer { all.stop(); high.stop() }
            let database = try PostgresTestDatabase.freshURL()
            let token = "hrt_test_" + UUID().uuidString
            let config: [String: any Sendable] = ["retry_schedule": ["100ms", "200ms", "400ms", "1s"], "per_webhook_concurrency": limit]
            let servers = try (0..<3).map { _ in try ServeProcess(config: config, token: token, database: database) }
            defer { for server in servers { server.abandon() } }
            for server in servers { try await server.start() }
            _ = try await servers[0].createWebhook(all)
            _ = try await servers[0].createWebhook(high, ["events": ["finding"], "min_severity": "high"])
            // The others learn of webhooks made through the first within a second.
            try await Serve.pause(1.5)

            let bodies = Shared<[String: String]>([:])
            let acknowledged = Shared<[String: Bool]>([:])  // id: goes to `high` too
            let stopIngest = Setting(false)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var random = SystemRandomNumberGenerator()
                    var next = 0
                    while !stopIngest.get() {
                        let batch = (0..<Int.random(in: 1...40, using: &random)).map { _ in
                            defer { next += 1 }
                            return TortureCrashTests.event("p-\(next)", random: &random)
                        }
                        let ids = (next - batch.count..<next).map { "p-\($0)" }
                        bodies.update { for (id, event) in zip(ids, batch) { $0[id] = event.body } }
                        // Spread over the instances; one being killed refuses or cuts the request.
                        let server = servers[next % servers.count]
                        if let response = try? await server.postEvents(batch.map(\.body)), response.status == 202 {
                            acknowledged.update { for (id, event) in zip(ids, batch) { $0[id] = event.high } }
                        }
                        try await Task.sleep(for: .milliseconds(Int.random(in: 10...40, using: &random)))
                    }
                }
                group.addTask {
                    for _ in 0..<cycles {
                        try await Task.sleep(for: .milliseconds(Int.random(in: 300...1200)))
                        let victim = servers.randomElement()!
                        await victim.kill()
                        try await victim.restart()
                    }
                    stopIngest.set(true)
                }
                try await group.waitForAll()
            }

            let acked = acknowledged.value
            let expectedAll = Set(acked.keys)
            let expectedHigh = Set(acked.filter(\.value).keys)
            let quiet = try await Serve.waitUntil(timeout: Torture.scale(90, long: 300)) {
                expectedAll.isSubset(of: Deliver.ids(all.requests)) && expectedHigh.isSubset(of: Deliver.ids(high.requests))
            }
            for server in servers {
                let exit = await server.stop()
                #expect(exit.status == 0, "\(exit.log.suffix(2000))")
            }

            let sent = bodies.value
            var duplicates = 0
            var lost = 0
            for (receiver, expected) in [(all, expectedAll), (high, expectedHigh)] {
                let requests = receiver.requests
                let tally = Deliver.tally(requests)
                duplicates += requests.count - tally.count
                let missing = expected.subtracting(tally.keys)
                lost += missing.count
                #expect(missing.isEmpty, "\(missing.count) acknowledged events never reached \(receiver.url): \(missing.sorted().prefix(10))")
                // Every request, first or repeated, whichever instance sent it, carries its event's webhook-id.
                let mismatched = requests.filter { sent[$0.headers["webhook-id"] ?? ""] != $0.text }
                #expect(mismatched.isEmpty, "\(mismatched.count) requests carried another event's webhook-id or body")
                #expect(receiver.mostInFlight <= limit, "\(receiver.url) held \(receiver.mostInFlight) requests at once; the limit is \(limit)")
            }
            #expect(quiet, "not all acknowledged events arrived in time")
            #expect(acked.count > cycles * 20, "too little was acknowledged (\(acked.count)) to prove anything")
            let log = servers.map(\.allLogs).joined()
            #expect(!log.contains(" error "), "\(log.components(separatedBy: "\n").filter { $0.contains(" error ") }.prefix(3))")
            Torture.report(
                "three serve on one PostgreSQL database, one killed at random: cycles \(cycles), acknowledged \(acked.count) events "
                    + "(\(expectedAll.count + expectedHigh.count) deliveries), lost \(lost), duplicates \(duplicates), "
                    + "most in flight at a webhook \(max(all.mostInFlight, high.mostInFlight)) (limit \(limit))")
        }
    }
}
