import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension TortureSuite {
    /// Crash safety (issue 7, 1): `serve` and `deliver --spool` killed with SIGKILL at random moments
    /// under load lose nothing that was acknowledged, resend with the same `webhook-id`, and leave a
    /// sound database.
    @Suite struct TortureCrashTests {
        static let severities = ["critical", "high", "medium", "low", "info"]

        /// An event of a random kind: mostly findings of every severity, some scans.
        static func event(_ id: String, random: inout some RandomNumberGenerator) -> (body: String, high: Bool) {
            if Int.random(in: 0..<5, using: &random) == 0 {
                return (#"{"event_type":"scan_completed","id":"\#(id)","scan":{"asset":"a\#(Int.random(in: 0..<100, using: &random)).example"}}"#, false)
            }
            let severity = severities.randomElement(using: &random)!
            let body = #"{"event_type":"finding","id":"\#(id)","finding":{"severity":"\#(severity)","title":"t \#(id)","asset":"db-\#(Int.random(in: 0..<9, using: &random))"}}"#
            return (body, severity == "critical" || severity == "high")
        }

        @Test func serveKilledAtRandomMomentsLosesNothingAcknowledged() async throws {
            let cycles = Torture.scale(10, long: 60)
            // Answers come after 0–10 ms, so attempts are in flight when the kill lands.
            let respond: Receiver.Respond = { _, _ in Receiver.Response(delay: .milliseconds(Int64.random(in: 0...10))) }
            let all = try Receiver(respond: respond)
            let high = try Receiver(respond: respond)
            defer { all.stop(); high.stop() }
            let server = try await ServeProcess.started(config: ["retry_schedule": ["100ms", "200ms", "400ms", "1s"]])
            defer { server.abandon() }
            _ = try await server.createWebhook(all)
            _ = try await server.createWebhook(high, ["events": ["finding"], "min_severity": "high"])

            let load = TortureLoad(prefix: "k-")
            let kills = Shared(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await load.run(pause: 10...60) { _ in server } }
                group.addTask {
                    for _ in 0..<cycles {
                        try await Task.sleep(for: .milliseconds(Int.random(in: 200...1200)))
                        await server.kill()
                        kills.update { $0 += 1 }
                        try await server.restart()
                    }
                    load.stop.set(true)
                }
                try await group.waitForAll()
            }
            // After the last restart: wait until everything acknowledged has arrived and the queue is empty.
            let acked = load.acknowledged.value
            let (expectedAll, expectedHigh) = load.expected
            let quiet = try await load.waitForArrivals(all: all, high: high, timeout: Torture.scale(60, long: 300))
            var depth = try await server.queueDepth()
            for _ in 0..<200 where depth != 0 {
                try await Serve.pause(0.05)
                depth = try await server.queueDepth()
            }
            try await Serve.pause(0.5)
            let exit = await server.stop()
            #expect(exit.status == 0, "\(exit.log.suffix(2000))")

            let (lost, duplicates) = load.checkArrivals(all: all, high: high)
            let wrongFilter = Set(Deliver.ids(high.requests)).subtracting(expectedHigh).filter { acked[$0] != nil }
            #expect(wrongFilter.isEmpty, "low-severity events reached the high webhook: \(wrongFilter.sorted().prefix(5))")
            #expect(quiet, "not all acknowledged events arrived in time")
            #expect(depth == 0, "queue depth \(depth.map(String.init) ?? "?") at the end")
            let log = server.allLogs
            #expect(!log.contains("database is locked"), "\(log.components(separatedBy: "\n").filter { $0.contains("locked") }.prefix(3))")
            let integrity = try await SQLiteCheck.integrity(server.database)
            #expect(integrity == "ok")
            #expect(kills.value == cycles)
            #expect(acked.count > cycles * 20, "too little was acknowledged (\(acked.count)) to prove anything")

            let delivered = expectedAll.intersection(Deliver.ids(all.requests)).count + expectedHigh.intersection(Deliver.ids(high.requests)).count
            Torture.report(
                "serve kill -9: cycles \(cycles), acknowledged \(acked.count) events (\(expectedAll.count + expectedHigh.count) deliveries), "
                    + "delivered \(delivered), lost \(lost), duplicates \(duplicates), integrity \(integrity)")
        }

        @Test func deliverSpoolKilledAtRandomMomentsIsFinishedByDrain() async throws {
            let count = Torture.scale(1000, long: 10000)
            let kills = Torture.scale(4, long: 12)
            // Answers after 20–40 ms, 8 at a time: a whole run takes seconds, so each kill lands mid-run.
            let receiver = try Receiver { _, _ in Receiver.Response(delay: .milliseconds(Int64.random(in: 20...40))) }
            defer { receiver.stop() }
            let scratch = try ScratchDirectory()
            let spool = scratch.path("spool.db")
            var random = SystemRandomNumberGenerator()
            let events = (0..<count).map { Self.event("s-\($0)", random: &random).body }
            let input = try scratch.file("events.ndjson", Deliver.ndjson(events))
            let common = Deliver.loopback + ["--backoff-base", "50ms", "--backoff-max", "500ms", "--timeout", "5s", "--concurrency", "8"]

            var killedRuns = 0
            for cycle in 0..<kills {
                let before = receiver.requests.count
                // Odd cycles feed the same input again (nothing is added twice); even ones drain.
                let arguments = cycle % 2 == 0
                    ? ["deliver", "--url", receiver.url, "--spool", spool, input] + common
                    : ["deliver", "--spool", spool, "--drain"] + common
                let run = try WatchedProcess.hookrelay(arguments, secret: Deliver.secret)
                // Sending starts once the first batch of 512 is committed; the rest of the input is
                // committed milliseconds later, long before the kill (and cycle 2 feeds it again).
                try await Serve.waitUntil(timeout: 20) { receiver.requests.count > before || !run.isRunning }
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...Torture.scale(600, long: 2500))))
                let result = try await run.kill()
                if result.killed { killedRuns += 1 }
            }
            let spooled = try await SQLiteCheck.scalar(spool, "SELECT count(*) FROM messages")
            #expect(spooled == "\(count)")
            let beforeDrain = receiver.requests.count
            let drain = try await Torture.run(["deliver", "--spool", spool, "--drain"] + common, secret: Deliver.secret)
            #expect(drain.status == 0, "\(drain.stderr)")

            let tally = Deliver.tally(receiver.requests)
            let missing = Set((0..<count).map { "s-\($0)" }).subtracting(tally.keys)
            #expect(missing.isEmpty, "\(missing.count) events never delivered: \(missing.sorted().prefix(10))")
            let bodies = Dictionary(uniqueKeysWithValues: events.enumerated().map { ("s-\($0.offset)", $0.element) })
            #expect(receiver.requests.allSatisfy { bodies[$0.headers["webhook-id"] ?? ""] == $0.text }, "a resend carried another id or body")
            let pending = try await SQLiteCheck.scalar(spool, "SELECT count(*) FROM deliveries WHERE status != 'delivered'")
            #expect(pending == "0")
            let integrity = try await SQLiteCheck.integrity(spool)
            #expect(integrity == "ok")
            #expect(killedRuns >= kills - 1, "only \(killedRuns) of \(kills) runs were still running when killed")
            let duplicates = receiver.requests.count - tally.count
            Torture.report(
                "deliver --spool kill -9: runs killed \(killedRuns), events \(count), delivered \(count - missing.count), lost \(missing.count), "
                    + "duplicates \(duplicates), sent by the final drain \(receiver.requests.count - beforeDrain), integrity \(integrity)")
        }
    }
}
