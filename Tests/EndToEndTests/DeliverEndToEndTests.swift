import Foundation
import Testing

/// `hookrelay deliver` against receivers on 127.0.0.1: what arrives, how it is signed, and what
/// the command prints.
@Suite struct DeliverEndToEndTests {
    /// Events with an id, without one, pretty-printed over several lines, and with escapes and
    /// non-ASCII text that must arrive exactly as written.
    static let events = [
        #"{"event_type":"finding","id":"evt-1","finding":{"severity":"critical","asset":"api.example.com","title":"SQLi"}}"#,
        #"{ "event_type" : "scan_completed",  "scan": {"asset": "db.example.com", "note": "caf\u00e9 ☕ é"}, "n": 1.50e3 }"#,
        "{\n  \"event_type\": \"asset_changed\",\n  \"id\": \"evt-3\",\n  \"asset\": {\"name\": \"www.example.org\"}\n}",
    ]
    static var input: String { Deliver.ndjson(events) }

    /// The event a request carried, found by its body.
    func event(of request: Receiver.Request) -> String? {
        Self.events.first { Array($0.utf8) == request.body }
    }

    @Test func bodiesArriveByteForByteWithTheHeaders() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let version = try HookRelayProcess.run(["--version"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!version.isEmpty)

        let result = try Deliver.run(Deliver.arguments(receiver), input: Self.input, secret: Deliver.secret)
        #expect(result.status == 0, "\(result.stderr)")
        let requests = receiver.requests
        #expect(requests.count == 3)
        // Every event arrived once, with exactly its bytes.
        #expect(Set(requests.compactMap(event(of:))) == Set(Self.events))
        for request in requests {
            #expect(request.method == "POST")
            #expect(request.path == "/hook")
            #expect(request.headers["content-type"] == "application/json")
            #expect(request.headers["user-agent"] == "hookrelay/\(version)")
            let timestamp = try #require(request.headers["webhook-timestamp"].flatMap { Int64($0) })
            #expect(abs(Int64(Date().timeIntervalSince1970) - timestamp) < 120)
        }
    }

    @Test func signaturesVerifyWithAnIndependentImplementation() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let result = try Deliver.run(Deliver.arguments(receiver), input: Self.input, secret: Deliver.secret)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(receiver.requests.count == 3)
        for request in receiver.requests {
            let id = try #require(request.headers["webhook-id"])
            let timestamp = try #require(request.headers["webhook-timestamp"])
            let signature = try #require(request.headers["webhook-signature"])
            let expected = try Python.standardSignature(secret: Deliver.secret, id: id, timestamp: timestamp, body: request.body)
            #expect(signature == expected)
        }
    }

    /// The reference verifier (Python `standardwebhooks`) accepts what was sent, and rejects
    /// it with one byte of the body changed.
    @Test func theReferenceLibraryVerifiesTheSignatures() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let result = try Deliver.run(Deliver.arguments(receiver), input: Self.input, secret: Deliver.secret)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(receiver.requests.count == 3)
        for request in receiver.requests {
            #expect(try Python.referenceVerify(secret: Deliver.secret, headers: request.headers, body: request.body) == "ok")
            var tampered = request.body
            tampered[tampered.count / 2] ^= 0x01
            #expect(try Python.referenceVerify(secret: Deliver.secret, headers: request.headers, body: tampered) != "ok")
        }
    }

    @Test func hookrelayVerifyAcceptsWhatWasSentAndRejectsATamperedBody() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let sent = try Deliver.run(Deliver.arguments(receiver), input: Self.input, secret: Deliver.secret)
        #expect(sent.status == 0, "\(sent.stderr)")
        let scratch = try ScratchDirectory()
        for (index, request) in receiver.requests.enumerated() {
            let headerLines = ["webhook-id", "webhook-timestamp", "webhook-signature"]
                .map { "\($0): \(request.headers[$0] ?? "")" }.joined(separator: "\n") + "\n"
            let headers = try scratch.file("headers-\(index)", headerLines)
            let body = scratch.path("body-\(index)")
            try Data(request.body).write(to: URL(fileURLWithPath: body))
            let verified = try Deliver.run(["verify", "--headers", headers, body], secret: Deliver.secret)
            #expect(verified.status == 0, "\(verified.stderr)")

            var tampered = request.body
            tampered[tampered.count / 2] ^= 0x01
            let tamperedPath = scratch.path("tampered-\(index)")
            try Data(tampered).write(to: URL(fileURLWithPath: tamperedPath))
            let rejected = try Deliver.run(["verify", "--headers", headers, tamperedPath], secret: Deliver.secret)
            #expect(rejected.status == 65)
            #expect(rejected.stderr.contains("hookrelay: not verified"), "\(rejected.stderr)")

            // A receiver holding another secret does not accept it either.
            let wrongSecret = try Deliver.run(["verify", "--headers", headers, body], secret: Deliver.otherSecret)
            #expect(wrongSecret.status == 65)
        }
    }

    @Test func twoSecretsGiveTwoSignaturesSeparatedByOneSpace() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let result = try Deliver.run(
            Deliver.arguments(receiver), input: Deliver.ndjson([Self.events[0]]), secret: "\(Deliver.secret) \(Deliver.otherSecret)")
        #expect(result.status == 0, "\(result.stderr)")
        let request = try #require(receiver.requests.first)
        let header = try #require(request.headers["webhook-signature"])
        let parts = header.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        #expect(parts.count == 2, "\(header)")
        let id = try #require(request.headers["webhook-id"])
        let timestamp = try #require(request.headers["webhook-timestamp"])
        let first = try Python.standardSignature(secret: Deliver.secret, id: id, timestamp: timestamp, body: request.body)
        let second = try Python.standardSignature(secret: Deliver.otherSecret, id: id, timestamp: timestamp, body: request.body)
        #expect(header == first + " " + second)
    }

    @Test func secretFileWithTwoSecretsSignsWithBoth() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let scratch = try ScratchDirectory()
        let file = try scratch.file("secrets", "# rotation: new first\n\(Deliver.otherSecret)\n\n\(Deliver.secret)\n")
        let result = try Deliver.run(
            Deliver.arguments(receiver, extra: ["--secret-file", file]), input: Deliver.ndjson([Self.events[0]]))
        #expect(result.status == 0, "\(result.stderr)")
        let request = try #require(receiver.requests.first)
        let id = try #require(request.headers["webhook-id"])
        let timestamp = try #require(request.headers["webhook-timestamp"])
        let expected = [Deliver.otherSecret, Deliver.secret].map {
            (try? Python.standardSignature(secret: $0, id: id, timestamp: timestamp, body: request.body)) ?? "?"
        }
        #expect(request.headers["webhook-signature"] == expected.joined(separator: " "))
    }

    @Test func aSecretFileWithABadSecretIsAUsageError() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let scratch = try ScratchDirectory()
        let tooLong = "whsec_" + Data(repeating: 0x78, count: 65).base64EncodedString()
        let file = try scratch.file("secrets", "\(Deliver.secret)\n\(tooLong)\n")
        let result = try Deliver.run(Deliver.arguments(receiver, extra: ["--secret-file", file]), input: Deliver.ndjson([Self.events[0]]))
        #expect(result.status == 64)
        #expect(result.stderr.contains("\(file): the secret is 65 bytes long; Standard Webhooks secrets are 24 to 64 random bytes"), "\(result.stderr)")
        #expect(receiver.connections == 0)
    }

    @Test func aLargeResponseBodyDoesNotStopDelivery() throws {
        let receiver = try Receiver { _, _ in Receiver.Response(status: 200, body: String(repeating: "x", count: 1 << 20)) }
        defer { receiver.stop() }
        let result = try Deliver.run(Deliver.arguments(receiver), input: Self.input, secret: Deliver.secret)
        #expect(result.status == 0, "\(result.stderr)")
        let results = try Deliver.results(result)
        #expect(results.count == 3)
        #expect(results.allSatisfy { $0.status == "delivered" && $0.httpStatus == 200 })
    }

    @Test func githubSchemeAddsXHubSignature256() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let result = try Deliver.run(
            Deliver.arguments(receiver, extra: ["--signature-scheme", "standard,github"]), input: Self.input, secret: Deliver.secret)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(receiver.requests.count == 3)
        for request in receiver.requests {
            let github = try #require(request.headers["x-hub-signature-256"])
            #expect(github == (try Python.githubSignature(secret: Deliver.secret, body: request.body)))
            let id = try #require(request.headers["webhook-id"])
            let timestamp = try #require(request.headers["webhook-timestamp"])
            #expect(request.headers["webhook-signature"]
                == (try Python.standardSignature(secret: Deliver.secret, id: id, timestamp: timestamp, body: request.body)))
        }
    }

    @Test func withoutTheGithubSchemeThereIsNoXHubSignature() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let result = try Deliver.run(Deliver.arguments(receiver), input: Deliver.ndjson([Self.events[0]]), secret: Deliver.secret)
        #expect(result.status == 0, "\(result.stderr)")
        let request = try #require(receiver.requests.first)
        #expect(request.headers["x-hub-signature-256"] == nil)
        #expect(request.headers["webhook-signature"] != nil)
    }

    @Test func headerValuesExpandFromTheEnvironment() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let result = try Deliver.run(
            Deliver.arguments(receiver, extra: ["--header", "X-Token: ${TOKEN}", "--header", "X-Static: a ${PART}b"]),
            input: Deliver.ndjson([Self.events[0]]), secret: Deliver.secret,
            environment: ["TOKEN": "tok-3f9a.secret", "PART": "mid"])
        #expect(result.status == 0, "\(result.stderr)")
        let request = try #require(receiver.requests.first)
        #expect(request.headers["x-token"] == "tok-3f9a.secret")
        #expect(request.headers["x-static"] == "a midb")
    }

    @Test func anUnsetHeaderVariableIsAUsageError() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let result = try Deliver.run(
            Deliver.arguments(receiver, extra: ["--header", "X-Token: ${HOOKRELAY_TEST_UNSET_VARIABLE}"]),
            input: Deliver.ndjson([Self.events[0]]))
        #expect(result.status == 64)
        #expect(result.stderr.contains("HOOKRELAY_TEST_UNSET_VARIABLE"), "\(result.stderr)")
        #expect(receiver.connections == 0)
    }

    @Test func webhookIDIsTheEventIDOrAStableHash() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let first = try Deliver.run(Deliver.arguments(receiver), input: Self.input, secret: Deliver.secret)
        #expect(first.status == 0, "\(first.stderr)")
        let firstIDs = Dictionary(receiver.requests.map { (event(of: $0) ?? "?", $0.headers["webhook-id"] ?? "") }, uniquingKeysWith: { first, _ in first })
        #expect(firstIDs[Self.events[0]] == "evt-1")
        #expect(firstIDs[Self.events[2]] == "evt-3")
        let derived = try #require(firstIDs[Self.events[1]])
        #expect(derived == (try Python.hashID(body: Array(Self.events[1].utf8))))
        #expect(derived.count == 4 + 32)

        // A second run of the same input: the same ids, so receivers can recognise the messages.
        let second = try Deliver.run(Deliver.arguments(receiver), input: Self.input, secret: Deliver.secret)
        #expect(second.status == 0, "\(second.stderr)")
        let all = receiver.requests
        #expect(all.count == 6)
        let secondIDs = Dictionary(all.dropFirst(3).map { (event(of: $0) ?? "?", $0.headers["webhook-id"] ?? "") }, uniquingKeysWith: { first, _ in first })
        #expect(secondIDs == firstIDs)
    }

    @Test func everyEventGoesToEveryURL() throws {
        let a = try Receiver()
        let b = try Receiver()
        defer { a.stop(); b.stop() }
        let result = try Deliver.run(Deliver.arguments(a, b), input: Self.input, secret: Deliver.secret)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Set(a.requests.compactMap(event(of:))) == Set(Self.events))
        #expect(Set(b.requests.compactMap(event(of:))) == Set(Self.events))
        let results = try Deliver.results(result)
        #expect(results.count == 6)
        #expect(Set(results.map(\.url)) == [a.url, b.url])
    }

    // MARK: Output

    @Test func resultLinesAreJSONWithTheDocumentedKeys() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let result = try Deliver.run(Deliver.arguments(receiver), input: Self.input, secret: Deliver.secret)
        #expect(result.status == 0, "\(result.stderr)")
        let results = try Deliver.results(result)
        #expect(results.count == 3)
        #expect(Set(results.map(\.webhookID)) == Set(Deliver.ids(receiver.requests)))
        for line in results {
            #expect(line.url == receiver.url)
            #expect(line.status == "delivered")
            #expect(line.attempts == 1)
            #expect(line.httpStatus == 204)
            #expect(line.error == nil)
            let latency = try #require(line.latencyMilliseconds)
            #expect(latency >= 0 && latency < 10_000)
        }
    }

    @Test func quietPrintsNothing() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let result = try Deliver.run(Deliver.arguments(receiver, extra: ["--quiet"]), input: Self.input, secret: Deliver.secret)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        #expect(receiver.requests.count == 3)
    }

    @Test func summaryLineOnStandardErrorWhenItIsNotATerminal() throws {
        let ok = try Receiver()
        let broken = try Receiver { _, _ in Receiver.Response(status: 500) }
        defer { ok.stop(); broken.stop() }
        let result = try Deliver.run(
            Deliver.arguments(ok, broken, extra: ["--max-attempts", "1"]), input: Self.input, secret: Deliver.secret)
        #expect(result.status == 75)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 1, "\(result.stderr)")
        let summary = try #require(lines.last)
        #expect(summary.hasPrefix("hookrelay: delivered 3, failed 3, pending 0 in "), "\(summary)")
        // No progress line rewriting itself: that is for terminals.
        #expect(!result.stderr.contains("\r"))
        #expect(!result.stderr.contains("\u{1B}"))
    }

    @Test func printScheduleShowsTheDelaysAndExits() throws {
        let result = try Deliver.run(["deliver", "--print-schedule", "--max-attempts", "5", "--backoff-base", "1s", "--backoff-max", "3s"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.lines
        #expect(lines.first == "attempt 1: at once")
        #expect(lines.contains { $0.hasPrefix("attempt 2: up to 1s after attempt 1") })
        #expect(lines.contains { $0.hasPrefix("attempt 3: up to 2s after attempt 2") })
        #expect(lines.contains { $0.hasPrefix("attempt 4: up to 3s after attempt 3") })
        #expect(lines.contains { $0.hasPrefix("attempt 5: up to 3s after attempt 4 (at most 9s after the first)") })
        #expect(!lines.contains { $0.hasPrefix("attempt 6") })
        #expect(lines.contains { $0.hasPrefix("worst case: the last attempt ends within 9s of the first") })
    }

    @Test func printScheduleWithTheDefaults() throws {
        let result = try Deliver.run(["deliver", "--print-schedule"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.contains { $0.hasPrefix("attempt 8: up to 1m4s after attempt 7") }, "\(result.output)")
        #expect(result.lines.contains { $0.hasPrefix("worst case: the last attempt ends within 2m7s of the first") }, "\(result.output)")
    }

    // MARK: Invalid input

    @Test func malformedRecordIsReportedAndTheOthersDelivered() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let input = Deliver.ndjson([Self.events[0], #"{"id":"bad","x":,}"#, #"{"id":"evt-after"}"#])
        let result = try Deliver.run(Deliver.arguments(receiver), input: input, secret: Deliver.secret)
        #expect(result.status == 65)
        #expect(Set(Deliver.ids(receiver.requests)) == ["evt-1", "evt-after"])
        #expect(result.stderr.contains("hookrelay: line 2, byte "), "\(result.stderr)")
        let results = try Deliver.results(result)
        #expect(results.map(\.status) == ["delivered", "delivered"])
    }

    @Test func invalidFailStopsAtTheFirstBadRecord() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let input = Deliver.ndjson([Self.events[0], #"{"id":"bad""#, #"{"id":"evt-after"}"#])
        let result = try Deliver.run(Deliver.arguments(receiver, extra: ["--invalid", "fail"]), input: input, secret: Deliver.secret)
        #expect(result.status == 65)
        #expect(result.stderr.contains("line 2"), "\(result.stderr)")
        #expect(!Deliver.ids(receiver.requests).contains("evt-after"))
        #expect(!Deliver.ids(receiver.requests).contains("bad"))
    }

    // MARK: Usage errors

    static let usageCases: [(arguments: [String], environment: [String: String], message: String)] = [
        (["deliver"], [:], "give at least one --url"),
        (["deliver", "--drain"], [:], "--drain and --retry-failed work on a spool; give --spool FILE"),
        (["deliver", "--url", "URL", "--allow-http", "--allow-cidr", "10.0.0.0/33"], [:], "--allow-cidr '10.0.0.0/33' is not an address range"),
        (["deliver", "--url", "URL", "--allow-http", "--allow-cidr", "localhost"], [:], "--allow-cidr 'localhost' is not an address range"),
        (["deliver", "--url", "URL", "--allow-http", "--timeout", "5x"], [:], "--timeout '5x' is not a duration"),
        (["deliver", "--url", "URL", "--allow-http", "--backoff-base", "soon"], [:], "--backoff-base 'soon' is not a duration"),
        (["deliver", "--url", "URL", "--allow-http", "--backoff-base", "2m", "--backoff-max", "1m"], [:], "--backoff-base (2m) is larger than --backoff-max (1m)"),
        (["deliver", "--url", "URL", "--allow-http", "--max-attempts", "0"], [:], "--max-attempts must be between 1 and 100"),
        (["deliver", "--url", "URL"], [:], "plain http sends events and signatures unencrypted; use https, or --allow-http for testing"),
        (["deliver", "--url", "ftp://127.0.0.1/x"], [:], "only https (and http with --allow-http) URLs can be delivered to"),
        (["deliver", "--url", "URL", "--allow-http"], ["HOOKRELAY_SECRET": "whsec_eHh4eHh4eHh4eA=="],
         "HOOKRELAY_SECRET: the secret is 10 bytes long; Standard Webhooks secrets are 24 to 64 random bytes"),
        (["deliver", "--url", "URL", "--allow-http"], ["HOOKRELAY_SECRET": "whsec_!!!"], "HOOKRELAY_SECRET: the secret is not base64"),
        (["deliver", "--url", "URL", "--allow-http", "--signature-scheme", "gitlab"], ["HOOKRELAY_SECRET": Deliver.secret],
         "--signature-scheme 'gitlab' is not known"),
        (["deliver", "--url", "URL", "--allow-http", "--signature-scheme", "github"], [:], "--signature-scheme github needs a secret"),
        (["deliver", "--url", "URL", "--allow-http", "--wait", "5s"], [:], "--wait needs --spool"),
        (["deliver", "--spool", "/nonexistent/spool.db", "--drain", "--url", "URL"], [:], "--drain sends to the URLs stored in the spool; leave out --url"),
        (["deliver", "--url", "URL", "--allow-http", "--header", "User-Agent: x"], [:], "--header: hookrelay sets the User-Agent header itself"),
        (["deliver", "--url", "URL", "--allow-http", "--header", "no colon"], [:], "--header: header line 'no colon' needs the form 'Name: value'"),
        (["deliver", "--url", "URL", "--allow-http", "--lease", "1m"], [:], "--lease needs --spool"),
        (["deliver", "--url", "URL", "--allow-http", "--spool", "/nonexistent/spool.db", "--lease", "10s"], [:],
         "--lease (10s) must be at least --timeout + --connect-timeout (20s)"),
        // A mistyped option is the parser's answer, not one of deliver's own checks.
        (["deliver", "--alow-http"], [:], "Unknown option '--alow-http'"),
        (["deliver", "--urls", "URL"], [:], "Unknown option '--urls'"),
        (["deliver", "--url", "URL", "--alow-http"], [:], "Unknown option '--alow-http'"),
        // Unsigned only when asked for.
        (["deliver", "--url", "URL", "--allow-http", "--unsigned"], ["HOOKRELAY_SECRET": Deliver.secret], "--unsigned and a secret"),
    ]

    /// Without a secret in any form, deliver refuses to send (its help says "signed").
    @Test func deliverWithoutASecretRefusesUnlessUnsigned() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let arguments = ["deliver", "--url", receiver.url] + Deliver.loopback
        let refused = try HookRelayProcess.run(arguments, stdin: Data(Self.input.utf8), environment: HookRelayProcess.environment())
        #expect(refused.status == 64, "\(refused.stderr)")
        #expect(refused.stderr.contains("no signing secret: give --secret-file FILE or HOOKRELAY_SECRET"), "\(refused.stderr)")
        #expect(receiver.connections == 0)
        let unsigned = try HookRelayProcess.run(
            arguments + ["--unsigned"], stdin: Data(Self.input.utf8), environment: HookRelayProcess.environment())
        #expect(unsigned.status == 0, "\(unsigned.stderr)")
        #expect(receiver.requests.first?.headers["webhook-signature"] == nil)
    }

    @Test(arguments: usageCases)
    func usageErrors(_ arguments: [String], _ environment: [String: String], _ message: String) throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let arguments = arguments.map { $0 == "URL" ? receiver.url : $0 }
        let result = try Deliver.run(arguments, input: Self.input, environment: environment)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stderr.hasPrefix("hookrelay: "), "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(receiver.connections == 0)
    }
}

/// On a terminal, `deliver` rewrites one progress line in place and ends it with the summary.
@Suite struct DeliverProgressTests {
    @Test func progressLineOnATerminal() throws {
        let receiver = try Receiver { _, _ in Receiver.Response(status: 204, delay: .milliseconds(5)) }
        defer { receiver.stop() }
        let scratch = try ScratchDirectory()
        let input = try scratch.file("events.ndjson", Deliver.ndjson(Deliver.events(100, prefix: "tty")))
        let command = ([HookRelayProcess.binary.path] + Deliver.arguments(receiver, extra: ["--concurrency", "2", "--quiet", "--unsigned"]))
            .map { "'" + $0 + "'" }.joined(separator: " ") + " < '\(input)'"
        // script(1) runs the command with its standard streams on a new terminal.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(receiver.requests.count == 100)
        // --quiet keeps the terminal clean; without it a progress line is drawn with \r.
        #expect(!text.contains("hookrelay: delivered"), "\(text)")

        let loud = command.replacingOccurrences(of: " '--quiet'", with: "")
        let second = Process()
        second.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        second.arguments = ["-qec", loud, "/dev/null"]
        let secondOutput = Pipe()
        second.standardOutput = secondOutput
        second.standardInput = FileHandle.nullDevice
        try second.run()
        let loudText = String(decoding: secondOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        second.waitUntilExit()
        #expect(loudText.contains("\rhookrelay: delivered 100, failed 0, pending 0"), "\(loudText.suffix(300))")
        #expect(loudText.hasSuffix("\r\n") || loudText.hasSuffix("\n"))
    }
}
