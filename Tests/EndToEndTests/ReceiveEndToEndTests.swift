import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `hookrelay receive` against the senders it is the other end of (`deliver`, `serve`, the
/// reference `standardwebhooks` library) and against requests it must refuse.
@Suite struct ReceiveEndToEndTests {
    /// Events with escapes and non-ASCII text, one pretty-printed over several lines.
    static let events = [
        #"{"event_type":"finding","id":"evt-r1","finding":{"severity":"critical","title":"SQLi"}}"#,
        #"{"event_type":"scan_completed","id":"evt-r2","scan":{"note":"caf\u00e9 ☕ é \"q\""}}"#,
        #"{"event_type":"asset_changed","id":"evt-r3","asset":{"name":"www.example.org"}}"#,
    ]

    /// The events as they should be written: as sent, one a line.
    static func parsed(_ lines: [String]) -> [NSDictionary] {
        lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? NSDictionary }
    }

    // MARK: Senders

    /// Rotation: the receiver holds two secrets, and events signed by either, or by both at
    /// once, are written, each once; a sender with a third secret is refused.
    @Test func deliverSignedWithEitherOfTwoSecrets() async throws {
        let scratch = try ScratchDirectory()
        let both = try ReceiveSecrets.file([Deliver.secret, Deliver.otherSecret], in: scratch)
        let receiver = try await ReceiveProcess(["--secret-file", both])

        let old = try ReceiveSecrets.file([Deliver.secret], in: scratch, name: "old")
        let new = try ReceiveSecrets.file([Deliver.otherSecret], in: scratch, name: "new")
        let stranger = try ReceiveSecrets.file([ReceiveSecrets.stranger], in: scratch, name: "stranger")
        let first = try Deliver.run(
            ["deliver", "--url", receiver.url, "--secret-file", old] + Deliver.loopback + Deliver.fast, input: Self.events[0] + "\n")
        #expect(first.status == 0, "\(first.stderr)")
        let second = try Deliver.run(
            ["deliver", "--url", receiver.url, "--secret-file", new] + Deliver.loopback + Deliver.fast, input: Self.events[1] + "\n")
        #expect(second.status == 0, "\(second.stderr)")
        let third = try Deliver.run(
            ["deliver", "--url", receiver.url, "--secret-file", both] + Deliver.loopback + Deliver.fast, input: Self.events[2] + "\n")
        #expect(third.status == 0, "\(third.stderr)")
        let refused = try Deliver.run(
            ["deliver", "--url", receiver.url, "--secret-file", stranger, "--max-attempts", "1"] + Deliver.loopback + Deliver.fast,
            input: #"{"event_type":"finding","id":"evt-stranger"}"# + "\n")
        #expect(refused.status != 0)
        #expect(try Deliver.results(refused).first?.httpStatus == 401, "\(refused.output)")

        // Seen while the receiver still runs: written and flushed per event into a pipe.
        let lines = try await receiver.waitForLines(3)
        #expect(lines == Self.events)
        #expect(try await receiver.waitForError(containing: "401 POST /hooks webhook-id="))
        #expect(await receiver.stop() == 0)
        #expect(receiver.output.lines == Self.events, "nothing more, nothing twice: \(receiver.output.text)")
    }

    /// GitHub's `x-hub-signature-256`, as `deliver --signature-scheme github` sends it.
    @Test func deliverSignedGitHubStyle() async throws {
        let scratch = try ScratchDirectory()
        let receiver = try await ReceiveProcess(["--secret-file", try ReceiveSecrets.file([Deliver.otherSecret, Deliver.secret], in: scratch)])
        let sent = try Deliver.run(
            ["deliver", "--url", receiver.url, "--signature-scheme", "github"] + Deliver.loopback + Deliver.fast,
            input: Self.events[0] + "\n", secret: Deliver.secret)
        #expect(sent.status == 0, "\(sent.stderr)\(receiver.errors.text)")
        #expect(try await receiver.waitForLines(1) == [Self.events[0]])

        let body = Array(Self.events[1].utf8)
        let good = try Python.githubSignature(secret: Deliver.secret, body: body)
        let wrong = try Python.githubSignature(secret: ReceiveSecrets.stranger, body: body)
        #expect(try await receiver.send(body, headers: ["x-github-delivery": "gh-1", "x-hub-signature-256": wrong]).status == 401)
        #expect(try await receiver.waitForError(containing: "x-hub-signature-256 does not match"))
        #expect(try await receiver.send(body, headers: ["x-github-delivery": "gh-1", "x-hub-signature-256": good]).status == 204)
        #expect(try await receiver.send(body, headers: ["x-github-delivery": "gh-1", "x-hub-signature-256": good]).status == 204)
        #expect(try await receiver.waitForLines(2) == [Self.events[0], Self.events[1]])
        #expect(await receiver.stop() == 0)
        #expect(receiver.output.lines.count == 2, "a repeated x-github-delivery is written once: \(receiver.output.text)")
    }

    /// `serve` delivers to a webhook whose secret the receiver holds.
    @Test func serveDeliversToTheReceiver() async throws {
        let scratch = try ScratchDirectory()
        let receiver = try await ReceiveProcess(["--secret-file", try ReceiveSecrets.file([Deliver.secret], in: scratch)])
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        let webhook = try await server.createWebhook(nil, ["url": receiver.url, "secret": Deliver.secret])
        #expect(webhook.secret == Deliver.secret)
        for event in Self.events {
            let accepted = try await server.postEvent(event)
            #expect(accepted.status == 202, "\(accepted.text)")
        }
        let lines = try await receiver.waitForLines(3, timeout: 20)
        #expect(Set(lines) == Set(Self.events), "stdout: \(receiver.output.text)\nstderr: \(receiver.errors.text)")
        await server.stop()
        #expect(await receiver.stop() == 0)
        #expect(receiver.output.lines.count == 3)
        #expect(!receiver.errors.text.contains(" 401 "), "\(receiver.errors.text)")
    }

    /// Requests signed and sent by the reference Python library (`standardwebhooks`), which
    /// reads the body as UTF-8 text: accepted with its secret, refused with another.
    @Test func requestsSignedByTheReferenceLibrary() async throws {
        let scratch = try ScratchDirectory()
        let receiver = try await ReceiveProcess(["--secret-file", try ReceiveSecrets.file([Deliver.secret], in: scratch)])
        let script = """
            import sys, math, urllib.request, urllib.error
            from datetime import datetime, timezone
            from standardwebhooks.webhooks import Webhook
            url, secret, msg_id, path = sys.argv[1:5]
            body = open(path, "rb").read()
            now = datetime.now(tz=timezone.utc)
            signature = Webhook(secret).sign(msg_id, now, body.decode())
            request = urllib.request.Request(url, data=body, method="POST", headers={
                "content-type": "application/json", "webhook-id": msg_id,
                "webhook-timestamp": str(math.floor(now.timestamp())), "webhook-signature": signature})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    print(response.status)
            except urllib.error.HTTPError as error:
                print(error.code)
            """
        let body = try scratch.file("body.json", Self.events[1])
        #expect(try Python.run(script, [receiver.url, Deliver.secret, "msg_ref_1", body]) == "204")
        #expect(try Python.run(script, [receiver.url, ReceiveSecrets.stranger, "msg_ref_2", body]) == "401")
        #expect(try await receiver.waitForLines(1) == [Self.events[1]])
        #expect(try await receiver.waitForError(containing: "webhook-id=msg_ref_2: not verified"))
        #expect(await receiver.stop() == 0)
        #expect(receiver.output.lines == [Self.events[1]])
    }

    // MARK: Refusals

    @Test func aBadSignatureIsRefusedAndNothingIsWritten() async throws {
        let scratch = try ScratchDirectory()
        let receiver = try await ReceiveProcess(["--secret-file", try ReceiveSecrets.file([Deliver.secret], in: scratch)])
        let now = String(Int64(Date().timeIntervalSince1970))
        let body = Array(Self.events[0].utf8)
        // The signature of another body.
        var tampered = body
        tampered[10] ^= 0x01
        let signature = try Python.standardSignature(secret: Deliver.secret, id: "msg_bad", timestamp: now, body: tampered)
        let headers = ["webhook-id": "msg_bad", "webhook-timestamp": now, "webhook-signature": signature]
        #expect(try await receiver.send(body, headers: headers).status == 401)
        #expect(try await receiver.send(body, headers: ["webhook-id": "msg_unsigned", "webhook-timestamp": now]).status == 401)
        #expect(try await receiver.waitForError(containing: "webhook-id=msg_unsigned: not signed"))
        #expect(await receiver.stop() == 0)
        #expect(receiver.output.data.isEmpty, "written: \(receiver.output.text)")
        #expect(receiver.errors.lines.contains(
            "hookrelay: 401 POST /hooks webhook-id=msg_bad: not verified: no signature in webhook-signature matches the body and secret"),
            "\(receiver.errors.text)")
    }

    @Test func aStaleTimestampIsRefused() async throws {
        let scratch = try ScratchDirectory()
        let receiver = try await ReceiveProcess(["--secret-file", try ReceiveSecrets.file([Deliver.secret], in: scratch)])
        let stale = Int64(Date().timeIntervalSince1970) - 600
        #expect(try await receiver.sendSigned(Self.events[0], secret: Deliver.secret, id: "msg_stale", timestamp: stale) == 401)
        #expect(try await receiver.waitForError(containing: "webhook-id=msg_stale: not verified: webhook-timestamp is"))
        // Within --tolerance it is accepted.
        let tolerant = try await ReceiveProcess(
            ["--secret-file", try ReceiveSecrets.file([Deliver.secret], in: scratch), "--tolerance", "15m"])
        #expect(try await tolerant.sendSigned(Self.events[0], secret: Deliver.secret, id: "msg_stale", timestamp: stale) == 204)
        #expect(await receiver.stop() == 0)
        #expect(await tolerant.stop() == 0)
        #expect(receiver.output.data.isEmpty, "written: \(receiver.output.text)")
        #expect(tolerant.output.lines == [Self.events[0]])
    }

    @Test func aRepeatedWebhookIDIsAcknowledgedButWrittenOnce() async throws {
        let scratch = try ScratchDirectory()
        let receiver = try await ReceiveProcess(["--secret-file", try ReceiveSecrets.file([Deliver.secret], in: scratch)])
        #expect(try await receiver.sendSigned(Self.events[0], secret: Deliver.secret, id: "msg_dup") == 204)
        #expect(try await receiver.sendSigned(Self.events[0], secret: Deliver.secret, id: "msg_dup") == 204)
        #expect(try await receiver.sendSigned(Self.events[1], secret: Deliver.secret, id: "msg_other") == 204)
        #expect(try await receiver.waitForLines(2) == [Self.events[0], Self.events[1]])
        #expect(await receiver.stop() == 0)
        #expect(receiver.output.lines == [Self.events[0], Self.events[1]])
        #expect(receiver.errors.text.contains("204 POST /hooks webhook-id=msg_dup: already written; acknowledged, not written again"))
    }

    /// Not JSON, not UTF-8, not an object, not POST, too large: each refused with its status
    /// and a reason on standard error, nothing written.
    @Test func malformedRequestsAreRefused() async throws {
        let receiver = try await ReceiveProcess(["--unsigned", "--max-body", "1k"])
        let notJSON = try await receiver.send(Array("hello".utf8), headers: ["webhook-id": "m1"])
        #expect(notJSON.status == 400)
        let notUTF8 = try await receiver.send([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D], headers: ["webhook-id": "m2"])
        #expect(notUTF8.status == 400)
        #expect(try await receiver.send(Array("[1,2]".utf8), headers: ["webhook-id": "m3"]).status == 400)
        let get = try await receiver.send([], headers: [:], method: "GET")
        #expect(get.status == 405)
        #expect(get.headers["allow"] == "POST")
        let large = Array(("{\"pad\":\"" + String(repeating: "x", count: 2000) + "\"}").utf8)
        #expect(try await receiver.send(large, headers: ["webhook-id": "m4"]).status == 413)
        // Still serving after all that.
        #expect(try await receiver.send(Array(Self.events[0].utf8), headers: ["webhook-id": "m5"]).status == 204)
        #expect(try await receiver.waitForLines(1) == [Self.events[0]])
        #expect(await receiver.stop() == 0)
        #expect(receiver.output.lines == [Self.events[0]])
        let errors = receiver.errors.text
        for expected in [
            "hookrelay: 400 POST /hooks webhook-id=m1: the body is not JSON", "hookrelay: 400 POST /hooks webhook-id=m2: the body is not UTF-8",
            "hookrelay: 400 POST /hooks webhook-id=m3: the body is JSON but not an object", "hookrelay: 405 GET /hooks: only POST is accepted",
            "hookrelay: 413 POST /hooks webhook-id=m4: the body is larger than --max-body (1 KiB)",
        ] {
            #expect(errors.contains(expected), "\(expected) not in:\n\(errors)")
        }
    }

    // MARK: Rehearsals

    /// `--fail-first 2`: deliver's first two attempts get 503, the third is written, once.
    @Test func failFirstMakesDeliverRetry() async throws {
        let scratch = try ScratchDirectory()
        let receiver = try await ReceiveProcess(["--secret-file", try ReceiveSecrets.file([Deliver.secret], in: scratch), "--fail-first", "2"])
        let sent = try Deliver.run(
            ["deliver", "--url", receiver.url, "--max-attempts", "5"] + Deliver.loopback + Deliver.fast,
            input: Self.events[0] + "\n", secret: Deliver.secret)
        #expect(sent.status == 0, "\(sent.stderr)")
        let result = try #require(try Deliver.results(sent).first)
        #expect(result.status == "delivered" && result.attempts == 3 && result.httpStatus == 204, "\(sent.output)")
        #expect(try await receiver.waitForLines(1) == [Self.events[0]])
        #expect(await receiver.stop() == 0)
        #expect(receiver.output.lines == [Self.events[0]])
        #expect(receiver.errors.text.contains("failed on purpose (--fail-first, 2 of 2)"), "\(receiver.errors.text)")
    }

    /// `--status 500`: every attempt fails, nothing is written.
    @Test func statusFiveHundredFailsEveryAttempt() async throws {
        let scratch = try ScratchDirectory()
        let receiver = try await ReceiveProcess(["--secret-file", try ReceiveSecrets.file([Deliver.secret], in: scratch), "--status", "500"])
        let sent = try Deliver.run(
            ["deliver", "--url", receiver.url, "--max-attempts", "2"] + Deliver.loopback + Deliver.fast,
            input: Self.events[0] + "\n", secret: Deliver.secret)
        #expect(sent.status != 0)
        let result = try #require(try Deliver.results(sent).first)
        #expect(result.status == "failed" && result.attempts == 2 && result.httpStatus == 500, "\(sent.output)")
        #expect(await receiver.stop() == 0)
        #expect(receiver.output.data.isEmpty, "written: \(receiver.output.text)")
        #expect(receiver.errors.text.contains("500 POST /hooks webhook-id="), "\(receiver.errors.text)")
    }

    /// `--headers`: `{"headers":{…},"body":EVENT}`, the body on one line even when sent on several.
    @Test func headersWrapTheEvent() async throws {
        let scratch = try ScratchDirectory()
        let receiver = try await ReceiveProcess(["--secret-file", try ReceiveSecrets.file([Deliver.secret], in: scratch), "--headers"])
        let pretty = "{\n  \"event_type\": \"finding\",\n  \"id\": \"evt-p\"\n}\n"
        #expect(try await receiver.sendSigned(pretty, secret: Deliver.secret, id: "msg_h") == 204)
        let lines = try await receiver.waitForLines(1)
        #expect(await receiver.stop() == 0)
        #expect(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any], "\(lines)")
        #expect(Set(object.keys) == ["headers", "body"])
        let headers = try #require(object["headers"] as? [String: String])
        #expect(headers["webhook-id"] == "msg_h")
        #expect(headers["webhook-signature"]?.hasPrefix("v1,") == true)
        #expect(headers["content-type"] == "application/json")
        #expect((object["body"] as? NSDictionary) == ["event_type": "finding", "id": "evt-p"])
    }

    // MARK: The process

    @Test func usageErrors() throws {
        let scratch = try ScratchDirectory()
        let noSecret = try HookRelayProcess.run(["receive", "--listen", "127.0.0.1:0"], environment: HookRelayProcess.environment(), timeout: 30)
        #expect(noSecret.status == 64, "\(noSecret.stderr)")
        #expect(noSecret.stderr.contains("--unsigned"), "\(noSecret.stderr)")
        let both = try HookRelayProcess.run(
            ["receive", "--listen", "127.0.0.1:0", "--unsigned"], environment: HookRelayProcess.environment(adding: ["HOOKRELAY_SECRET": Deliver.secret]),
            timeout: 30)
        #expect(both.status == 64, "\(both.stderr)")
        let badStatus = try HookRelayProcess.run(
            ["receive", "--listen", "127.0.0.1:0", "--unsigned", "--status", "99"], environment: HookRelayProcess.environment(), timeout: 30)
        #expect(badStatus.status == 64, "\(badStatus.stderr)")
        let missingFile = try HookRelayProcess.run(
            ["receive", "--listen", "127.0.0.1:0", "--secret-file", scratch.path("absent")], environment: HookRelayProcess.environment(), timeout: 30)
        #expect(missingFile.status == 66, "\(missingFile.stderr)")
    }

    @Test func aPortInUseIsExitSixtyNine() async throws {
        let first = try await ReceiveProcess(["--unsigned"])
        let second = try HookRelayProcess.run(
            ["receive", "--unsigned", "--listen", "127.0.0.1:\(first.port)"], environment: HookRelayProcess.environment(), timeout: 30)
        #expect(second.status == 69, "\(second.stderr)")
        #expect(second.stderr.contains("hookrelay: cannot listen on 127.0.0.1:\(first.port): Address already in use"), "\(second.stderr)")
        #expect(await first.stop() == 0)
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func aSignalStopsWithStatusZero(_ signal: Int32) async throws {
        let receiver = try await ReceiveProcess(["--unsigned"])
        #expect(try await receiver.send(Array(Self.events[0].utf8), headers: [:]).status == 204)
        #expect(await receiver.stop(signal) == 0, "\(receiver.errors.text)")
        #expect(receiver.output.lines == [Self.events[0]])
    }

    /// A consumer that went away (`| head -1` done): the next event stops the receiver, status 0.
    @Test func aClosedOutputStopsQuietly() async throws {
        let receiver = try await ReceiveProcess(["--unsigned"], closeOutput: true)
        let answer = try await receiver.send(Array(Self.events[0].utf8), headers: ["webhook-id": "m1"])
        #expect(answer.status == 503)
        #expect(await receiver.waitForExit(timeout: 15) == 0, "\(receiver.errors.text)")
    }
}
