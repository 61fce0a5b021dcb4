import Foundation
import Testing

/// `hookrelay webhooks add|update --digest, --digest-bypass, --digest-top` (issue 19): the
/// API's fields and messages, exit status 65 for a value the library refuses, 64 for a count
/// that is no number.
@Suite(.serialized) struct DigestCommandTests {
    @Test func digestFlagsSetShowAndRefuse() async throws {
        let scratch = try ScratchDirectory()
        let db = scratch.path("h.db")
        let added = try await AdminCommandTests.run(
            ["webhooks", "add", "--create", "--url", "http://127.0.0.1:9/hook", "--template", "slack", "--digest", "5m",
             "--digest-bypass", "critical", "--digest-top", "8", "--json"] + AdminCommandTests.loopback, db: db)
        #expect(added.status == 0, "\(added.stderr)")
        let object = try AdminCommandTests.object(added)
        #expect(object["digest"] as? String == "5m" && object["digest_bypass"] as? String == "critical" && object["digest_top"] as? Int == 8)
        let id = try #require(object["id"] as? String)

        let shown = try await AdminCommandTests.run(["webhooks", "show", id], db: db)
        #expect(AdminCommandTests.field("digest", in: shown.output) == "5m, bypass critical, top 8", "\(shown.output)")

        let off = try await AdminCommandTests.run(["webhooks", "update", id, "--digest", "off", "--json"], db: db)
        #expect(off.status == 0, "\(off.stderr)")
        #expect(try AdminCommandTests.object(off)["digest"] as? String == "off")

        let refusals: [([String], String)] = [
            (["--digest", "5x"], #"hookrelay: "digest" must be a duration from 1s to 24h such as "5m" or "1h", or "off"; got "5x""#),
            (["--digest", "5m", "--digest-top", "30"], #"hookrelay: "digest_top" must be a whole number from 1 to 20; got 30"#),
            (["--digest-bypass", "high"], #"hookrelay: "digest_bypass" applies to a digest: give "digest" too, e.g. "5m""#),
            (["--digest", "1h", "--template", "github-issue"], #"hookrelay: "digest" is for the slack, teams and discord templates"#),
        ]
        for (flags, message) in refusals {
            let refused = try await AdminCommandTests.run(["webhooks", "update", id] + flags, db: db)
            #expect(refused.status == 65, "\(flags): \(refused.stderr)")
            #expect(refused.stderr.hasPrefix(message), "\(flags): \(refused.stderr)")
        }
        let notANumber = try await AdminCommandTests.run(["webhooks", "update", id, "--digest-top", "five"], db: db)
        #expect(notANumber.status == 64, "\(notANumber.stderr)")
    }
}
