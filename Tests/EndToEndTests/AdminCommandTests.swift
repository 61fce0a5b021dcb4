import Foundation
import Testing

/// `hookrelay webhooks|deliveries|match` run as an operator runs them, on a real SQLite file,
/// sending to receivers on 127.0.0.1; and beside a running `hookrelay serve`.
/// Serialized: each test starts dozens of short processes, and all at once they crowd out the
/// timing-sensitive `serve` tests running beside them on a 2-core machine.
@Suite(.serialized) struct AdminCommandTests {
    /// Plain http to 127.0.0.1, where the receivers listen.
    static let loopback = ["--allow-http", "--allow-cidr", "127.0.0.1/32"]

    /// The keys of the API's webhook object (`min_severity` and `previous_secret_until` only when set).
    static let webhookKeys: Set = [
        "consecutive_failures", "created_at", "description", "events", "headers", "id", "paused", "secret_prefix", "severities",
        "ordering", "state", "team", "template", "template_vars", "trace_context", "updated_at", "url",
        "dedupe_window_effective", "dedupe_ignores_severity",
        "digest", "digest_bypass", "digest_top", "tickets",
    ]

    /// Runs `hookrelay ARGUMENTS --db DB` with `stdin`, without HOOKRELAY_SECRET or HOOKRELAY_TOKEN,
    /// waiting as a task: the tests share a cooperative pool as small as the machine's core count,
    /// and a blocked thread would starve the `serve` tests' waits.
    static func run(_ arguments: [String], db: String, stdin: String = "", timeout: TimeInterval = 60) async throws -> HookRelayProcess.Result {
        let running = try HookRelayProcess.start(
            arguments + ["--db", db], stdin: Data(stdin.utf8), environment: HookRelayProcess.environment())
        let deadline = Date().addingTimeInterval(timeout)
        while running.process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        // Ended by now, or killed as timed out.
        return try running.wait(timeout: 0)
    }

    /// The result's stdout as a JSON object.
    static func object(_ result: HookRelayProcess.Result, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try #require(
            try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], "not a JSON object: \(result.output) \(result.stderr)",
            sourceLocation: sourceLocation)
    }

    /// The value of a `name: value` line of a text output.
    static func field(_ name: String, in output: String) -> String? {
        for line in output.split(separator: "\n") where line.hasPrefix(name + ":") {
            return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// Checks that the columns of a table's lines start where the header's titles start.
    static func expectAligned(_ output: String, titles: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = output.split(separator: "\n").map(String.init)
        guard let header = lines.first else {
            Issue.record("no table: \(output)", sourceLocation: sourceLocation)
            return
        }
        let starts = titles.compactMap { title in header.range(of: title).map { header.distance(from: header.startIndex, to: $0.lowerBound) } }
        #expect(starts.count == titles.count && starts == starts.sorted(), "header: \(header)", sourceLocation: sourceLocation)
        for line in lines.dropFirst() {
            for start in starts.dropFirst() {
                let characters = Array(line)
                let aligned = start < characters.count && characters[start] != " " && characters[start - 1] == " "
                #expect(aligned, "a column does not start at \(start):\n\(header)\n\(line)", sourceLocation: sourceLocation)
            }
        }
    }

    /// Every signature of `webhook-signature` checked with Python against `secrets`, in order.
    static func expectSignatures(_ request: Receiver.Request, secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let id = try #require(request.headers["webhook-id"], sourceLocation: sourceLocation)
        let timestamp = try #require(request.headers["webhook-timestamp"], sourceLocation: sourceLocation)
        let signatures = (request.headers["webhook-signature"] ?? "").split(separator: " ").map(String.init)
        #expect(signatures.count == secrets.count, "\(signatures)", sourceLocation: sourceLocation)
        for (signature, secret) in zip(signatures, secrets) {
            let expected = try Python.standardSignature(secret: secret, id: id, timestamp: timestamp, body: request.body)
            #expect(signature == expected, "a signature does not verify with \(secret.prefix(10))…", sourceLocation: sourceLocation)
        }
    }

    // MARK: Webhooks and deliveries, start to end

    @Test func aWebhookIsAddedShownChangedTestedRetriedAndDeleted() async throws {
        let status = Setting(204)
        let receiver = try Receiver { _, _ in Receiver.Response(status: status.get(), body: status.get() == 500 ? "boom" : "") }
        let scratch = try ScratchDirectory()
        let db = scratch.path("hookrelay.db")
        // One failure makes a webhook unhealthy: the config file's health settings apply.
        let config = try scratch.file("serve.toml", "unhealthy_after = 1\n")

        // Reading a database that is not there says so and creates nothing.
        let missing = try await Self.run(["webhooks", "list"], db: db)
        #expect(missing.status == 66, "\(missing.stderr)")
        #expect(missing.stderr.contains("\(db): no such database"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db))
        // So does add without --create (a mistyped --db must not become a new database) ...
        let typo = try await Self.run(["webhooks", "add", "--url", receiver.url] + Self.loopback, db: db)
        #expect(typo.status == 66, "\(typo.stderr)")
        #expect(typo.stderr.contains("webhooks add --create --db \(db)"), "\(typo.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db))
        // ... and add --create whose webhook is refused leaves nothing behind.
        let refused = try await Self.run(["webhooks", "add", "--create", "--url", "http://127.0.0.1:65536/x"] + Self.loopback, db: db)
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db) && !FileManager.default.fileExists(atPath: db + "-wal"))

        // add --create creates it, and shows the secret this once.
        let added = try await Self.run(
            ["webhooks", "add", "--create", "--url", receiver.url, "--event", "finding", "--min-severity", "high", "--description", "SOC team",
             "--header", "X-Team: appsec"] + Self.loopback, db: db)
        #expect(added.status == 0, "\(added.stderr)")
        let id = try #require(Self.field("id", in: added.output))
        let secret = try #require(Self.field("secret", in: added.output))
        #expect(id.hasPrefix("wh_"))
        #expect(secret.hasPrefix("whsec_") && Serve.keyLength(of: secret) == 32, "\(added.output)")
        #expect(Self.field("url", in: added.output) == receiver.url)
        #expect(Self.field("events", in: added.output) == "finding")
        #expect(Self.field("severity", in: added.output) == ">=high")
        #expect(Self.field("description", in: added.output) == "SOC team")
        #expect(Self.field("header", in: added.output) == "X-Team: appsec")
        #expect(Self.field("template", in: added.output) == "raw")
        #expect(Self.field("state", in: added.output) == "healthy")
        #expect(Self.field("paused", in: added.output) == "no")

        // --json: the API's object, secret included.
        let second = try await Self.run(
            ["webhooks", "add", "--create", "--url", receiver.url, "--severity", "critical,low", "--secret", Deliver.secret, "--template", "jira",
             "--template-var", "project=SEC", "--template-var", "issue_type=Bug", "--trace-context", "--json"] + Self.loopback,
            db: db)
        #expect(second.status == 0, "\(second.stderr)")
        let secondObject = try Self.object(second)
        #expect(Set(secondObject.keys) == Self.webhookKeys.union(["secret"]), "\(second.output)")
        #expect(secondObject["secret"] as? String == Deliver.secret)
        #expect(secondObject["severities"] as? [String] == ["critical", "low"])
        #expect(secondObject["events"] as? [String] == [])
        #expect(secondObject["template"] as? String == "jira")
        #expect(secondObject["template_vars"] as? [String: String] == ["project": "SEC", "issue_type": "Bug"])
        #expect(secondObject["trace_context"] as? Bool == true, "--trace-context")
        let secondID = try #require(secondObject["id"] as? String)

        // list: a table, oldest first; --json without secrets.
        let list = try await Self.run(["webhooks", "list"], db: db)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.lines.count == 3, "\(list.output)")
        #expect(list.lines.first?.hasPrefix("ID ") == true)
        Self.expectAligned(list.output, titles: ["ID", "URL", "STATE", "PAUSED", "EVENTS", "SEVERITY"])
        #expect(list.lines[1].split(separator: " ", omittingEmptySubsequences: true) == [
            Substring(id), Substring(receiver.url), "healthy", "no", "finding", ">=high",
        ])
        #expect(list.lines[2].split(separator: " ", omittingEmptySubsequences: true) == [
            Substring(secondID), Substring(receiver.url), "healthy", "no", "all", "critical,low",
        ])
        let listJSON = try Self.object(try await Self.run(["webhooks", "list", "--json"], db: db))
        let listed = try #require(listJSON["webhooks"] as? [[String: Any]])
        #expect(listed.map { $0["id"] as? String } == [id, secondID])
        #expect(listed.allSatisfy { $0["secret"] == nil })

        // show: the secret's first characters only.
        let shown = try await Self.run(["webhooks", "show", id], db: db)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(Self.field("secret prefix", in: shown.output) == String(secret.prefix(10)))
        #expect(Self.field("trace context", in: shown.output) == "no")
        #expect(!shown.output.contains(secret))
        let shownJSON = try Self.object(try await Self.run(["webhooks", "show", id, "--json"], db: db))
        #expect(Set(shownJSON.keys) == Self.webhookKeys.union(["min_severity"]))
        #expect(shownJSON["min_severity"] as? String == "high")
        #expect(shownJSON["headers"] as? [String: String] == ["X-Team": "appsec"])

        // update: only what is given changes.
        let updated = try await Self.run(["webhooks", "update", id, "--severity", "critical", "--description", "renamed"] + Self.loopback, db: db)
        #expect(updated.status == 0, "\(updated.stderr)")
        #expect(Self.field("severity", in: updated.output) == "critical")
        #expect(Self.field("description", in: updated.output) == "renamed")
        #expect(Self.field("events", in: updated.output) == "finding")
        #expect(Self.field("header", in: updated.output) == "X-Team: appsec")
        let widened = try Self.object(try await Self.run(["webhooks", "update", id, "--all-severities", "--json"], db: db))
        #expect(widened["severities"] as? [String] == [])
        #expect(widened["min_severity"] == nil)
        #expect(widened["description"] as? String == "renamed")
        let untraced = try Self.object(try await Self.run(["webhooks", "update", secondID, "--no-trace-context", "--json"], db: db))
        #expect(untraced["trace_context"] as? Bool == false, "--no-trace-context")
        #expect(untraced["template"] as? String == "jira", "only what is given changes")

        // pause and resume.
        let paused = try await Self.run(["webhooks", "pause", id], db: db)
        #expect(paused.status == 0, "\(paused.stderr)")
        #expect(Self.field("paused", in: paused.output) == "yes")
        #expect(try await Self.run(["webhooks", "list"], db: db).lines[1].contains(" yes "))
        let resumed = try Self.object(try await Self.run(["webhooks", "resume", id, "--json"], db: db))
        #expect(resumed["paused"] as? Bool == false)

        // rotate-secret prints the new secret alone; the old one signs beside it.
        let rotated = try await Self.run(["webhooks", "rotate-secret", id], db: db)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(rotated.lines.count == 1)
        let newSecret = try #require(rotated.lines.first)
        #expect(newSecret.hasPrefix("whsec_") && newSecret != secret)
        let afterRotation = try await Self.run(["webhooks", "show", id], db: db)
        #expect(Self.field("previous secret until", in: afterRotation.output) != nil, "\(afterRotation.output)")

        // test: a signed sample finding, with both signatures.
        let tested = try await Self.run(["webhooks", "test", id] + Self.loopback, db: db)
        #expect(tested.status == 0, "\(tested.output) \(tested.stderr)")
        #expect(Self.field("status", in: tested.output) == "delivered")
        #expect(Self.field("http status", in: tested.output) == "204")
        let testRequest = try #require(receiver.requests.last)
        #expect(receiver.requests.count == 1)
        #expect(testRequest.text.contains(#""test":true"#), "\(testRequest.text)")
        #expect(testRequest.headers["webhook-id"]?.hasPrefix("test_") == true)
        #expect(testRequest.headers["x-team"] == "appsec")
        try Self.expectSignatures(testRequest, secrets: [newSecret, secret])

        // A receiver answering 500: exit 69 with the report; the webhook turns unhealthy (unhealthy_after 1).
        status.set(500)
        let failedTest = try await Self.run(["webhooks", "test", id, "--json", "--config", config] + Self.loopback, db: db)
        #expect(failedTest.status == 69, "\(failedTest.output) \(failedTest.stderr)")
        let report = try Self.object(failedTest)
        #expect(Set(report.keys) == ["delivery_id", "webhook_id", "status", "http_status", "latency_ms", "error"], "\(failedTest.output)")
        #expect(report["status"] as? String == "failed")
        #expect(report["http_status"] as? Int == 500)
        let failedID = try #require(report["delivery_id"] as? Int)
        #expect(Self.field("state", in: try await Self.run(["webhooks", "show", id], db: db).output) == "unhealthy")

        // deliveries list: the table, filtered; --json as the API's page.
        let deliveries = try await Self.run(["deliveries", "list", "--webhook", id], db: db)
        #expect(deliveries.status == 0, "\(deliveries.stderr)")
        #expect(deliveries.lines.count == 3, "\(deliveries.output)")
        Self.expectAligned(deliveries.output, titles: ["ID", "WEBHOOK", "WEBHOOK-ID", "STATUS", "ATTEMPTS", "HTTP", "CREATED", "ERROR"])
        let newest = deliveries.lines[1].split(separator: " ", omittingEmptySubsequences: true)
        #expect(Array(newest.prefix(6)) == [Substring(String(failedID)), Substring(id)] + [newest[2], "failed", "1", "500"], "\(deliveries.output)")
        #expect(deliveries.lines[2].contains(" delivered "))
        let failedPage = try Self.object(try await Self.run(["deliveries", "list", "--status", "failed", "--json"], db: db))
        let failedRows = try #require(failedPage["deliveries"] as? [[String: Any]])
        #expect(failedRows.map { $0["id"] as? Int } == [failedID])
        #expect(failedRows.first?["last_http_status"] as? Int == 500)
        #expect(failedPage["next_cursor"] == nil, "the last page has no next_cursor: \(failedPage)")
        // A page of one: the cursor of the next page, and that page.
        let firstPage = try await Self.run(["deliveries", "list", "--limit", "1"], db: db)
        #expect(firstPage.lines.count == 2)
        #expect(firstPage.stderr.contains("--cursor \(failedID)"), "\(firstPage.stderr)")
        let firstPageJSON = try Self.object(try await Self.run(["deliveries", "list", "--limit", "1", "--json"], db: db))
        #expect(firstPageJSON["next_cursor"] as? String == String(failedID))
        let nextPage = try await Self.run(["deliveries", "list", "--limit", "1", "--cursor", String(failedID)], db: db)
        #expect(nextPage.lines.count == 2 && nextPage.lines[1].contains(" delivered "), "\(nextPage.output)")
        #expect(try await Self.run(["deliveries", "list", "--since", "1h"], db: db).lines.count == 3)
        #expect(try await Self.run(["deliveries", "list", "--since", "2099-01-01T00:00:00Z"], db: db).lines.count == 1)

        // deliveries show: the attempts with their responses, and the event.
        let detail = try await Self.run(["deliveries", "show", String(failedID)], db: db)
        #expect(detail.status == 0, "\(detail.stderr)")
        #expect(Self.field("status", in: detail.output) == "failed")
        #expect(Self.field("last http status", in: detail.output) == "500")
        #expect(detail.output.contains("boom"), "the response body: \(detail.output)")
        #expect(detail.output.contains("hookrelay test event"))
        let detailJSON = try Self.object(try await Self.run(["deliveries", "show", String(failedID), "--json"], db: db))
        #expect(Set(detailJSON.keys) == ["delivery", "attempts", "event"])
        #expect((detailJSON["event"] as? [String: Any])?["test"] as? Bool == true)
        #expect((detailJSON["attempts"] as? [[String: Any]])?.first?["response_body"] as? String == "boom")

        // deliveries retry: to success, the same webhook-id; the webhook is healthy again.
        status.set(204)
        let retried = try await Self.run(["deliveries", "retry", String(failedID)] + Self.loopback, db: db)
        #expect(retried.status == 0, "\(retried.output) \(retried.stderr)")
        #expect(Self.field("status", in: retried.output) == "delivered")
        #expect(receiver.requests.count == 3)
        #expect(receiver.requests.last?.headers["webhook-id"] == report["webhook_id"] as? String)
        let delivered = try await Self.run(["deliveries", "show", String(failedID)], db: db)
        #expect(Self.field("status", in: delivered.output) == "delivered")
        #expect(Self.field("attempts", in: delivered.output) == "2")
        #expect(Self.field("state", in: try await Self.run(["webhooks", "show", id], db: db).output) == "healthy")

        // delete: the pending deliveries go with it.
        status.set(500)
        #expect(try await Self.run(["webhooks", "test", id] + Self.loopback, db: db).status == 69)
        let requeued = try await Self.run(["webhooks", "retry-failed", id], db: db)
        #expect(requeued.output == "1 failed delivery of \(id) queued again\n", "\(requeued.output) \(requeued.stderr)")
        let deleted = try await Self.run(["webhooks", "delete", id], db: db)
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(deleted.output == "deleted \(id); 1 pending delivery discarded\n")
        let gone = try await Self.run(["webhooks", "show", id], db: db)
        #expect(gone.status == 66)
        #expect(gone.stderr == "hookrelay: no webhook \(id)\n")
        let deletedJSON = try Self.object(try await Self.run(["webhooks", "delete", secondID, "--json"], db: db))
        #expect(deletedJSON["deleted"] as? String == secondID)
        #expect(deletedJSON["discarded_deliveries"] as? Int == 0)
        #expect(try await Self.run(["webhooks", "list"], db: db).lines.count == 1)
    }

    @Test func enableAndRecoverWorkOnTheDatabase() async throws {
        let receiver = try Receiver { _, _ in Receiver.Response(status: 410) }
        let scratch = try ScratchDirectory()
        let db = scratch.path("h.db")
        let added = try Self.object(try await Self.run(["webhooks", "add", "--create", "--url", receiver.url, "--json"] + Self.loopback, db: db))
        let id = try #require(added["id"] as? String)
        // 410 disables the webhook at once.
        #expect(try await Self.run(["webhooks", "test", id] + Self.loopback, db: db).status == 69)
        #expect(Self.field("state", in: try await Self.run(["webhooks", "show", id], db: db).output) == "disabled")
        let enabled = try await Self.run(["webhooks", "enable", id], db: db)
        #expect(enabled.status == 0, "\(enabled.stderr)")
        #expect(Self.field("state", in: enabled.output) == "healthy")
        #expect(Self.field("consecutive failures", in: enabled.output) == "0")

        let recovered = try await Self.run(["webhooks", "recover", id, "--since", "1h"], db: db)
        #expect(recovered.status == 0, "\(recovered.stderr)")
        #expect(recovered.output == "1 delivery of \(id) queued again\n")
        let pending = try Self.object(try await Self.run(["deliveries", "list", "--status", "pending", "--json"], db: db))
        #expect((pending["deliveries"] as? [Any])?.count == 1)
        let none = try Self.object(try await Self.run(["webhooks", "recover", id, "--since", "2099-01-01T00:00:00Z", "--json"], db: db))
        #expect(none["requeued"] as? Int == 0)
    }

    // MARK: Match

    @Test func matchSaysWhereAnEventGoesAndWhyNot() async throws {
        let scratch = try ScratchDirectory()
        let db = scratch.path("h.db")
        func add(_ flags: [String]) async throws -> String {
            let result = try await Self.run(["webhooks", "add", "--create", "--url", "http://127.0.0.1:9/hook", "--json"] + flags + Self.loopback, db: db)
            return try #require(try Self.object(result)["id"] as? String)
        }
        let high = try await add(["--min-severity", "high"])
        let scans = try await add(["--event", "scan_completed"])
        let held = try await add([])
        #expect(try await Self.run(["webhooks", "pause", held], db: db).status == 0)

        let low = try await Self.run(["match"], db: db, stdin: #"{"event_type":"finding","id":"m-1","finding":{"severity":"low"}}"#)
        #expect(low.status == 0, "\(low.stderr)")
        #expect(low.lines.count == 4)
        Self.expectAligned(low.output, titles: ["WEBHOOK", "URL", "RESULT", "REASON"])
        #expect(low.lines[1].hasPrefix(high) && low.lines[1].hasSuffix(" excluded  severity low is not selected"), "\(low.output)")
        #expect(low.lines[2].hasPrefix(scans) && low.lines[2].hasSuffix(#" excluded  event type "finding" is not selected"#), "\(low.output)")
        #expect(low.lines[3].hasPrefix(held) && low.lines[3].hasSuffix(" held      the webhook is paused"), "\(low.output)")

        let critical = try await Self.run(["match", "--json"], db: db, stdin: #"{"event_type":"finding","finding":{"severity":"critical"}}"#)
        #expect(critical.status == 0, "\(critical.stderr)")
        let reports = try #require(try Self.object(critical)["webhooks"] as? [[String: Any]])
        #expect(reports.map { $0["webhook"] as? String } == [high, scans, held])
        #expect(reports.map { $0["matched"] as? Bool } == [true, false, true])
        #expect(reports.map { $0["outcome"] as? String } == ["would_send", nil, "held"])
        #expect(reports[1]["reason"] as? String == #"event type "finding" is not selected"#)

        let invalid = try await Self.run(["match"], db: db, stdin: #"{"event_type":"#)
        #expect(invalid.status == 65, "\(invalid.stderr)")
        #expect(invalid.stderr.hasPrefix("hookrelay: the event at byte"), "\(invalid.stderr)")
        let two = try await Self.run(["match"], db: db, stdin: "{}\n{}\n")
        #expect(two.status == 65)
        #expect(two.stderr.contains("send one event"), "\(two.stderr)")
    }

    // MARK: Errors

    @Test func errorsSayWhatIsWrongWithTheirStatus() async throws {
        let scratch = try ScratchDirectory()
        let db = scratch.path("h.db")
        let missingDB = scratch.path("missing.db")
        for arguments in [["webhooks", "show", "wh_x"], ["webhooks", "delete", "wh_x"], ["deliveries", "list"], ["deliveries", "show", "1"], ["match"]] {
            let result = try await Self.run(arguments, db: missingDB, stdin: "{}")
            #expect(result.status == 66, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("hookrelay: \(missingDB): no such database; give the --db or --config of hookrelay serve"), "\(arguments)")
        }
        #expect(!FileManager.default.fileExists(atPath: missingDB), "a read created the database")
        // A database with no webhook in it.
        let made = try Self.object(try await Self.run(["webhooks", "add", "--create", "--url", "http://127.0.0.1:9/", "--json"] + Self.loopback, db: db))
        let madeID = try #require(made["id"] as? String)
        #expect(try await Self.run(["webhooks", "delete", madeID], db: db).status == 0)

        // An invalid value: the library's message, 65; nothing is stored.
        let badSeverity = try await Self.run(["webhooks", "add", "--create", "--url", "http://127.0.0.1:9/", "--min-severity", "severe"] + Self.loopback, db: db)
        #expect(badSeverity.status == 65, "\(badSeverity.stderr)")
        #expect(badSeverity.stderr.hasPrefix("hookrelay: \"min_severity\" must be one of"), "\(badSeverity.stderr)")
        let https = try await Self.run(["webhooks", "add", "--create", "--url", "http://127.0.0.1:9/"], db: db)
        #expect(https.status == 65)
        #expect(https.stderr.contains("--allow-http"), "\(https.stderr)")
        let blocked = try await Self.run(["webhooks", "add", "--create", "--url", "https://10.1.2.3/x"], db: db)
        #expect(blocked.status == 65)
        #expect(blocked.stderr.contains("blocked"), "\(blocked.stderr)")
        let template = try await Self.run(["webhooks", "add", "--create", "--url", "https://127.0.0.1:9/", "--template", "nope"], db: db)
        #expect(template.status == 65)
        #expect(template.stderr.hasPrefix("hookrelay: \"template\" must be one of"), "\(template.stderr)")
        #expect(try await Self.run(["webhooks", "list"], db: db).lines.count == 1, "a refused webhook was stored")

        // Unknown webhooks and deliveries: 66.
        for arguments in [["webhooks", "show", "wh_missing"], ["webhooks", "pause", "wh_missing"], ["webhooks", "test", "wh_missing"],
                          ["webhooks", "update", "wh_missing", "--description", "x"], ["deliveries", "list", "--webhook", "wh_missing"]] {
            let result = try await Self.run(arguments, db: db)
            #expect(result.status == 66, "\(arguments): \(result.stderr)")
            #expect(result.stderr == "hookrelay: no webhook wh_missing\n", "\(arguments)")
        }
        let noDelivery = try await Self.run(["deliveries", "retry", "999"], db: db)
        #expect(noDelivery.status == 66)
        #expect(noDelivery.stderr == "hookrelay: no delivery 999\n")

        // Usage errors: 64.
        for (arguments, message) in [
            (["deliveries", "list", "--status", "lost"], "--status 'lost' must be pending, delivered, failed, skipped, suppressed or digested"),
            (["deliveries", "list", "--since", "yesterday"], "--since 'yesterday' is not a time"),
            (["deliveries", "list", "--limit", "0"], "--limit must be from 1 to 1000"),
            (["deliveries", "show", "abc"], "delivery id 'abc' is not a number"),
            (["webhooks", "update", "wh_x"], "give a setting to change"),
            (["webhooks", "add", "--create", "--url", "https://a.example/", "--header", "NoColon"], "--header: header line 'NoColon' needs the form 'Name: value'"),
        ] {
            let result = try await Self.run(arguments, db: db)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }

    // MARK: Beside the daemon

    @Test func aWebhookAddedWhileServeRunsGetsTheNextEventWithoutARestart() async throws {
        let receiver = try Receiver()
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        let added = try await Self.run(["webhooks", "add", "--create", "--url", receiver.url, "--event", "finding"] + Self.loopback, db: server.database)
        #expect(added.status == 0, "\(added.stderr)")
        let id = try #require(Self.field("id", in: added.output))
        let secret = try #require(Self.field("secret", in: added.output))

        let reloaded = try await Serve.waitUntil(timeout: 5) { server.log.contains("webhooks reloaded: changed by another process") }
        #expect(reloaded, "\(server.log)")
        #expect(try await server.postEvent(#"{"event_type":"finding","id":"cli-1","severity":"high"}"#).status == 202)
        let requests = try await Serve.waitFor(receiver, 1, timeout: 10)
        #expect(Deliver.ids(requests) == ["cli-1"], "\(server.log)")
        let request = try #require(requests.first)
        try Self.expectSignatures(request, secrets: [secret])
        #expect(try await server.webhook(id).string("url") == receiver.url)

        // The daemon's delivery shows in the log the admin command reads.
        let deadline = Date().addingTimeInterval(5)
        while try await Self.run(["deliveries", "list", "--status", "delivered"], db: server.database).lines.count < 2, Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let listed = try await Self.run(["deliveries", "list", "--webhook", id], db: server.database)
        #expect(listed.lines.count == 2 && listed.lines[1].contains(" cli-1 ") && listed.lines[1].contains(" delivered "), "\(listed.output)")
        #expect(await server.stop().status == 0)
    }
}

/// Ids typed at a terminal: any unique beginning of one works, as git takes a commit's.
@Suite struct AdminIDPrefixTests {
    @Test func aUniquePrefixNamesTheWebhookAndAnAmbiguousOneListsTheCandidates() async throws {
        let scratch = try ScratchDirectory()
        let db = scratch.path("h.db")
        for _ in 0..<2 {
            let added = try await AdminCommandTests.run(["webhooks", "add", "--create", "--url", "http://127.0.0.1:9/x"] + AdminCommandTests.loopback, db: db)
            try #require(added.status == 0, "\(added.stderr)")
        }
        let ids = ["wh_abcd1111aaaaaaaaaaaaaaaa", "wh_abcd2222bbbbbbbbbbbbbbbb"]
        try HardeningEndToEndTests.sql(db, "UPDATE webhooks SET id = ? WHERE rowid = 1", [ids[0]])
        try HardeningEndToEndTests.sql(db, "UPDATE webhooks SET id = ? WHERE rowid = 2", [ids[1]])

        for given in ["wh_abcd1", "abcd11", ids[0]] {
            let shown = try await AdminCommandTests.run(["webhooks", "show", given], db: db)
            #expect(shown.status == 0, "\(given): \(shown.stderr)")
            #expect(AdminCommandTests.field("id", in: shown.output) == ids[0], "\(given)")
        }
        let paused = try await AdminCommandTests.run(["webhooks", "pause", "abcd2222"], db: db)
        #expect(paused.status == 0 && AdminCommandTests.field("paused", in: paused.output) == "yes", "\(paused.stderr)")

        let ambiguous = try await AdminCommandTests.run(["webhooks", "show", "abcd"], db: db)
        #expect(ambiguous.status == 65)
        #expect(ambiguous.stderr.contains("abcd is the beginning of 2 webhook ids (\(ids[0]), \(ids[1])); give more characters"), "\(ambiguous.stderr)")
        let short = try await AdminCommandTests.run(["webhooks", "show", "ab"], db: db)
        #expect(short.status == 66 && short.stderr.contains("at least 4 characters"), "\(short.stderr)")
        let none = try await AdminCommandTests.run(["deliveries", "list", "--webhook", "ffff"], db: db)
        #expect(none.status == 66 && none.stderr.contains("no webhook ffff"), "\(none.stderr)")
    }
}

/// `hookrelay teams|tokens|audit` and `--team`, through the built binary on a real SQLite file.
@Suite(.serialized) struct TeamCommandTests {
    typealias Admin = AdminCommandTests

    @Test func teamsTokensAndTheAuditFromTheCommandLine() async throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-teams-\(UUID().uuidString).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) } }
        let made = try await Admin.run(["webhooks", "add", "--create", "--url", "http://127.0.0.1:9/default", "--json"] + Admin.loopback, db: db)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(try Admin.object(made)["team"] as? String == "default")

        #expect(try await Admin.run(["teams", "add", "acme", "--name", "Acme Corp"], db: db).status == 0)
        let twice = try await Admin.run(["teams", "add", "acme"], db: db)
        #expect(twice.status == 75 && twice.stderr.contains("exists already"), "\(twice.stderr)")
        let invalid = try await Admin.run(["teams", "add", "Not Valid"], db: db)
        #expect(invalid.status == 65 && invalid.stderr.contains("lowercase"), "\(invalid.stderr)")
        let listed = try await Admin.run(["teams", "list"], db: db)
        #expect(listed.output.contains("acme") && listed.output.contains("Acme Corp") && listed.output.contains("default"))

        let hook = try await Admin.run(["webhooks", "add", "--team", "acme", "--url", "http://127.0.0.1:9/acme", "--json"] + Admin.loopback, db: db)
        let hookID = try #require(try Admin.object(hook)["id"] as? String)
        #expect(try await Admin.run(["webhooks", "add", "--team", "nope", "--url", "http://127.0.0.1:9/x"] + Admin.loopback, db: db).status == 66)
        let acmeHooks = try await Admin.run(["webhooks", "list", "--team", "acme"], db: db)
        #expect(acmeHooks.output.contains(hookID) && !acmeHooks.output.contains("/default"), "\(acmeHooks.output)")

        let token = try await Admin.run(["tokens", "add", "--role", "team_admin", "--team", "acme", "--description", "ci"], db: db)
        #expect(token.status == 0 && token.output.hasPrefix("hrt_"), "\(token.stderr)")
        #expect(try await Admin.run(["tokens", "add", "--role", "root"], db: db).status == 65)
        let tokens = try await Admin.run(["tokens", "list", "--json"], db: db)
        let tokenObjects = try #require(try Admin.object(tokens)["tokens"] as? [[String: Any]])
        #expect(tokenObjects.count == 1 && tokenObjects[0]["token"] == nil && tokenObjects[0]["role"] as? String == "team_admin")
        #expect(!tokens.output.contains(token.output.trimmingCharacters(in: .whitespacesAndNewlines)), "the token is shown once")
        let tokenID = try #require(tokenObjects[0]["id"] as? String)
        #expect(try await Admin.run(["tokens", "revoke", tokenID], db: db).status == 0)
        #expect(try await Admin.run(["tokens", "revoke", tokenID], db: db).status == 66)

        let audit = try await Admin.run(["audit", "list", "--team", "acme"], db: db)
        #expect(audit.output.contains("admin command (") && audit.output.contains(hookID) && audit.output.contains("revoked"), "\(audit.output)")
        #expect(!audit.output.contains("hrt_") && !audit.output.contains("whsec_"))

        #expect(try await Admin.run(["teams", "delete", "default"], db: db).status == 65)
        let deleted = try await Admin.run(["teams", "delete", "acme"], db: db)
        #expect(deleted.status == 0 && deleted.output.contains("1 webhooks"), "\(deleted.output)")
        #expect(try await Admin.run(["webhooks", "show", hookID], db: db).status == 66)
        #expect(try await Admin.run(["teams", "show", "acme"], db: db).status == 66)
    }
}
