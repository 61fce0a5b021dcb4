import Testing

/// The API checks a webhook's fields as the command line does (issue 14).
@Suite struct WebhookFieldsTests {
    @Test func aTemplateValueNeedsANameWithoutSpacesAroundIt() async throws {
        let serve = try ServeHarness()
        try await serve.run { client in
            for name in ["", " team"] {
                let status = try await client.api(.post, "webhooks", #"{"url":"http://receiver.test/hook","template_vars":{"\#(name)":"x"}}"#)
                #expect(status == .unprocessableContent, "name \"\(name)\"")
            }
            #expect(try await client.api(.post, "webhooks", #"{"url":"http://receiver.test/hook","template_vars":{"team":"red"}}"#) == .created)
        }
    }
}
