import Foundation
import HookRelayAdmin
@testable import HookRelayServer
import Testing

/// The webhook's digest fields through the API (issue 19): shown with their defaults, changed,
/// and every bad value answered 422 with a message that names the field.
@Suite struct DigestFieldsTests {
    static func message(_ answer: APIAnswer) -> String? {
        (answer["error"] as? [String: Any])?["message"] as? String
    }

    @Test func digestFieldsAreShownWithTheirDefaultsAndChanged() async throws {
        let serve = try ServeHarness()
        try await serve.run { client in
            let plain = try await client.call(.post, "webhooks", #"{"url":"http://receiver.test/hook"}"#)
            #expect(plain["digest"] as? String == "off" && plain["digest_bypass"] as? String == "none" && plain["digest_top"] as? Int == 5)
            let created = try await client.call(.post, "webhooks", #"{"url":"http://chat.test/hook","template":"slack","digest":"300s"}"#)
            #expect(created.status == .created)
            #expect(created["digest"] as? String == "5m", "written back as the window")
            let id = try #require(created["id"] as? String)
            let changed = try await client.call(.patch, "webhooks/\(id)", #"{"digest_bypass":"critical","digest_top":3}"#)
            #expect(changed["digest"] as? String == "5m" && changed["digest_bypass"] as? String == "critical" && changed["digest_top"] as? Int == 3)
            let longer = try await client.call(.patch, "webhooks/\(id)", #"{"digest":"1h"}"#)
            #expect(longer["digest_bypass"] as? String == "critical", "a new window keeps the bypass")
            let off = try await client.call(.patch, "webhooks/\(id)", #"{"digest":"off"}"#)
            #expect(off["digest"] as? String == "off" && off["digest_bypass"] as? String == "none")
            #expect(try await client.call(.patch, "webhooks/\(id)", #"{"digest":null}"#)["digest"] as? String == "off")
        }
    }

    static let refusals: [(String, String)] = [
        (#""digest":"5x""#, #""digest" must be a duration from 1s to 24h such as "5m" or "1h", or "off"; got "5x""#),
        (#""digest":"0s""#, #""digest" must be a duration from 1s to 24h such as "5m" or "1h", or "off"; got "0s""#),
        (#""digest":"25h""#, #""digest" must be a duration from 1s to 24h such as "5m" or "1h", or "off"; got "25h""#),
        (#""digest":300"#, #""digest" must be a duration such as "5m" or "1h", or "off""#),
        (#""digest":"5m","digest_bypass":"urgent""#, #""digest_bypass" must be one of critical, high, medium, low, info, or "none""#),
        (#""digest_bypass":"critical""#, #""digest_bypass" applies to a digest: give "digest" too, e.g. "5m""#),
        (#""digest_top":3"#, #""digest_top" applies to a digest: give "digest" too, e.g. "5m""#),
        (#""digest":"5m","digest_top":0"#, #""digest_top" must be a whole number from 1 to 20; got 0"#),
        (#""digest":"5m","digest_top":21"#, #""digest_top" must be a whole number from 1 to 20; got 21"#),
        (#""digest":"5m","digest_top":"5""#, #""digest_top" must be a whole number from 1 to 20"#),
        (#""digest":"5m","digest_top":true"#, #""digest_top" must be a whole number from 1 to 20"#),
        (#""digest":"5m","digest_top":2.5"#, #""digest_top" must be a whole number from 1 to 20"#),
        (#""digest":"5m","template":"github-issue""#,
         #""digest" is for the slack, teams and discord templates, raw and template files; the github-issue template makes a ticket per finding: set "digest" to "off" or choose another template"#),
    ]

    @Test func badDigestFieldsAreAnswered422() async throws {
        let serve = try ServeHarness()
        try await serve.run { client in
            for (fields, expected) in Self.refusals {
                let answer = try await client.call(.post, "webhooks", #"{"url":"http://receiver.test/hook",\#(fields)}"#)
                #expect(answer.status == .unprocessableContent, "\(fields)")
                #expect(Self.message(answer) == expected, "\(fields)")
            }
            // A change of template on a webhook with a digest, too.
            let id = try #require(try await client.call(.post, "webhooks", #"{"url":"http://receiver.test/hook","digest":"5m"}"#)["id"] as? String)
            let jira = try await client.call(.patch, "webhooks/\(id)", #"{"template":"jira","template_vars":{"project":"SEC","issue_type":"Bug"}}"#)
            #expect(jira.status == .unprocessableContent)
            #expect(Self.message(jira)?.hasPrefix(#""digest" is for the slack, teams and discord templates"#) == true)
        }
    }
}
