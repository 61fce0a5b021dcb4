import Foundation
import Testing

extension TortureSuite {
    /// Hostile endpoints (issue 7, 4): receivers that never answer, drip, answer 10 MB or a gzip
    /// bomb, redirect to 127.0.0.1, or reset. Every attempt ends within its timeout, memory stays
    /// bounded, no redirect is followed, and a healthy webhook beside them is not slowed down.
    @Suite struct TortureHostileEndpointTests {
        /// The attempt limit of these tests, and what an attempt may take beyond it (scheduling on a
        /// busy 2-core machine).
        static let timeout = 2.0
        static let slack = 0.75

        /// Peak RSS limits, in MiB: well above what the runs measure (see docs/benchmarks.md, the torture suite), well
        /// below what reading a 10 MB body or inflating the gzip bomb would take.
        static let deliverRSSLimit = 64
        static let serveRSSLimit = 96

        @Test func deliverEndsEveryAttemptInTimeAndFollowsNothing() async throws {
            let endpoints = try await HostileEndpoints.start()
            defer { endpoints.stop() }
            let healthy = try Receiver()
            defer { healthy.stop() }
            let scratch = try ScratchDirectory()
            let spool = scratch.path("spool.db")
            let count = Torture.scale(10, long: 50)
            let urls = HostileEndpoints.names.map(endpoints.url) + [healthy.url]
            let run = try await Torture.run(
                ["deliver", "--spool", spool, "--timeout", "2s", "--connect-timeout", "1s", "--max-attempts", "2", "--backoff-base", "100ms",
                 "--backoff-max", "200ms", "--concurrency", "32"] + urls.flatMap { ["--url", $0] } + Deliver.loopback,
                stdin: Data(Deliver.ndjson(Deliver.events(count, prefix: "hostile")).utf8), secret: Deliver.secret, timeout: 120)
            #expect(run.status == 75, "\(run.stderr)")
            let results = try Deliver.results(run.plain)
            #expect(results.count == count * urls.count)
            func outcomes(_ url: String) -> [DeliveryResult] { results.filter { $0.url == url } }
            for name in ["hang", "drip"] {
                let lines = outcomes(endpoints.url(name))
                #expect(lines.count == count && lines.allSatisfy { $0.status == "failed" && $0.attempts == 2 && $0.httpStatus == nil }, "\(name): \(lines.prefix(2))")
                #expect(lines.allSatisfy { $0.error?.contains("2s") == true }, "\(name): \(lines.first?.error ?? "-")")
            }
            for name in ["big", "gzip"] {
                let lines = outcomes(endpoints.url(name))
                #expect(lines.count == count && lines.allSatisfy { $0.status == "delivered" && $0.httpStatus == 200 }, "\(name): \(lines.prefix(2))")
            }
            for (name, status) in [("redirect302", 302), ("redirect307", 307)] {
                let lines = outcomes(endpoints.url(name))
                #expect(lines.count == count && lines.allSatisfy { $0.status == "failed" && $0.httpStatus == status }, "\(name): \(lines.prefix(2))")
            }
            let reset = outcomes(endpoints.url("reset"))
            #expect(reset.count == count && reset.allSatisfy { $0.status == "failed" && $0.httpStatus == nil && $0.error != nil }, "\(reset.prefix(2))")
            #expect(outcomes(healthy.url).allSatisfy { $0.status == "delivered" && $0.httpStatus == 204 })
            #expect(Set(Deliver.ids(healthy.requests)) == Set((0..<count).map { "hostile-\($0)" }))

            // Every attempt, from the spool's log: within the timeout; the gzip body kept as it came.
            let attempts = try await SQLiteCheck.rows(
                spool, "SELECT d.endpoint, a.latency_ms, hex(substr(a.response_body, 1, 2)), length(a.response_body) FROM attempts a JOIN deliveries d ON d.id = a.delivery_id")
            var longest: [String: Int] = [:]
            for row in attempts {
                let name = HostileEndpoints.names.first { endpoints.url($0) == "\(row[0])" } ?? "healthy"
                longest[name] = max(longest[name] ?? 0, row[1] as? Int ?? Int.max)
                if name == "gzip" { #expect("\(row[2])" == "1F8B", "the gzip body was not kept as sent (inflated?)") }
                if name == "big" { #expect(row[3] as? Int == 4096, "the first 4 KiB of the body are kept") }
            }
            #expect(attempts.count == count * (2 * 5 + 1 + 1 + 1), "attempts: \(attempts.count)")
            let overdue = longest.filter { Double($0.value) > (Self.timeout + Self.slack) * 1000 }
            #expect(overdue.isEmpty, "attempts beyond the 2 s timeout: \(overdue)")
            let accepted = endpoints.counts("accept")
            #expect(accepted["target"] == nil, "the redirect was followed: \(accepted)")
            #expect(endpoints.counts("request")["reset"] == count * 2)
            let peak = run.peakKilobytes
            #expect(peak > 0 && peak < Self.deliverRSSLimit * 1024, "peak RSS \(Torture.megabytes(kilobytes: peak))")
            Torture.report(
                "hostile endpoints, deliver: \(count) events x 8 URLs in \(String(format: "%.1f", run.seconds)) s, "
                    + "longest attempt \(longest.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) ms" }.joined(separator: ", ")) (timeout 2 s), "
                    + "redirect target connections \(accepted["target"] ?? 0), peak RSS \(Torture.megabytes(kilobytes: peak)) (limit \(Self.deliverRSSLimit) MB)")
        }

        @Test func hostileWebhooksDoNotSlowAHealthyOne() async throws {
            let endpoints = try await HostileEndpoints.start()
            defer { endpoints.stop() }
            let calm = try Receiver()
            let stormy = try Receiver()
            defer { calm.stop(); stormy.stop() }
            let count = Torture.scale(100, long: 500)
            let config: [String: any Sendable] = ["timeout": "2s", "connect_timeout": "1s", "retry_schedule": ["1s"], "shutdown_grace": "1s"]
            // Two daemons side by side, so both see the same load from the rest of the machine: one
            // with the healthy webhook alone, one with a healthy webhook beside the seven hostile ones.
            let alone = try await ServeProcess.started(config: config)
            let beside = try await ServeProcess.started(config: config)
            defer { alone.abandon(); beside.abandon() }
            let peak = Shared(0)
            let sampler = beside.samplePeakRSS(into: peak)
            defer { sampler.cancel() }
            _ = try await alone.createWebhook(calm)
            _ = try await beside.createWebhook(stormy)
            for name in HostileEndpoints.names { _ = try await beside.createWebhook(nil, ["url": endpoints.url(name)]) }

            // Each event to both, in turns, paced; a latency is from just before the POST until the
            // receiver has the event.
            var sent: [String: Date] = [:]
            for index in 0..<count {
                let pair = [(alone, "calm-\(index)"), (beside, "storm-\(index)")]
                for (server, id) in index % 2 == 0 ? pair : pair.reversed() {
                    sent[id] = Date()
                    let response = try await server.postEvent(#"{"event_type":"finding","id":"\#(id)","finding":{"severity":"high"}}"#)
                    #expect(response.status == 202)
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            try await Serve.waitUntil(timeout: 30) { calm.requests.count >= count && stormy.requests.count >= count }
            func latencies(_ receiver: Receiver) -> [Double] {
                receiver.requests.compactMap { request in sent[request.headers["webhook-id"] ?? ""].map { request.receivedAt.timeIntervalSince($0) } }
            }
            let baseline = latencies(calm)
            let underAttack = latencies(stormy)
            // Let the hostile attempts in flight run into their timeouts before stopping.
            try await Serve.pause(Self.timeout + 0.5)
            #expect(await alone.stop().status == 0)
            #expect(await beside.stop().status == 0)
            sampler.cancel()
            let server = beside

            #expect(baseline.count == count && underAttack.count == count)
            let p95Calm = Torture.percentile(baseline, 0.95)
            let p95Storm = Torture.percentile(underAttack, 0.95)
            // Twice the baseline, and at least 500 ms: a quarter of the hostile timeout, so a healthy
            // webhook held up behind a hanging one (2 s) still fails, while scheduling noise of a
            // loaded 2-core machine running the whole suite (p95 236-394 ms seen there) does not.
            let allowed = max(2 * p95Calm, 0.5)
            #expect(p95Storm <= allowed, "p95 \(Torture.milliseconds(p95Storm)) beside hostile webhooks, \(Torture.milliseconds(p95Calm)) alone")

            let attempts = try await SQLiteCheck.rows(
                server.database, "SELECT w.url, a.latency_ms FROM attempts a JOIN deliveries d ON d.id = a.delivery_id JOIN webhooks w ON w.id = d.endpoint")
            var longest: [String: Int] = [:]
            var perEndpoint: [String: Int] = [:]
            for row in attempts {
                let name = HostileEndpoints.names.first { endpoints.url($0) == "\(row[0])" } ?? "healthy"
                longest[name] = max(longest[name] ?? 0, row[1] as? Int ?? Int.max)
                perEndpoint[name, default: 0] += 1
            }
            let overdue = longest.filter { Double($0.value) > (Self.timeout + Self.slack) * 1000 }
            #expect(overdue.isEmpty, "attempts beyond the 2 s timeout: \(overdue)")
            #expect(Set(perEndpoint.keys) == Set(HostileEndpoints.names + ["healthy"]), "\(perEndpoint)")
            let accepted = endpoints.counts("accept")
            #expect(accepted["target"] == nil, "the redirect was followed: \(accepted)")
            let peakKilobytes = peak.value
            #expect(peakKilobytes > 0 && peakKilobytes < Self.serveRSSLimit * 1024, "peak RSS \(Torture.megabytes(kilobytes: peakKilobytes))")
            Torture.report(
                "hostile endpoints, serve: healthy webhook p95 \(Torture.milliseconds(p95Calm)) in a daemon alone, \(Torture.milliseconds(p95Storm)) in one beside 7 hostile webhooks "
                    + "(ratio \(String(format: "%.2f", p95Storm / p95Calm)), allowed \(Torture.milliseconds(allowed))), \(count) events each, "
                    + "attempts \(perEndpoint.values.reduce(0, +)), longest \(longest.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) ms" }.joined(separator: ", ")), "
                    + "redirect target connections \(accepted["target"] ?? 0), peak RSS \(Torture.megabytes(kilobytes: peakKilobytes)) (limit \(Self.serveRSSLimit) MB)")
        }
    }
}
