import Foundation
import Testing

/// Issue 17 through the binary: `webhooks add|update --rate-limit/--ordering`, `webhooks show`'s
/// delivery-log line, and `webhooks test-alert` to the config's alert destinations.
@Suite struct OperationsCommandTests {
    typealias Admin = AdminCommandTests

    @Test func rateLimitOrderingAndTheLogLineThroughTheAdminCommands() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let scratch = try ScratchDirectory()
        let db = scratch.path("hookrelay.db")
        let added = try await Admin.run(
            ["webhooks", "add", "--create", "--url", receiver.url, "--rate-limit", "30/m", "--ordering", "fifo"] + Admin.loopback, db: db)
        #expect(added.status == 0, "\(added.stderr)")
        let id = try #require(Admin.field("id", in: added.output))
        #expect(Admin.field("rate limit", in: added.output) == "30/m")
        #expect(Admin.field("ordering", in: added.output) == "fifo")

        let shown = try await Admin.run(["webhooks", "show", id], db: db)
        #expect(Admin.field("delivery log", in: shown.output) == "no retention set yet (serve sets it), empty", "\(shown.output)")
        let json = try Admin.object(try await Admin.run(["webhooks", "show", id, "--json"], db: db))
        #expect(json["rate_limit"] as? String == "30/m" && json["ordering"] as? String == "fifo")

        let updated = try await Admin.run(["webhooks", "update", id, "--rate-limit", "off", "--ordering", "none"] + Admin.loopback, db: db)
        #expect(updated.status == 0, "\(updated.stderr)")
        #expect(Admin.field("rate limit", in: updated.output) == "none")
        let refused = try await Admin.run(["webhooks", "update", id, "--rate-limit", "5/d"] + Admin.loopback, db: db)
        #expect(refused.status == 65)
        #expect(refused.stderr.contains(#""rate_limit" must be deliveries per time"#), "\(refused.stderr)")
    }

    @Test func testAlertSendsToTheConfigsDestinationsAndSaysHowEachWent() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let scratch = try ScratchDirectory()
        let db = scratch.path("hookrelay.db")
        #expect(try await Admin.run(["webhooks", "add", "--create", "--url", receiver.url] + Admin.loopback, db: db).status == 0)
        let none = try await Admin.run(["webhooks", "test-alert"] + Admin.loopback, db: db)
        #expect(none.status == 65)
        #expect(none.stderr.contains("no alert destinations for team default"), "\(none.stderr)")

        let config = try scratch.file("serve.toml", "[[alerts]]\nurl = \"\(receiver.url)/alerts\"\n")
        let tested = try await Admin.run(["webhooks", "test-alert", "--config", config] + Admin.loopback, db: db)
        #expect(tested.status == 0, "\(tested.stderr)")
        #expect(tested.output.contains("config") && tested.output.contains("delivered"), "\(tested.output)")
        let request = try #require(receiver.requests.last)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(body["event_type"] as? String == "alert.test")
        #expect(request.headers["webhook-signature"]?.hasPrefix("v1,") == true)
        // Destinations are settings, not subscriptions: the list leaves them out.
        #expect(try await Admin.run(["webhooks", "list"], db: db).output.split(separator: "\n").count == 2)
    }
}
