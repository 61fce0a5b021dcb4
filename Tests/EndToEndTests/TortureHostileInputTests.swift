import Foundation
import Testing

extension TortureSuite {
    /// Hostile input (issue 7, 5) to `filter`, `deliver` and `POST /v1/events`: nesting 10,000 and
    /// 1,000,000 deep, a record of 25 MiB + 1 byte, chunked bodies, 100,000 records in one request,
    /// byte-order marks, invalid UTF-8, lone surrogates, duplicate keys, blank lines and truncated
    /// records. Each gets its documented outcome; nothing crashes, hangs or grows without bound.
    ///
    /// Already covered elsewhere (and not repeated here): each kind of invalid record one by one
    /// through `filter` (FilterEndToEndTests.eachKindOfInvalidInput, 10,000 deep included), a record
    /// over a small --max-record-size, blank input, the JSONTestSuite corpus through the binary
    /// (FilterStreamingTests), 1,000,000 deep and a leading BOM in the scanner and reader
    /// (JSONScannerTests, RecordReaderTests), duplicate keys in the scanner
    /// (JSONScannerTests.lastDuplicateKeyWins), malformed records to `deliver`
    /// (DeliverEndToEndTests), truncated and bad records and 413 to serve (ServeEndToEndTests).
    @Suite struct TortureHostileInputTests {
        static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        static let mebibytes25 = 25 << 20

        static func event(_ id: String) -> String { #"{"event_type":"finding","id":"\#(id)","finding":{"severity":"high"}}"# }

        /// A finding of exactly `size` bytes.
        static func record(bytes size: Int, id: String) -> Data {
            let head = Data(#"{"event_type":"finding","id":"\#(id)","finding":{"severity":"high"},"pad":""#.utf8)
            let tail = Data(#""}"#.utf8)
            return head + Data(repeating: UInt8(ascii: "x"), count: size - head.count - tail.count) + tail
        }

        static func deep(_ levels: Int) -> Data { Data(#"{"a":"#.utf8) + Data(repeating: UInt8(ascii: "["), count: levels) }

        /// Every hostile record on lines of its own between valid events; the valid ones and the
        /// duplicate-key ones whose last value is high are what a `--min-severity high` filter keeps.
        static let stream: Data = {
            var data = Data(bom) + Data((event("e1") + "\n\n   \n\t\r\n").utf8)
            data += deep(10_000) + Data("\n".utf8)
            data += deep(1_000_000) + Data("\n".utf8)
            data += Data((event("e2") + "\n").utf8)
            data += Data(#"{"id":"utf8","a":""#.utf8) + Data([0xFF, 0xFE]) + Data("\"}\n".utf8)
            data += Data(#"{"id":"high-surrogate","a":"\ud800"}"#.utf8) + Data("\n".utf8)
            data += Data(#"{"id":"low-surrogate","a":"x\udc00"}"#.utf8) + Data("\n".utf8)
            data += Data(#"{"event_type":"finding","id":"dup-low-then-critical","finding":{"severity":"low"},"finding":{"severity":"critical"}}"#.utf8) + Data("\n".utf8)
            data += Data(#"{"event_type":"finding","id":"dup-critical-then-low","finding":{"severity":"critical"},"finding":{"severity":"low"}}"#.utf8) + Data("\n".utf8)
            data += Data(#"{"event_type":"finding","id":"dup-inner","finding":{"severity":"low","severity":"high"}}"#.utf8) + Data("\n".utf8)
            data += Data(bom) + Data((event("after-bom") + "\n").utf8)
            data += Data((event("e3") + "\n").utf8)
            data += Data(#"{"event_type":"finding","id":"truncated","finding":{"sev"#.utf8)
            return data
        }()

        static let streamErrors = [
            "line 5, byte", "nesting deeper than 512 levels",
            "line 6, byte", "nesting deeper than 512 levels",
            "invalid UTF-8 byte 0xFF in a string",
            #"lone UTF-16 surrogate \uD800"#,
            #"lone UTF-16 surrogate \uDC00"#,
            "unexpected byte 0xEF",
            "unexpected end of input",
        ]

        /// Checks that each fragment is in `text`, in order.
        static func expectInOrder(_ text: String, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
            var rest = Substring(text)
            for fragment in fragments {
                guard let range = rest.range(of: fragment) else {
                    Issue.record("\"\(fragment)\" missing (or out of order) in: \(text.prefix(1500))", sourceLocation: sourceLocation)
                    return
                }
                rest = rest[range.upperBound...]
            }
        }

        static let filterRSSLimit = [16: 48, 25: 64]  // --max-record-size MiB: peak RSS limit MiB

        @Test func filterGivesEachHostileRecordItsDocumentedOutcome() async throws {
            let scratch = try ScratchDirectory()
            let hostile = scratch.path("hostile.ndjson")
            try Self.stream.write(to: URL(fileURLWithPath: hostile))
            let over = scratch.path("over.ndjson")
            try (Data((Self.event("before") + "\n").utf8) + Self.record(bytes: Self.mebibytes25 + 1, id: "huge") + Data(("\n" + Self.event("after") + "\n").utf8))
                .write(to: URL(fileURLWithPath: over))
            let exact = scratch.path("exact.ndjson")
            let exactRecord = Self.record(bytes: Self.mebibytes25, id: "exact")
            try (exactRecord + Data("\n".utf8)).write(to: URL(fileURLWithPath: exact))

            async let streamRun = Torture.run(["filter", "--min-severity", "high", hostile])
            async let overDefault = Torture.run(["filter", over])
            async let over25 = Torture.run(["filter", "--max-record-size", "25M", over])
            async let exact25 = Torture.run(["filter", "--max-record-size", "25M", exact])
            let (stream, defaultLimit, limit25, exactly) = try await (streamRun, overDefault, over25, exact25)

            #expect(stream.status == 65)
            let kept = stream.lines.map { line in line.components(separatedBy: #""id":""#).dropFirst().first?.prefix { $0 != "\"" } ?? "?" }
            // Duplicate keys: the last occurrence is the one the filter reads.
            #expect(kept == ["e1", "e2", "dup-low-then-critical", "dup-inner", "e3"], "\(stream.stderr)")
            Self.expectInOrder(stream.stderr, Self.streamErrors)
            #expect(stream.stderr.split(separator: "\n").count == 7, "\(stream.stderr)")

            #expect(defaultLimit.status == 65)
            #expect(defaultLimit.lines == [Self.event("before"), Self.event("after")])
            #expect(defaultLimit.stderr.contains("line 2, byte \(Self.event("before").utf8.count + 1): record is larger than --max-record-size (16 MiB)"), "\(defaultLimit.stderr)")
            #expect(limit25.status == 65)
            #expect(limit25.lines == [Self.event("before"), Self.event("after")])
            #expect(limit25.stderr.contains("record is larger than --max-record-size (25 MiB)"), "\(limit25.stderr)")
            #expect(exactly.status == 0, "\(exactly.stderr)")
            #expect(exactly.stdout == exactRecord + Data("\n".utf8), "a record of exactly 25 MiB did not pass unchanged")

            for (name, run, limit) in [("hostile stream", stream, 16), ("25 MiB + 1", defaultLimit, 16), ("25 MiB + 1 with 25M", limit25, 25), ("25 MiB with 25M", exactly, 25)] {
                #expect(!run.timedOut && run.peakKilobytes < Self.filterRSSLimit[limit]! * 1024, "\(name): peak RSS \(Torture.megabytes(kilobytes: run.peakKilobytes))")
            }
            Torture.report(
                "hostile input, filter: 1,000,000-deep and 9 other hostile records \(stream.status == 65 ? "reported" : "NOT reported") in \(String(format: "%.2f", stream.seconds)) s "
                    + "(peak RSS \(Torture.megabytes(kilobytes: stream.peakKilobytes))); 25 MiB + 1: skipped at 16 MiB (peak \(Torture.megabytes(kilobytes: defaultLimit.peakKilobytes))) "
                    + "and with --max-record-size 25M (peak \(Torture.megabytes(kilobytes: limit25.peakKilobytes))); exactly 25 MiB with 25M: passed "
                    + "(peak \(Torture.megabytes(kilobytes: exactly.peakKilobytes)))")
        }

        static let deliverRSSLimit = 96

        @Test func deliverSkipsHostileRecordsAndSendsTheRest() async throws {
            let receiver = try Receiver()
            defer { receiver.stop() }
            let scratch = try ScratchDirectory()
            let input = scratch.path("input.ndjson")
            let duplicateID = #"{"event_type":"finding","id":"first-id","finding":{"severity":"low"},"id":"last-id"}"#
            try (Self.stream + Data("\n".utf8) + Self.record(bytes: Self.mebibytes25 + 1, id: "huge") + Data(("\n" + duplicateID + "\n" + Self.event("e4") + "\n").utf8))
                .write(to: URL(fileURLWithPath: input))

            var runs: [(String, WatchedProcess.Result)] = []
            for extra in [[], ["--max-record-size", "25M"]] {
                let before = receiver.requests.count
                let run = try await Torture.run(Deliver.arguments(receiver, extra: [input] + extra), secret: Deliver.secret)
                runs.append((extra.isEmpty ? "default" : "25M", run))
                #expect(run.status == 65, "\(run.stderr)")
                let sent = Deliver.ids(receiver.requests.dropFirst(before))
                // deliver does not filter: every valid record goes, the duplicate-key ones with the
                // last value of their `id` as webhook-id.
                #expect(Set(sent) == ["e1", "e2", "dup-low-then-critical", "dup-critical-then-low", "dup-inner", "e3", "last-id", "e4"], "\(sent)")
                #expect(sent.count == 8)
                Self.expectInOrder(run.stderr, Self.streamErrors.dropLast() + ["unescaped control character 0x0A inside a string", "record is larger than --max-record-size (\(extra.isEmpty ? 16 : 25) MiB)"])
                #expect(!run.timedOut && run.peakKilobytes < Self.deliverRSSLimit * 1024, "peak RSS \(Torture.megabytes(kilobytes: run.peakKilobytes))")
            }
            Torture.report(
                "hostile input, deliver: hostile stream + 25 MiB + 1: 8 valid events sent, 10 records reported, exit 65; "
                    + runs.map { "\($0.0): \(String(format: "%.2f", $0.1.seconds)) s, peak RSS \(Torture.megabytes(kilobytes: $0.1.peakKilobytes))" }.joined(separator: "; "))
        }

        /// Peak RSS limits of serve, in MiB: after the records of one request (100,000; 1,000,000 in
        /// the long run, about 13 times the body); and after an event of 25 MiB besides, which is
        /// held a few times over (request, store, attempt) but not without bound.
        static let tinyRSSLimit = Torture.scale(96, long: 512)
        static let serveRSSLimit = Torture.scale(288, long: 512)

        @Test func serveAnswersHostileBodiesWithTheirStatus() async throws {
            let receiver = try Receiver()
            defer { receiver.stop() }
            let server = try await ServeProcess.started(config: ["max_event_bytes": Self.mebibytes25])
            defer { server.abandon() }
            let peak = Shared(0)
            let sampler = server.samplePeakRSS(into: peak)
            defer { sampler.cancel() }
            _ = try await server.createWebhook(receiver, ["events": ["finding"], "min_severity": "high"])
            let token = try #require(server.token)

            func post(_ body: Data, ndjson: Bool = false) async throws -> APIResponse {
                try await server.request("POST", "/v1/events", body: body, contentType: ndjson ? "application/x-ndjson" : "application/json")
            }
            func expectStatus(_ response: APIResponse, _ status: Int, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
                #expect(response.status == status, "\(response.text.prefix(300))", sourceLocation: sourceLocation)
                #expect(response.errorMessage?.contains(fragment) == true, "\(response.text.prefix(300))", sourceLocation: sourceLocation)
            }

            // Nesting, encoding, a leading BOM: 400, naming the record and the byte.
            expectStatus(try await post(Self.deep(10_000) + Data("]".utf8)), 400, "nesting deeper than 512 levels")
            expectStatus(try await post(Self.deep(1_000_000)), 400, "nesting deeper than 512 levels")
            expectStatus(try await post(Data(#"{"id":"u","a":""#.utf8) + Data([0xC3, 0x28]) + Data("\"}".utf8)), 400, "invalid UTF-8")
            expectStatus(try await post(Data(#"{"id":"s","a":"\udfff"}"#.utf8)), 400, #"lone UTF-16 surrogate \uDFFF"#)
            // RFC 8259 forbids a BOM in JSON sent over a network: refused, unlike filter's input files.
            expectStatus(try await post(Data(Self.bom) + Data(Self.event("bom").utf8)), 400, "record 1 at byte 0: unexpected byte 0xEF")
            expectStatus(try await post(Data((Self.event("t-ok") + "\n" + #"{"id":"t","a":[1,2"#).utf8), ndjson: true), 400, "record 2")

            // 100,000 tiny records in one request, one commit.
            let tinyCount = Torture.scale(100_000, long: 1_000_000)
            let tiny = Data((0..<tinyCount).map { #"{"id":"tiny-\#($0)"}"# + "\n" }.joined().utf8)
            let tinyStarted = Date()
            // On a socket of its own: URLSession gives a request 15 s, and a million records in a debug build may take longer.
            let tinyResponse = await RawHTTP.exchange(
                port: server.port,
                parts: [RawHTTP.head("POST", "/v1/events", port: server.port, headers: [
                    "Authorization: Bearer \(token)", "Content-Type: application/x-ndjson", "Content-Length: \(tiny.count)",
                ]), tiny],
                timeout: 300)
            let tinySeconds = Date().timeIntervalSince(tinyStarted)
            #expect(tinyResponse.status == 202, "\(tinyResponse.response.prefix(300))")
            #expect(tinyResponse.body.hasPrefix(#"{"accepted":\#(tinyCount),"duplicates":0,"#), "\(tinyResponse.body.prefix(300))")
            let peakAfterTiny = server.pid.flatMap { Torture.peakRSS(pid: $0) } ?? 0
            #expect(peakAfterTiny < Self.tinyRSSLimit * 1024, "peak RSS \(Torture.megabytes(kilobytes: peakAfterTiny)) after \(tinyCount) records")

            // 25 MiB + 1: too large however it comes; exactly 25 MiB (max_event_bytes 25 MiB) is taken.
            let huge = Self.record(bytes: Self.mebibytes25 + 1, id: "huge")
            expectStatus(try await post(huge), 413, "larger than 25 MiB")
            expectStatus(try await post(huge + Data("\n".utf8), ndjson: true), 413, "event 1 at byte 0 is larger than max_event_bytes (25 MiB)")
            let exact = try await post(Self.record(bytes: Self.mebibytes25, id: "exact-25"))
            #expect(exact.status == 202, "\(exact.text.prefix(300))")

            // Duplicate keys: the last value of `id` names the event, the last severity decides.
            let duplicates = try await post(Data((
                #"{"event_type":"finding","id":"dup-a","finding":{"severity":"critical"},"id":"dup-b","finding":{"severity":"low"}}"# + "\n"
                    + #"{"event_type":"finding","id":"dup-c","finding":{"severity":"low"},"finding":{"severity":"high"}}"# + "\n\n  \n\t\n").utf8), ndjson: true)
            #expect(duplicates.status == 202, "\(duplicates.text)")
            #expect(duplicates["ids"] as? [String] == ["dup-b", "dup-c"], "blank lines are no events: \(duplicates.text)")

            // Chunked bodies: whole (202), over the limit (413 before it ends), malformed (400), cut off.
            let ndjson = Data((["c-1", "c-2", "c-3"].map { Self.event($0) + "\n" }).joined().utf8)
            let headers = ["Authorization: Bearer \(token)", "Transfer-Encoding: chunked"]
            let chunked = await RawHTTP.exchange(
                port: server.port,
                parts: [RawHTTP.head("POST", "/v1/events", port: server.port, headers: headers + ["Content-Type: application/x-ndjson"])]
                    + stride(from: 0, to: ndjson.count, by: 50).map { RawHTTP.chunk(ndjson[$0..<min($0 + 50, ndjson.count)]) } + [RawHTTP.lastChunk],
                pause: 0.05)
            #expect(chunked.status == 202, "\(chunked.response)")
            #expect(chunked.body.contains(#""accepted":3"#), "\(chunked.response)")
            let endless = Data(repeating: UInt8(ascii: " "), count: 1 << 20)
            let tooLong = await RawHTTP.exchange(
                port: server.port,
                parts: [RawHTTP.head("POST", "/v1/events", port: server.port, headers: headers)] + Array(repeating: RawHTTP.chunk(endless), count: 40) + [RawHTTP.lastChunk])
            #expect(tooLong.status == 413, "\(tooLong.response.prefix(300))")
            let malformed = await RawHTTP.exchange(
                port: server.port, parts: [RawHTTP.head("POST", "/v1/events", port: server.port, headers: headers), Data("zz\r\n{}\r\n".utf8)])
            #expect(malformed.status == 400, "\(malformed.response)")
            #expect(malformed.body.contains("the request body cannot be read"), "\(malformed.response)")
            let cut = await RawHTTP.exchange(
                port: server.port, parts: [RawHTTP.head("POST", "/v1/events", port: server.port, headers: headers), RawHTTP.chunk(Data(#"{"id":"cut","a":"#.utf8))],
                abandon: true)
            #expect(cut.writeError == nil)

            // Still serving, and the valid events went where their filters say.
            #expect(try await server.get("/healthz").status == 200)
            try await Serve.waitFor(receiver, 5, timeout: 30)
            try await Serve.pause(0.5)
            #expect(Deliver.ids(receiver.requests).sorted() == ["c-1", "c-2", "c-3", "dup-c", "exact-25"])
            let exit = await server.stop()
            #expect(exit.status == 0)
            sampler.cancel()
            #expect(!server.allLogs.contains("request failed"), "\(server.allLogs.suffix(1000))")
            let integrity = try await SQLiteCheck.integrity(server.database)
            #expect(integrity == "ok")
            #expect(peak.value < Self.serveRSSLimit * 1024, "peak RSS \(Torture.megabytes(kilobytes: peak.value))")
            Torture.report(
                "hostile input, serve: nesting 10,000 and 1,000,000, invalid UTF-8, lone surrogate, BOM: 400; 25 MiB + 1: 413; 25 MiB: 202; "
                    + "chunked: 202, 413 over the limit, 400 malformed; \(tinyCount) records in one request: 202 in \(String(format: "%.2f", tinySeconds)) s, "
                    + "peak RSS \(Torture.megabytes(kilobytes: peakAfterTiny)) (limit \(Self.tinyRSSLimit) MB); after the 25 MiB event "
                    + "\(Torture.megabytes(kilobytes: peak.value)) (limit \(Self.serveRSSLimit) MB); integrity \(integrity)")
        }
    }
}
