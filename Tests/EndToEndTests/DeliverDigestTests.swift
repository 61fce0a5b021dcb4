import Foundation
import Testing

/// `hookrelay deliver --digest` in a pipeline (issue 19): the events below the bypass become
/// one message per window, sent at the latest at the end of the input; each folded event's
/// result line says `digested` with the digest's number as `ref`; bad values are usage errors.
@Suite struct DeliverDigestTests {
    static func finding(_ n: Int, _ severity: String) -> String {
        #"{"event_type":"finding","id":"dd-\#(n)","finding":{"title":"Finding \#(n)","severity":"\#(severity)"}}"#
    }

    @Test func thePipelinesEventsBecomeOneDigestAndTheBypassingOnesGoAlone() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let events = (0..<12).map { Self.finding($0, $0 % 6 == 0 ? "critical" : "low") }
        let result = try Deliver.run(
            Deliver.arguments(receiver, extra: ["--template", "slack", "--digest", "5m", "--digest-bypass", "critical", "--digest-top", "3"]),
            input: Deliver.ndjson(events))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(receiver.requests.count == 3, "two critical findings and one digest")
        let digests = receiver.requests.filter { $0.headers["webhook-id"]?.hasPrefix("dg_") == true }
        #expect(digests.count == 1)
        #expect(digests.first?.text.contains(#""text":"🔵 Digest: 10 events""#) == true, "\(digests.first?.text ?? "")")
        let lines = result.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let digested = lines.filter { $0["status"] as? String == "digested" }
        #expect(digested.count == 10)
        #expect(Set(digested.compactMap { $0["ref"] as? Int }) == [1])
        let digestID = try #require(digests.first?.headers["webhook-id"])
        #expect(digested.allSatisfy { ($0["error"] as? String)?.hasPrefix("in digest \(digestID)") == true })
        #expect(result.stderr.contains("digested 10"), "\(result.stderr)")
    }

    @Test func aPauseLongerThanTheWindowMakesASecondDigest() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let first = Deliver.ndjson((0..<3).map { Self.finding($0, "high") })
        let second = Deliver.ndjson((3..<5).map { Self.finding($0, "medium") })
        let script = """
            { printf '%s' '\(first)'; sleep 2; printf '%s' '\(second)'; } |
              hookrelay deliver --url \(receiver.url) --allow-http --allow-cidr 127.0.0.1/32 --unsigned --digest 1s > lines.ndjson
            grep -c '"status":"digested"' lines.ndjson
            """
        let run = try ShellRun.run(script, timeout: 60)
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output == "5\n")
        let totals = receiver.requests.compactMap { request in
            (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])?["total"] as? Int
        }
        // Sent side by side: the first when an event came after its window, the second at the end.
        #expect(totals.sorted() == [2, 3], "one digest per window")
    }

    @Test func aSpoolSendsTheDigestAsAnyDelivery() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let scratch = try ScratchDirectory()
        let result = try Deliver.run(
            Deliver.arguments(receiver, extra: ["--spool", scratch.path("s.db"), "--digest", "1h"]),
            input: Deliver.ndjson((0..<4).map { Self.finding($0, "high") }))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(receiver.requests.count == 1)
        let digest = try #require(try JSONSerialization.jsonObject(with: Data(receiver.requests[0].body)) as? [String: Any])
        #expect(digest["type"] as? String == "digest" && digest["total"] as? Int == 4)
    }

    /// The open digest is kept in the spool as it grows: a run killed inside the window, once
    /// the spool holds the digest of all five events, leaves it to `--drain`, which sends it
    /// once, after the window.
    @Test func aRunKilledInsideTheWindowLeavesItsDigestToDrain() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let events = Deliver.ndjson((0..<5).map { Self.finding($0, "medium") })
        let flags = "--allow-http --allow-cidr 127.0.0.1/32 --unsigned"
        let script = """
            mkfifo input
            hookrelay deliver --url \(receiver.url) \(flags) --spool s.db --digest 3s < input > first.ndjson &
            exec 3> input   # held open: the input does not end
            printf '%s' '\(events)' >&3
            cat > kept.py <<'PY'
            import json, sqlite3, sys
            spool = sqlite3.connect("file:s.db?mode=ro", uri=True)
            bodies = spool.execute("SELECT body FROM messages WHERE webhook_id LIKE 'dg_%'").fetchall()
            sys.exit(0 if [json.loads(body)["total"] for (body,) in bodies] == [5] else 1)
            PY
            until python3 kept.py 2>/dev/null; do sleep 0.05; done
            kill -9 $!
            wait $! || true
            wc -l < first.ndjson
            hookrelay deliver \(flags) --spool s.db --drain --wait 30s   # stays until the digest is due
            """
        let run = try ShellRun.run(script, timeout: 60)
        #expect(run.status == 0, "\(run.errors)")
        let lines = run.output.split(separator: "\n")
        #expect(lines.first == "0", "the killed run sent and reported nothing: \(run.output)")
        #expect(lines.dropFirst().count == 1 && lines.last?.contains(#""status":"delivered""#) == true, "\(run.output)")
        #expect(receiver.requests.count == 1, "one digest, once")
        let request = try #require(receiver.requests.first)
        let digest = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(digest["type"] as? String == "digest" && digest["total"] as? Int == 5, "\(digest)")
        #expect(request.headers["webhook-id"]?.hasPrefix("dg_") == true)
    }

    @Test func badDigestOptionsAreUsageErrors() throws {
        let cases: [([String], String)] = [
            (["--digest", "5x"], #"--digest must be a duration from 1s to 24h such as "5m" or "1h", or "off"; got "5x""#),
            (["--digest-top", "3"], "--digest-bypass and --digest-top go with --digest DURATION"),
            (["--digest", "5m", "--digest-top", "0"], "--digest-top must be a whole number from 1 to 20; got 0"),
            (["--digest", "5m", "--digest-bypass", "urgent"], "--digest-bypass must be one of critical, high, medium, low, info, or none; got urgent"),
            (["--digest", "5m", "--template", "github-issue"], "--digest is for the slack, teams and discord templates, raw and template files"),
        ]
        for (flags, message) in cases {
            let result = try Deliver.run(["deliver", "--url", "https://hooks.example/x"] + flags, input: "")
            #expect(result.status == 64, "\(flags): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(flags): \(result.stderr)")
        }
    }
}
