import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The operator's routes of `hookrelay serve`, through the real binary: access, the delivery
/// log, repair, test events, match (pause, resume and rotation: ServeOperatorEngineTests; re-queueing,
/// recovering and concurrent retries: ServeRepairTests; in process).
@Suite struct ServeOperatorTests {
    static let fast: [String: any Sendable] = ["retry_schedule": ["100ms", "100ms"]]

    // MARK: Access

    @Test func everyV1RouteWantsTheTokenAndSaysNothingAboutWhatWasWrong() async throws {
        let token = "hrt_" + String(repeating: "k", count: 40)
        // Many wrong tokens from one client: held off with 429 after the fifth by default.
        let server = try await ServeProcess.started(config: ["auth_failures": 1000], token: token)
        defer { server.abandon() }
        let oneByteOff = String(token.dropLast()) + "j"
        let refusals: [String?] = [nil, "Bearer wrong", "Bearer \(oneByteOff)", "Bearer \(token)x", "Basic \(token)", "Bearer", "Bearer  \(token)", token]
        var messages = Set<String>()
        for authorization in refusals {
            for (method, path) in [("GET", "/v1/webhooks"), ("POST", "/v1/events"), ("GET", "/v1/deliveries/1"), ("POST", "/v1/match")] {
                let response = try await server.request(
                    method, path, body: method == "POST" ? Data("{}".utf8) : nil, authorization: .some(authorization))
                #expect(response.status == 401, "\(method) \(path) with \(authorization ?? "no header"): \(response.status)")
                messages.insert(response.errorMessage ?? "")
            }
        }
        #expect(messages.count == 1, "the 401s differ: \(messages)")
        #expect(try await server.request("GET", "/v1/webhooks", authorization: "bearer \(token)").status == 200, "the scheme is case-insensitive")
        for path in ["/healthz", "/readyz"] {
            #expect(try await server.request("GET", path, authorization: .some(nil)).status == 200, "\(path) needs no token")
        }
        #expect(!server.log.contains(token), "the token is in the log")
    }

    @Test func withoutATokenTheFirstStartMakesOneInAPrivateFileAndKeepsIt() async throws {
        let server = try await ServeProcess.started(token: nil)
        defer { server.abandon() }
        let path = server.database + ".token"
        var info = stat()
        #expect(stat(path, &info) == 0, "no token file at \(path)")
        #expect(info.st_mode & 0o777 == 0o600, "mode \(String(info.st_mode & 0o777, radix: 8))")
        let token = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("hrt_") && token.count > 40)
        #expect(server.log.contains("generated an API token") && server.log.contains(path))
        #expect(!server.log.contains(token), "the token is in the log")
        #expect(try await server.request("GET", "/v1/webhooks", authorization: .some(nil)).status == 401)
        #expect(try await server.request("GET", "/v1/webhooks", authorization: "Bearer \(token)").status == 200)
        // The next start reads the same file.
        try await server.restart()
        #expect(try await server.request("GET", "/v1/webhooks", authorization: "Bearer \(token)").status == 200)
    }

    @Test func aTokenFileIsRead() async throws {
        let scratch = try ScratchDirectory()
        let file = try scratch.file("token", "from-a-file-0123456789\n")
        chmod(file, 0o600)
        let server = try await ServeProcess.started(extra: ["--token-file", file], token: nil)
        defer { server.abandon() }
        #expect(try await server.request("GET", "/v1/webhooks", authorization: "Bearer from-a-file-0123456789").status == 200)
        let missing = try HookRelayProcess.run(["serve", "--db", scratch.path("x.db"), "--token-file", scratch.path("none")])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot read the API token file \(scratch.path("none"))"), "\(missing.stderr)")
    }

    @Test(arguments: [false, true])
    func listeningBeyondLoopbackWarnsUnlessATLSProxyIsDeclared(_ proxy: Bool) async throws {
        let scratch = try ScratchDirectory()
        // 127.0.0.2 is a loopback address on Linux, but not one serve takes for local.
        var arguments = ["serve", "--db", scratch.path("x.db"), "--listen", "127.0.0.2:0"]
        if proxy { arguments += ["--config", try scratch.file("serve.toml", "tls_proxy = true\n")] }
        let running = try HookRelayProcess.start(arguments, environment: HookRelayProcess.environment(adding: ["HOOKRELAY_TOKEN": "t-0123456789abcdef"]))
        try await Serve.waitUntil(timeout: 10) { running.stderrSoFar.contains(" listening ") }
        running.kill(SIGTERM)
        let result = try running.wait(timeout: 15)
        #expect(result.stderr.contains(" listening "), "\(result.stderr)")
        #expect(result.stderr.contains("without TLS") == !proxy, "\(result.stderr)")
    }

    // MARK: Delivery log and repair

    @Test func aFailedDeliveryIsShownWithItsAttemptsAndRetriedToSuccess() async throws {
        let healthy = Setting(false)
        let receiver = try Receiver { _, _ in
            healthy.get() ? Receiver.Response(status: 200, body: "thanks") : Receiver.Response(status: 500, body: "database down")
        }
        let server = try await ServeProcess.started(config: Self.fast)
        defer { server.abandon() }
        let webhook = try await server.createWebhook(receiver)
        #expect(try await server.postEvent(#"{"event_type":"finding","id":"r-1","severity":"high"}"#).status == 202)
        try await Serve.waitFor(receiver, 3)
        let failed = try await Self.waitForDeliveries(server, webhook.id, status: "failed", count: 1)
        let id = try #require(failed.first?["id"] as? Int)
        #expect(failed.first?["webhook_id"] as? String == "r-1")
        #expect(failed.first?["attempts"] as? Int == 3)
        #expect(failed.first?["last_http_status"] as? Int == 500)

        let detail = try await server.get("/v1/deliveries/\(id)")
        #expect(detail.status == 200, "\(detail.text)")
        let attempts = try #require(detail["attempts"] as? [[String: Any]])
        #expect(attempts.count == 3)
        #expect(attempts.allSatisfy { $0["http_status"] as? Int == 500 && $0["response_body"] as? String == "database down" })
        #expect(attempts.allSatisfy { $0["latency_ms"] is Int && $0["started_at"] is Int })
        #expect((detail["event"] as? [String: Any])?["id"] as? String == "r-1", "the event as received: \(detail.text)")

        healthy.set(true)
        let retried = try await server.post("/v1/deliveries/\(id)/retry", json: [:])
        #expect(retried.status == 200, "\(retried.text)")
        #expect(retried.string("status") == "delivered")
        #expect(retried.int("http_status") == 200)
        #expect(Deliver.ids(receiver.requests) == ["r-1", "r-1", "r-1", "r-1"], "the same webhook-id")
        let after = try await server.get("/v1/deliveries/\(id)")
        #expect((after["delivery"] as? [String: Any])?["status"] as? String == "delivered")
        #expect((after["attempts"] as? [Any])?.count == 4)

        // Errors of these routes.
        #expect(try await server.post("/v1/deliveries/999999/retry", json: [:]).status == 404)
        #expect(try await server.get("/v1/deliveries/abc").status == 404)
        #expect(try await server.get("/v1/webhooks/\(webhook.id)/deliveries?status=lost").status == 400)
        #expect(try await server.get("/v1/webhooks/\(webhook.id)/deliveries?since=yesterday").status == 400)
        #expect(try await server.get("/v1/webhooks/\(webhook.id)/deliveries?limit=0").status == 400)
        #expect(try await server.get("/v1/webhooks/wh_none/deliveries").status == 404)
    }

    @Test func theLogIsPagedNewestFirstAndFilteredByStatusAndTime() async throws {
        let receiver = try Receiver()
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        let webhook = try await server.createWebhook(receiver)
        let events = (1...7).map { #"{"event_type":"finding","id":"p-\#($0)","severity":"high"}"# }
        #expect(try await server.postEvents(events).status == 202)
        try await Serve.waitFor(receiver, 7)
        _ = try await Self.waitForDeliveries(server, webhook.id, status: "delivered", count: 7)
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await server.get("/v1/webhooks/\(webhook.id)/deliveries?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""))
            let items = try #require(page["deliveries"] as? [[String: Any]])
            #expect(items.count <= 3)
            seen += items.compactMap { $0["webhook_id"] as? String }
            cursor = page.string("next_cursor")
        } while cursor != nil
        #expect(seen == (1...7).reversed().map { "p-\($0)" })
        #expect(try await Self.deliveries(server, webhook.id, query: "status=failed").isEmpty)
        #expect(try await Self.deliveries(server, webhook.id, query: "since=\(Int(Date().timeIntervalSince1970) + 60)").isEmpty)
        #expect(try await Self.deliveries(server, webhook.id, query: "since=1h").count == 7)
        #expect(try await server.get("/v1/deliveries?limit=2")["deliveries"].map { ($0 as? [Any])?.count } == 2)
    }

    // MARK: Test events

    @Test func aTestEventIsSentSignedAndAnsweredWithItsOutcome() async throws {
        let answer = Setting(204)
        let receiver = try Receiver { _, _ in Receiver.Response(status: answer.get()) }
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        // The test event is sent whatever the filter says.
        let webhook = try await server.createWebhook(receiver, ["events": ["scan_completed"]])
        let sent = try await server.post("/v1/webhooks/\(webhook.id)/test", json: [:])
        #expect(sent.status == 200, "\(sent.text)")
        #expect(sent.string("status") == "delivered")
        #expect(sent.int("http_status") == 204)
        #expect(sent["latency_ms"] is Int)
        let request = try #require(receiver.requests.first)
        let event = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(event["test"] as? Bool == true)
        #expect(event["event_type"] as? String == "finding")
        #expect(try Python.referenceVerify(secret: webhook.secret, headers: request.headers, body: request.body) == "ok")
        let logged = try await Self.deliveries(server, webhook.id, query: "")
        #expect(logged.first?["webhook_id"] as? String == request.headers["webhook-id"])

        answer.set(503)
        let failed = try await server.post("/v1/webhooks/\(webhook.id)/test", json: [:])
        #expect(failed.status == 200)
        #expect(failed.string("status") == "failed")
        #expect(failed.int("http_status") == 503)
        #expect(try await server.post("/v1/webhooks/wh_none/test", json: [:]).status == 404)
    }

    // MARK: Match

    @Test func matchSaysWhereAnEventGoesAndWhatExcludedIt() async throws {
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        let high = try await server.createWebhook(nil, ["url": "http://127.0.0.1:9/a", "events": ["finding"], "min_severity": "high"])
        let scans = try await server.createWebhook(nil, ["url": "http://127.0.0.1:9/b", "events": ["scan_completed"]])
        let all = try await server.createWebhook(nil, ["url": "http://127.0.0.1:9/c"])
        _ = try await server.post("/v1/webhooks/\(all.id)/pause", json: [:])
        let answer = try await server.request("POST", "/v1/match", body: Data(#"{"event_type":"finding","finding":{"severity":"low"}}"#.utf8))
        #expect(answer.status == 200, "\(answer.text)")
        let reports = try #require(answer["webhooks"] as? [[String: Any]])
        func report(_ id: String) -> [String: Any]? { reports.first { $0["webhook"] as? String == id } }
        #expect(report(high.id)?["matched"] as? Bool == false)
        #expect(report(high.id)?["reason"] as? String == "severity low is not selected")
        #expect(report(scans.id)?["reason"] as? String == #"event type "finding" is not selected"#)
        #expect(report(all.id)?["matched"] as? Bool == true)
        #expect(report(all.id)?["outcome"] as? String == "held", "paused")
        #expect(try await server.request("POST", "/v1/match", body: Data("{".utf8)).status == 422)
        #expect(try await server.request("POST", "/v1/match", body: Data()).status == 422)
    }

    // MARK: Secrets stay out of logs

    @Test func noSecretOrTokenReachesTheLog() async throws {
        let receiver = try Receiver { _, count in Receiver.Response(status: count == 1 ? 500 : 204) }
        let server = try await ServeProcess.started(config: Self.fast)
        defer { server.abandon() }
        let webhook = try await server.createWebhook(receiver, ["headers": ["Authorization": "Bearer receiver-credential-xyz"]])
        let rotated = try await server.post("/v1/webhooks/\(webhook.id)/rotate-secret", json: [:])
        _ = try await server.post("/v1/webhooks", json: ["url": receiver.url, "secret": "whsec_not base64!"])
        _ = try await server.request("GET", "/v1/webhooks", authorization: "Bearer \(server.token ?? "")x")
        #expect(try await server.postEvent(#"{"event_type":"finding","id":"s-1"}"#).status == 202)
        _ = try await server.post("/v1/webhooks/\(webhook.id)/test", json: [:])
        try await Serve.waitFor(receiver, 3)
        let exit = await server.stop()
        let secrets = [webhook.secret, rotated.string("secret") ?? "whsec_", server.token ?? "", "receiver-credential-xyz"]
        for secret in secrets {
            #expect(!exit.log.contains(secret), "\(secret) is in the log")
            #expect(!exit.log.contains(String(secret.dropFirst(6))), "the key of \(secret) is in the log")
        }
        #expect(exit.log.contains("webhook created"), "\(exit.log)")
    }

    // MARK: Helpers

    static func deliveries(_ server: ServeProcess, _ webhook: String, query: String) async throws -> [[String: Any]] {
        let page = try await server.get("/v1/webhooks/\(webhook)/deliveries?\(query)")
        try #require(page.status == 200, "\(page.text)")
        return try #require(page["deliveries"] as? [[String: Any]])
    }

    /// Polls until `count` deliveries of the webhook are in `status`.
    static func waitForDeliveries(
        _ server: ServeProcess, _ webhook: String, status: String, count: Int, timeout: TimeInterval = 10
    ) async throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let found = try await deliveries(server, webhook, query: "status=\(status)")
            if found.count >= count || Date() > deadline { return found }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
