import Foundation
import Testing

/// De-duplication through the real binary (issue 19): `serve` with a webhook's `dedupe_window`
/// and `deliver --dedupe-window --spool` across two runs, each to a receiver on 127.0.0.1.
@Suite struct DedupeEndToEndTests {
    static let loopback = ["--allow-http", "--allow-cidr", "127.0.0.1/32"]

    static func finding(_ event: String, severity: String = "high") -> String {
        #"{"event_type":"finding","id":"\#(event)","finding":{"id":"F-42","title":"SQL injection","severity":"\#(severity)"}}"#
    }

    @Test func serveSendsOneOfTwoIdenticalFindingsAndLogsTheOtherSuppressed() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        let webhook = try await server.createWebhook(receiver, ["dedupe_window": "30d"])
        #expect(try await server.postEvent(Self.finding("first")).status == 202)
        try await Serve.waitFor(receiver, 1)
        #expect(try await server.postEvent(Self.finding("again")).status == 202)
        var log: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            log = try await server.get("/v1/webhooks/\(webhook.id)/deliveries").object?["deliveries"] as? [[String: Any]] ?? []
            if log.contains(where: { $0["status"] as? String == "suppressed" }) { break }
            try await Serve.pause(0.05)
        }
        let first = try #require(log.first { $0["webhook_id"] as? String == "first" })
        let again = try #require(log.first { $0["webhook_id"] as? String == "again" })
        #expect(first["status"] as? String == "delivered")
        #expect(again["status"] as? String == "suppressed")
        #expect(again["ref"] as? Int == first["id"] as? Int)
        try await Serve.pause(0.3)
        #expect(Deliver.ids(receiver.requests) == ["first"])
    }

    @Test func deliverWithASpoolDoesNotResendTomorrowWhatItSentToday() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let scratch = try ScratchDirectory()
        let spool = scratch.path("spool.db")
        let arguments = Deliver.arguments(receiver, extra: ["--spool", spool, "--dedupe-window", "30d"])
        let today = Deliver.ndjson([Self.finding("mon-1"), Self.finding("mon-2")])
        let first = try Deliver.run(arguments, input: today, secret: Deliver.secret)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(Deliver.ids(receiver.requests) == ["mon-1"])
        let results = try Deliver.results(first)
        let suppressed = try #require(results.first { $0.webhookID == "mon-2" })
        #expect(suppressed.status == "suppressed")
        #expect(suppressed.ref == "mon-1")
        #expect(first.stderr.contains("suppressed 1"), "\(first.stderr)")

        // The next run: the same finding again is not sent; a change of severity is.
        let tomorrow = Deliver.ndjson([Self.finding("tue-1"), Self.finding("tue-2", severity: "critical")])
        let second = try Deliver.run(arguments, input: tomorrow, secret: Deliver.secret)
        #expect(second.status == 0, "suppressed is success: \(second.stderr)")
        #expect(Deliver.ids(receiver.requests) == ["mon-1", "tue-2"])
        #expect(try Deliver.results(second).first { $0.webhookID == "tue-1" }?.ref == "mon-1")

        // Without the spool the ledger holds for the run only.
        let memory = Deliver.arguments(receiver, extra: ["--dedupe-window", "1h"])
        let third = try Deliver.run(memory, input: Deliver.ndjson([Self.finding("wed-1"), Self.finding("wed-2")]), secret: Deliver.secret)
        #expect(third.status == 0, "\(third.stderr)")
        #expect(Deliver.ids(receiver.requests).suffix(1) == ["wed-1"])
    }

    @Test(arguments: [
        (["--dedupe-window", "10s"], "--dedupe-window '10s' must be a duration from 1m to 366d"),
        (["--dedupe-ignores-severity"], "need --dedupe-window"),
        (["--dedupe-window", "1h", "--fingerprint-fields", "a..b"], "--fingerprint-fields: 'a..b' is not a field path"),
    ])
    func deliverRefusesABadWindowWithStatus64(_ extra: [String], _ message: String) throws {
        let result = try Deliver.run(["deliver", "--url", "https://example.com/hook", "--unsigned"] + extra, input: "")
        #expect(result.status == 64)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    /// A drain reads no events: a window would decide nothing, so it is refused, not ignored.
    @Test func aDrainRefusesADedupeWindow() throws {
        let scratch = try ScratchDirectory()
        let result = try Deliver.run(["deliver", "--spool", scratch.path("s.db"), "--drain", "--unsigned", "--dedupe-window", "1d"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--dedupe-window decides as events are read; --drain reads none"), "\(result.stderr)")
    }

    @Test func webhooksAddTakesTheDedupeOptionsAndRefusesBadOnes() throws {
        let scratch = try ScratchDirectory()
        let db = scratch.path("hookrelay.db")
        let add = try HookRelayProcess.run([
            "webhooks", "add", "--db", db, "--create", "--url", "http://127.0.0.1:9/x", "--dedupe-window", "12h", "--dedupe-ignores-severity",
            "--fingerprint-fields", "finding.asset,finding.title", "--json",
        ] + Self.loopback)
        #expect(add.status == 0, "\(add.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: add.stdout) as? [String: Any])
        #expect(object["dedupe_window"] as? String == "12h")
        #expect(object["dedupe_ignores_severity"] as? Bool == true)
        #expect(object["fingerprint_fields"] as? [String] == ["finding.asset", "finding.title"])
        let bad = try HookRelayProcess.run(["webhooks", "add", "--db", db, "--url", "http://127.0.0.1:9/y", "--dedupe-window", "2"] + Self.loopback)
        #expect(bad.status == 65)
        #expect(bad.stderr.contains(#""dedupe_window" must be a duration"#), "\(bad.stderr)")
        let usage = try HookRelayProcess.run(["webhooks", "add", "--db", db, "--url", "http://127.0.0.1:9/y", "--fingerprint-id-field", "a."] + Self.loopback)
        #expect(usage.status == 64)
        #expect(usage.stderr.contains("--fingerprint-id-field: 'a.' is not a field path"), "\(usage.stderr)")
    }
}
