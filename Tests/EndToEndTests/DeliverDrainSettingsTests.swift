import Foundation
import Testing

/// Issue 13: `deliver --spool FILE --drain`, run as cron runs it (no flags but the spool), sends
/// each URL's deliveries the way the spooling run asked: its address rules, headers, signature
/// schemes and retries; secrets and `${VAR}` values come from the drain's environment. What the
/// drain may not send is reported (exit 69) and stays pending.
@Suite struct DeliverDrainSettingsTests {
    static let spoolingValue = "spooling-run-token-value"
    static let drainValue = "drain-run-token-value"

    /// Spools `count` events to a receiver answering 503, with the flags a cron drain does not
    /// repeat; returns once their next attempt is due.
    @discardableResult
    func spool(_ count: Int, to receiver: Receiver, spool: String, prefix: String) throws -> [DeliveryResult] {
        let result = try Deliver.run(
            ["deliver", "--url", receiver.url, "--spool", spool, "--wait", "0", "--max-attempts", "100",
             "--backoff-base", "50ms", "--backoff-max", "100ms", "--header", "X-Token: ${TOKEN}",
             "--signature-scheme", "standard,github"] + Deliver.loopback,
            input: Deliver.ndjson(Deliver.events(count, prefix: prefix)), secret: Deliver.secret,
            environment: ["TOKEN": Self.spoolingValue])
        #expect(result.status == 75, "\(result.stderr)")
        let results = try Deliver.results(result)
        try #require(results.count == count && results.allSatisfy { $0.status == "pending" }, "\(results)")
        usleep(150_000)
        return results
    }

    /// The deliveries' states in the spool, by status.
    func statuses(_ spool: String) throws -> String {
        try Python.run(
            "import sqlite3, sys; print(sorted(sqlite3.connect(sys.argv[1]).execute('SELECT status, count(*) FROM deliveries GROUP BY status').fetchall()))",
            [spool])
    }

    @Test func aDrainWithoutFlagsSendsAsTheSpoolingRunAsked() throws {
        let healthy = Setting(false)
        let receiver = try Receiver { _, _ in Receiver.Response(status: healthy.get() ? 204 : 503) }
        defer { receiver.stop() }
        let scratch = try ScratchDirectory()
        let path = scratch.path("spool.db")
        try spool(3, to: receiver, spool: path, prefix: "remembered")
        let before = receiver.requests.count
        healthy.set(true)

        // As cron runs it: no --allow-http, --allow-cidr, --header or --signature-scheme.
        let drain = try Deliver.run(
            ["deliver", "--spool", path, "--drain"], secret: Deliver.secret, environment: ["TOKEN": Self.drainValue])
        #expect(drain.status == 0, "\(drain.stderr)")
        #expect(try Deliver.results(drain).map(\.status) == ["delivered", "delivered", "delivered"])
        let sent = Array(receiver.requests.dropFirst(before))
        #expect(sent.count == 3)
        for request in sent {
            // The header's ${TOKEN} is read when sending, from the drain's environment.
            #expect(request.headers["x-token"] == Self.drainValue)
            #expect(request.headers["x-hub-signature-256"]?.hasPrefix("sha256=") == true)
            let id = try #require(request.headers["webhook-id"])
            let timestamp = try #require(request.headers["webhook-timestamp"])
            let expected = try Python.standardSignature(secret: Deliver.secret, id: id, timestamp: timestamp, body: request.body)
            #expect(request.headers["webhook-signature"] == expected)
        }
        // The spool keeps the header as given and no secret.
        let files = [path, path + "-wal"].compactMap { FileManager.default.contents(atPath: $0) }
        let bytes = files.map { String(decoding: $0, as: UTF8.self) }.joined()
        #expect(bytes.contains("${TOKEN}"))
        #expect(!bytes.contains(Self.spoolingValue))
        #expect(!bytes.contains(Deliver.secret.dropFirst(6)))
    }

    @Test func whatTheDrainMayNotSendStaysPendingWithExit69() throws {
        let healthy = Setting(false)
        let receiver = try Receiver { _, _ in Receiver.Response(status: healthy.get() ? 204 : 503) }
        defer { receiver.stop() }
        let scratch = try ScratchDirectory()
        let path = scratch.path("spool.db")
        let spooled = try spool(2, to: receiver, spool: path, prefix: "held")
        let before = receiver.requests.count
        healthy.set(true)

        // No secret in the drain's environment: signed deliveries wait for one.
        let unsigned = try Deliver.run(["deliver", "--spool", path, "--drain"], environment: ["TOKEN": Self.drainValue])
        #expect(unsigned.status == 69, "\(unsigned.stderr)")
        #expect(unsigned.stderr.contains("this run has no secret"), "\(unsigned.stderr)")
        #expect(unsigned.stderr.contains("stay pending in the spool"), "\(unsigned.stderr)")

        // ${TOKEN} not set: named, its value never shown.
        let noToken = try Deliver.run(["deliver", "--spool", path, "--drain"], secret: Deliver.secret)
        #expect(noToken.status == 69, "\(noToken.stderr)")
        #expect(noToken.stderr.contains("header X-Token uses ${TOKEN}, which is not set in the environment"), "\(noToken.stderr)")

        // A spool written before its URLs' settings were recorded: the drain's own address guard
        // refuses 127.0.0.1, and that fails nothing.
        _ = try Python.run("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('DELETE FROM spool_targets'); c.commit()", [path])
        let refused = try Deliver.run(
            ["deliver", "--spool", path, "--drain", "--allow-http"], secret: Deliver.secret, environment: ["TOKEN": "x"])
        #expect(refused.status == 69, "\(refused.stderr)")
        #expect(refused.stderr.contains("127.0.0.1"), "\(refused.stderr)")
        #expect(refused.stderr.contains("stay pending in the spool"), "\(refused.stderr)")
        #expect(try Deliver.results(refused).map(\.status) == ["pending", "pending"])
        #expect(try statuses(path) == "[('pending', 2)]")
        #expect(receiver.requests.count == before, "nothing was sent")

        // Allowed by this drain's flags, they go, their attempts not counting the held ones.
        let allowed = try Deliver.run(
            ["deliver", "--spool", path, "--drain"] + Deliver.loopback, secret: Deliver.secret, environment: ["TOKEN": "x"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        let results = try Deliver.results(allowed)
        #expect(results.map(\.status) == ["delivered", "delivered"])
        // The held attempts are in the spool's log but do not count.
        // By event: the two attempts run side by side and finish in either order.
        let attempts = Dictionary(uniqueKeysWithValues: results.map { ($0.webhookID, $0.attempts) })
        #expect(attempts == Dictionary(uniqueKeysWithValues: spooled.map { ($0.webhookID, $0.attempts + 1) }))
        #expect(try statuses(path) == "[('delivered', 2)]")
    }

    @Test func aDrainRefusesFlagsTheSpoolRemembers() throws {
        let scratch = try ScratchDirectory()
        let path = scratch.path("spool.db")
        for flags in [["--header", "X-A: b"], ["--signature-scheme", "github"]] {
            let result = try Deliver.run(["deliver", "--spool", path, "--drain"] + flags, secret: Deliver.secret)
            #expect(result.status == 64)
            #expect(result.stderr.contains("the spool remembers each URL's headers and signature schemes"), "\(result.stderr)")
        }
    }
}
