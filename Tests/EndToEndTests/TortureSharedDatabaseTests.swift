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

            let load = TortureLoad(prefix: "p-")
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Spread over the instances; one being killed refuses or cuts the request.
                group.addTask { try await load.run(pause: 10...40) { servers[$0 % servers.count] } }
                group.addTask {
                    for _ in 0..<cycles {
                        try await Task.sleep(for: .milliseconds(Int.random(in: 300...1200)))
                        let victim = servers.randomElement()!
                        await victim.kill()
                        try await victim.restart()
                    }
                    load.stop.set(true)
                }
                try await group.waitForAll()
            }

            let acked = load.acknowledged.value
            let (expectedAll, expectedHigh) = load.expected
            let quiet = try await load.waitForArrivals(all: all, high: high, timeout: Torture.scale(90, long: 300))
            for server in servers {
                let exit = await server.stop()
                #expect(exit.status == 0, "\(exit.log.suffix(2000))")
            }
            let (lost, duplicates) = load.checkArrivals(all: all, high: high)
            for receiver in [all, high] {
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
