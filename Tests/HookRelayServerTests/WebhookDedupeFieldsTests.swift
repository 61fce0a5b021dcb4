import Testing

/// A webhook's de-duplication fields through the API (issue 19): defaults by template, what is
/// stored as set, and a clear 422 for each bad value.
@Suite struct WebhookDedupeFieldsTests {
    @Test func theWindowDefaultsByTemplateAndAnExplicitValueWins() async throws {
        let serve = try ServeHarness()
        try await serve.run { client in
            let raw = try await client.call(.post, "webhooks", #"{"url":"http://receiver.test/hook"}"#)
            #expect(raw["dedupe_window"] == nil)
            #expect(raw["dedupe_window_effective"] as? String == "off")
            #expect(raw["dedupe_ignores_severity"] as? Bool == false)
            let jira = try await client.call(.post, "webhooks", #"{"url":"http://receiver.test/hook","template":"github-issue"}"#)
            #expect(jira.status == .created, "\(jira.text)")
            #expect(jira["dedupe_window_effective"] as? String == "30d", "a ticket template de-duplicates by default")
            let id = try #require(jira["id"] as? String)
            let off = try await client.call(.patch, "webhooks/\(id)", #"{"dedupe_window":"off"}"#)
            #expect(off["dedupe_window"] as? String == "off")
            #expect(off["dedupe_window_effective"] as? String == "off")
            let set = try await client.call(
                .patch, "webhooks/\(id)",
                #"{"dedupe_window":"90m","dedupe_ignores_severity":true,"fingerprint_fields":["finding.asset","finding.cwe"],"fingerprint_id_field":"none"}"#)
            #expect(set.status == .ok, "\(set.text)")
            #expect(set["dedupe_window"] as? String == "1h30m")
            #expect(set["dedupe_ignores_severity"] as? Bool == true)
            #expect(set["fingerprint_fields"] as? [String] == ["finding.asset", "finding.cwe"])
            #expect(set["fingerprint_id_field"] as? String == "none")
            let webhook = try await serve.admin.webhook(id)
            #expect(webhook.fingerprinter.rule.idPath == nil)
            #expect(webhook.fingerprinter.rule.fields == ["finding.asset", "finding.cwe"])
            let reset = try await client.call(.patch, "webhooks/\(id)", #"{"dedupe_window":null,"fingerprint_fields":null,"fingerprint_id_field":null}"#)
            #expect(reset["dedupe_window_effective"] as? String == "30d")
            #expect(reset["fingerprint_fields"] == nil)
        }
    }

    @Test(arguments: [
        (#"{"dedupe_window":"30"}"#, #""dedupe_window" must be a duration from 1m to 366d"#),
        (#"{"dedupe_window":"10s"}"#, #""dedupe_window" must be a duration from 1m to 366d"#),
        (#"{"dedupe_window":"400d"}"#, #""dedupe_window" must be a duration from 1m to 366d"#),
        (#"{"dedupe_window":30}"#, #""dedupe_window" must be a duration"#),
        (#"{"dedupe_ignores_severity":1}"#, #""dedupe_ignores_severity" must be true or false"#),
        (#"{"fingerprint_fields":"finding.title"}"#, #""fingerprint_fields" must be an array of dotted paths"#),
        (#"{"fingerprint_fields":[]}"#, #""fingerprint_fields" needs at least one dotted path"#),
        (#"{"fingerprint_fields":["finding..title"]}"#, #""fingerprint_fields": 'finding..title' is not a field path"#),
        (#"{"fingerprint_id_field":"finding."}"#, #""fingerprint_id_field": 'finding.' is not a field path"#),
        (#"{"fingerprint_id_field":7}"#, #""fingerprint_id_field" must be a dotted path"#),
    ])
    func aBadValueIsRefusedWithItsReason(_ body: String, _ message: String) async throws {
        let serve = try ServeHarness()
        let id = try await serve.webhook()
        try await serve.run { client in
            let answer = try await client.call(.patch, "webhooks/\(id)", body)
            #expect(answer.status == .unprocessableContent)
            let error = try #require(answer["error"] as? [String: Any])
            #expect((error["message"] as? String)?.hasPrefix(message) == true, "\(answer.text)")
        }
    }
}
