import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// contrib/examples/fake_tickets.py on 127.0.0.1: Jira's and GitHub's issue APIs as documented,
/// each request body checked against its schema.
final class FakeTickets: OutsideServer {
    /// The test process's children inherit SIGTERM ignored.
    override var stopSignal: Int32 { SIGKILL }

    init() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("contrib/examples/fake_tickets.py").path
        try super.init(
            name: "tickets", executable: "/usr/bin/env", arguments: { _, port in ["python3", script, String(port)] },
            config: { _, _ in "" }, configName: "unused")
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// The fake's issues (by key or number: summary, status, comments), requests and rejections.
    func state() async throws -> [String: Any] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: base + "/_fake/state")!)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func issues() async throws -> [String: [String: Any]] {
        try await state()["issues"] as? [String: [String: Any]] ?? [:]
    }

    /// The next `count` requests (of `method`, when given) answer `status`.
    func fail(_ count: Int, status: Int, method: String? = nil) async throws {
        var request = URLRequest(url: URL(string: base + "/_fake/fail")!)
        request.httpMethod = "POST"
        var body: [String: Any] = ["count": count, "status": status]
        if let method { body["method"] = method }
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        _ = try await URLSession.shared.data(for: request)
    }

    /// Waits until `condition` holds of the issues, at most `timeout` seconds; returns them.
    @discardableResult
    func waitForIssues(timeout: TimeInterval = 15, _ condition: ([String: [String: Any]]) -> Bool) async throws -> [String: [String: Any]] {
        let deadline = Date().addingTimeInterval(timeout)
        var current = try await issues()
        while !condition(current), Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
            current = try await issues()
        }
        return current
    }
}

/// `tickets: update` through the real binary against the fake Jira and GitHub (issue 19): one
/// ticket per finding, a comment when seen again, the close when reported fixed; a creation
/// that failed and was retried makes no second ticket, a restart keeps the ticket, concurrent
/// occurrences wait for the creation.
@Suite(.serialized) struct TicketEndToEndTests {
    static func finding(_ event: String, status: String = "open", severity: String = "high") -> String {
        #"{"id":"\#(event)","event_type":"finding","finding":{"id":"fnd_sqli","title":"SQL injection in login","severity":"\#(severity)","asset":"api.example.com","url":"https://api.example.com/login","parameter":"user","status":"\#(status)"}}"#
    }

    static func comments(_ issue: [String: Any]?) -> [String] { issue?["comments"] as? [String] ?? [] }

    @Test func jiraTicketIsCreatedOnceCommentedAcrossARestartAndClosed() async throws {
        let fake = try FakeTickets()
        defer { fake.stop() }
        let serve = try await ServeProcess.started(config: ["retry_schedule": ["1s", "1s"]])
        defer { serve.abandon() }
        let webhook = try await serve.createWebhook(nil, [
            "url": fake.base + "/rest/api/2/issue", "template": "jira", "template_vars": ["project": "SEC", "issue_type": "Bug"],
            "headers": ["Authorization": "Basic aG9va3JlbGF5OnRva2Vu"], "tickets": "update", "ticket_close": "31",
            // Every occurrence reaches the ticket: no de-duplication window (30d for jira by default).
            "dedupe_window": "off",
        ])
        // The first creation fails: retried, it makes one ticket.
        try await fake.fail(1, status: 503)
        #expect(try await serve.postEvent(Self.finding("evt_1")).status == 202)
        var issues = try await fake.waitForIssues { $0.count == 1 }
        #expect(Array(issues.keys) == ["SEC-1"])
        #expect(issues["SEC-1"]?["summary"] as? String == "[HIGH] SQL injection in login")
        // Seen again, after a restart between creation and update: a comment on SEC-1.
        await serve.stop()
        try await serve.start()
        #expect(try await serve.postEvent(Self.finding("evt_2")).status == 202)
        issues = try await fake.waitForIssues { Self.comments($0["SEC-1"]).count == 1 }
        #expect(Self.comments(issues["SEC-1"]).first?.hasPrefix("Seen again: [HIGH] SQL injection in login") == true)
        // Reported fixed: the closing comment and transition 31, in one request.
        #expect(try await serve.postEvent(Self.finding("evt_3", status: "fixed")).status == 202)
        issues = try await fake.waitForIssues { $0["SEC-1"]?["status"] as? String == "transition 31" }
        #expect(issues["SEC-1"]?["status"] as? String == "transition 31")
        #expect(Self.comments(issues["SEC-1"]).last?.hasPrefix("Reported fixed: [HIGH] SQL injection in login") == true)
        #expect(issues.count == 1)
        let state = try await fake.state()
        #expect((state["rejected"] as? [Any])?.isEmpty == true, "the fake refused a request: \(state["rejected"] ?? "")")
        // The log names the ticket and what each delivery did to it.
        let log = try await serve.get("/v1/deliveries?webhook=\(webhook.id)&status=delivered")
        let entries = try #require(log["deliveries"] as? [[String: Any]])
        #expect(entries.compactMap { $0["ticket_action"] as? String } == ["closed", "commented", "created"])
        #expect(Set(entries.compactMap { $0["ticket"] as? String }) == ["SEC-1"])
        // Seen after the close: a new ticket.
        #expect(try await serve.postEvent(Self.finding("evt_4")).status == 202)
        issues = try await fake.waitForIssues { $0.count == 2 }
        #expect(issues.keys.sorted() == ["SEC-1", "SEC-2"])
    }

    @Test func githubIssueIsCommentedAndClosedAndAFailedCloseIsNotCommentedTwice() async throws {
        let fake = try FakeTickets()
        defer { fake.stop() }
        let serve = try await ServeProcess.started(config: ["retry_schedule": ["1s", "1s"], "per_webhook_concurrency": 4])
        defer { serve.abandon() }
        _ = try await serve.createWebhook(nil, [
            "url": fake.base + "/repos/acme/api/issues", "template": "github-issue",
            "headers": ["Authorization": "Bearer ghp_test"], "tickets": "update", "ticket_close": "close", "dedupe_window": "off",
        ])
        // Two occurrences at once: one creates the issue, the other waits for it and comments.
        #expect(try await serve.postEvents([Self.finding("evt_a"), Self.finding("evt_b", severity: "critical")]).status == 202)
        var issues = try await fake.waitForIssues { Self.comments($0["1"]).count == 1 }
        #expect(issues.count == 1, "a second issue was opened: \(issues.keys.sorted())")
        #expect(Self.comments(issues["1"]).count == 1)
        // The close fails once after its comment: the retry closes without a second comment.
        try await fake.fail(1, status: 502, method: "PATCH")
        #expect(try await serve.postEvent(Self.finding("evt_c", status: "resolved")).status == 202)
        issues = try await fake.waitForIssues { $0["1"]?["status"] as? String == "closed" }
        #expect(issues["1"]?["status"] as? String == "closed")
        #expect(Self.comments(issues["1"]).count == 2)
        #expect(Self.comments(issues["1"]).last?.hasPrefix("**Reported fixed:**") == true)
        let state = try await fake.state()
        #expect((state["rejected"] as? [Any])?.isEmpty == true, "the fake refused a request: \(state["rejected"] ?? "")")
    }
}
