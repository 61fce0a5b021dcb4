import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension TortureSuite {
    /// A frozen worker (issue 7, 2): a process stopped with SIGSTOP while it holds a delivery
    /// mid-attempt, past its lease. A second process on the same database sends the delivery once
    /// the lease has run out; when the first is continued, its late result changes nothing.
    /// (The attempt log keeps the late attempt; the delivery keeps the second process's result.)
    /// For `serve` the second process is an admin command (`deliveries retry`): one `serve` per
    /// SQLite database (issue 13).
    @Suite struct TortureFrozenWorkerTests {
        /// The shortest lease these timeouts allow: timeout + connect timeout. The timeout leaves a
        /// busy test machine seconds to stop the first process while its attempt runs.
        static let lease = 4.0
        static let timeouts: [String: any Sendable] = ["timeout": "3s", "connect_timeout": "1s", "lease": "4s"]

        /// A receiver that holds every request open until `answering` is set, then answers 204.
        static func receiver(answering: Setting<Bool>) throws -> Receiver {
            try Receiver { _, _ in answering.get() ? Receiver.Response(status: 204) : Receiver.Response(hang: true) }
        }

        @Test func aStoppedServeIsOvertakenAndItsLateResultIgnored() async throws {
            let answering = Setting(false)
            let receiver = try Self.receiver(answering: answering)
            defer { receiver.stop() }
            // A retry would come 200 ms after a failure, so a late failure that took hold would show.
            let config = Self.timeouts.merging(["retry_schedule": ["200ms", "200ms"]]) { a, _ in a }
            let first = try await ServeProcess.started(config: config)
            defer { first.abandon() }
            _ = try await first.createWebhook(receiver)
            #expect(try await first.postEvent(#"{"event_type":"finding","id":"frozen-1","finding":{"severity":"high"}}"#).status == 202)
            try #require(try await Serve.waitFor(receiver, 1, timeout: 30).count >= 1)
            let id = try await Self.onlyDelivery(first).id
            first.send(SIGSTOP)
            defer { first.send(SIGCONT) }
            let stoppedAt = Date()
            answering.set(true)
            // Normally 1; more if the machine was so slow that an attempt timed out before the stop.
            let frozen = receiver.requests.count

            // `deliveries retry` is refused (75) while the stopped process's lease holds.
            let admin = ["deliveries", "retry", "\(id)", "--db", first.database] + Array(first.arguments.drop { $0 != "--config" }.prefix(2))
                + ["--allow-http", "--allow-cidr", "127.0.0.1/32"]
            var refused = 0
            var retried = try HookRelayProcess.run(admin, environment: HookRelayProcess.environment(), timeout: 30)
            while retried.status == 75, Date().timeIntervalSince(stoppedAt) < 30 {
                refused += 1
                try await Serve.pause(0.25)
                retried = try HookRelayProcess.run(admin, environment: HookRelayProcess.environment(), timeout: 30)
            }
            try #require(retried.status == 0, "\(retried.stderr)")
            #expect(refused > 0, "the lease did not hold off the second process")
            let requests = receiver.requests
            try #require(requests.count == frozen + 1, "the second process never sent the delivery")
            let takeover = requests[frozen].receivedAt.timeIntervalSince(requests[frozen - 1].receivedAt)
            // The lease began when the first process claimed, just before its request.
            #expect(takeover >= Self.lease - 1, "sent again after \(takeover) s, within the first process's lease")
            #expect(Set(Deliver.ids(requests)) == ["frozen-1"])
            first.send(SIGCONT)
            let frozeFor = Date().timeIntervalSince(stoppedAt)
            // Time for the first process's overdue timeout to fire, its result to be written, and a
            // retry to be sent if that result had taken hold.
            try await Serve.pause(2)
            let after = try await Self.onlyDelivery(first)
            #expect(after.status == "delivered")
            #expect(after.httpStatus == 204, "\(after)")
            #expect(after.attempts == frozen, "\(after)")
            #expect(receiver.requests.count == frozen + 1, "sent \(receiver.requests.count - frozen - 1) more times after the first process woke up")
            let attempts = after.log.map { "\($0["http_status"].map { "\($0)" } ?? "-") \($0["error"].map { "\($0)" } ?? "-")" }
            #expect(attempts.contains { $0.hasPrefix("204 ") }, "\(attempts)")
            #expect(first.isRunning)
            #expect(await first.stop().status == 0)
            let integrity = try await SQLiteCheck.integrity(first.database)
            #expect(integrity == "ok")
            Torture.report(
                "frozen serve: lease 4s, stopped \(String(format: "%.1f", frozeFor)) s, taken over after \(String(format: "%.1f", takeover)) s, "
                    + "requests \(receiver.requests.count), final state \(after.status) \(after.httpStatus.map(String.init) ?? "-") "
                    + "attempts \(after.attempts), attempts log [\(attempts.joined(separator: "; "))], integrity \(integrity)")
        }

        struct DeliveryView: CustomStringConvertible {
            var id: Int
            var status: String
            var httpStatus: Int?
            var attempts: Int
            var log: [[String: Any]]
            var description: String { "\(status) http \(httpStatus.map(String.init) ?? "-") attempts \(attempts) log \(log)" }
        }

        /// The one delivery in the database, with its attempts log, through the API.
        static func onlyDelivery(_ server: ServeProcess) async throws -> DeliveryView {
            let list = try #require(try await server.get("/v1/deliveries")["deliveries"] as? [[String: Any]])
            try #require(list.count == 1, "\(list)")
            let id = try #require(list[0]["id"] as? Int)
            let detail = try await server.get("/v1/deliveries/\(id)")
            let delivery = try #require(detail["delivery"] as? [String: Any])
            return DeliveryView(
                id: id, status: delivery["status"] as? String ?? "", httpStatus: delivery["last_http_status"] as? Int,
                attempts: delivery["attempts"] as? Int ?? -1, log: detail["attempts"] as? [[String: Any]] ?? [])
        }

        @Test func aStoppedDeliverIsOvertakenByADrainAndItsLateResultIgnored() async throws {
            let answering = Setting(false)
            let receiver = try Self.receiver(answering: answering)
            defer { receiver.stop() }
            let scratch = try ScratchDirectory()
            let spool = scratch.path("spool.db")
            let options = Deliver.loopback + [
                "--timeout", "3s", "--connect-timeout", "1s", "--lease", "4s", "--max-attempts", "5", "--backoff-base", "100ms",
                "--backoff-max", "200ms",
            ]
            let first = try WatchedProcess.hookrelay(
                ["deliver", "--url", receiver.url, "--spool", spool] + options,
                stdin: Data(Deliver.ndjson([#"{"event_type":"finding","id":"frozen-2"}"#]).utf8), secret: Deliver.secret)
            defer { first.send(SIGCONT) }
            try #require(try await Serve.waitFor(receiver, 1, timeout: 30).count >= 1)
            first.send(SIGSTOP)
            answering.set(true)
            let frozen = receiver.requests.count

            // A drain that stays long enough for the lease to run out.
            let drain = try await Torture.run(["deliver", "--spool", spool, "--drain", "--wait", "10s"] + options, secret: Deliver.secret)
            #expect(drain.status == 0, "\(drain.stderr)")
            let drained = try Deliver.results(drain.plain)
            #expect(drained.map(\.status) == ["delivered"])
            #expect(drained.first?.httpStatus == 204)
            let requests = receiver.requests
            try #require(requests.count == frozen + 1)
            let takeover = requests[frozen].receivedAt.timeIntervalSince(requests[frozen - 1].receivedAt)
            #expect(takeover >= Self.lease - 1, "sent again after \(takeover) s, within the first process's lease")

            first.send(SIGCONT)
            let late = try await first.wait(timeout: 20)
            #expect(!late.timedOut)
            #expect(receiver.requests.count == frozen + 1, "the first process sent it again after waking up")
            let rows = try await SQLiteCheck.rows(spool, "SELECT status, last_http_status, attempts FROM deliveries")
            #expect(rows.count == 1)
            let row = rows.first ?? []
            #expect(row.count == 3 && "\(row[0])" == "delivered" && "\(row[1])" == "204" && "\(row[2])" == "\(frozen)", "\(rows)")
            let attempts = try await SQLiteCheck.rows(spool, "SELECT http_status, error FROM attempts ORDER BY id").map { "\($0[0]) \($0[1])" }
            #expect(attempts.contains { $0.hasPrefix("204 ") }, "\(attempts)")
            let integrity = try await SQLiteCheck.integrity(spool)
            #expect(integrity == "ok")
            Torture.report(
                "frozen deliver: lease 4s, taken over by --drain after \(String(format: "%.1f", takeover)) s, requests \(receiver.requests.count), "
                    + "late run exit \(late.status) with \(late.lines.count) result lines, final state \(rows.first.map { "\($0)" } ?? "-"), "
                    + "attempts log \(attempts), integrity \(integrity)")
        }
    }
}
