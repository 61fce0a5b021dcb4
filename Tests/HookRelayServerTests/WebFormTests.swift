import Foundation
import HookRelayCore
import HookRelayAdmin
@testable import HookRelayServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The web page's form posts, read by Hummingbird's `URLEncodedFormDecoder` into
/// ``WebhookForm`` and its kin (issue 14): the fields and messages the hand-written reader had.
@Suite struct WebFormTests {
    /// A browser signed in to the web page: its session cookie and the CSRF token of its forms.
    struct Browser {
        let client: any TestClientProtocol
        let cookie: String

        /// Logs in with `token` (the configured one unless given).
        static func logIn(_ client: any TestClientProtocol, token: String = ServeHarness.token) async throws -> Browser {
            let login = try await client.execute(
                uri: "/ui/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=\(token)"))
            #expect(login.status == .seeOther)
            let setCookie = try #require(login.headers[.setCookie])
            return Browser(client: client, cookie: String(try #require(setCookie.split(separator: ";").first)))
        }

        func get(_ path: String) async throws -> TestResponse {
            try await client.execute(uri: path, method: .get, headers: [.cookie: cookie])
        }

        func post(_ path: String, _ body: String) async throws -> TestResponse {
            try await client.execute(
                uri: path, method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: body))
        }

        /// The CSRF token of the settings form.
        func csrf() async throws -> String {
            let page = String(buffer: try await get("/ui/webhooks/new").body)
            return String(try #require(page.firstMatch(of: #/name="csrf" value="([0-9a-f]+)"/#)).output.1)
        }
    }

    @Test func theSettingsFormIsDecodedIntoTheWebhooksFields() async throws {
        let serve = try ServeHarness()
        try await serve.run { client in
            let browser = try await Browser.logIn(client)
            let body = [
                "csrf=\(try await browser.csrf())", "url=+http%3A%2F%2Freceiver.test%2Fhook+", "event%5B%5D=finding", "event[]=scan_completed",
                "other_events=asset_changed%2C+x", "severity_mode=list", "severity%5B%5D=critical", "severity%5B%5D=high",
                "description=SOC+team+%3Cnight%3E", "headers=X-Team%3A+appsec%0D%0A%0D%0AX-Env%3A+prod", "template=raw",
                "template_vars=team%3Dred", "trace_context=on",
            ].joined(separator: "&")
            let added = try await browser.post("/ui/webhooks", body)
            #expect(added.status == .ok && String(buffer: added.body).contains("Webhook added"), "\(added.status)")
            let webhook = try #require(try await serve.admin.webhooks().first)
            #expect(webhook.url == "http://receiver.test/hook")
            #expect(webhook.events == ["finding", "scan_completed", "asset_changed", "x"])
            #expect(webhook.severities.map(\.description) == ["critical", "high"])
            #expect(webhook.description == "SOC team <night>")
            #expect(webhook.headers == ["X-Team": "appsec", "X-Env": "prod"])
            #expect(webhook.templateVariables == ["team": "red"])
            #expect(webhook.traceContext, "the ticked checkbox")
            let shown = String(buffer: try await browser.get("/ui/webhooks/\(webhook.id)").body)
            #expect(shown.contains(#"name="trace_context" value="on" checked"#), "the settings form shows it ticked")
        }
    }

    /// The digest fields (issue 19): set, shown, refused with the API's message, and "off".
    @Test func theDigestFieldsAreSetShownAndRefused() async throws {
        let serve = try ServeHarness()
        try await serve.run { client in
            let browser = try await Browser.logIn(client)
            let body = "csrf=\(try await browser.csrf())&url=http%3A%2F%2Fchat.test%2Fhook&template=slack&digest=5m&digest_bypass=critical&digest_top=7"
            let added = try await browser.post("/ui/webhooks", body)
            #expect(added.status == .ok && String(buffer: added.body).contains("Webhook added"), "\(added.status)")
            let webhook = try #require(try await serve.admin.webhooks().first)
            #expect(webhook.digest == DigestSettings(window: 300_000, bypass: .critical, top: 7))
            let shown = String(buffer: try await browser.get("/ui/webhooks/\(webhook.id)").body)
            #expect(shown.contains(#"name="digest" value="5m""#) && shown.contains(#"<option value="critical" selected>"#), "the form shows them")
            let refused = try await browser.post(
                "/ui/webhooks", "csrf=\(try await browser.csrf())&url=http%3A%2F%2Fchat.test%2Fhook&template=slack&digest=5x")
            #expect(String(buffer: refused.body).contains("must be a duration from 1s to 24h"), "the API's message")
            let off = try await browser.post(
                "/ui/webhooks/\(webhook.id)/update", "csrf=\(try await browser.csrf())&url=http%3A%2F%2Fchat.test%2Fhook&template=slack&digest=off&digest_bypass=critical")
            #expect(off.status == .seeOther, "saved: a bypass chosen with the digest off is left out")
            #expect(try await serve.admin.webhook(webhook.id).digest == nil)
        }
    }

    @Test func aRefusedFormHasTheMessagesItHadAndAnUnreadableOneIsA400() async throws {
        let serve = try ServeHarness()
        try await serve.run { client in
            let browser = try await Browser.logIn(client)
            let csrf = try await browser.csrf()
            // No checkbox of the list chosen: the list is empty, and the form comes back with the reason.
            let refused = try await browser.post("/ui/webhooks", "csrf=\(csrf)&url=http%3A%2F%2Freceiver.test%2Fhook&severity_mode=list&description=kept")
            #expect(refused.status == .unprocessableContent)
            let page = String(buffer: refused.body)
            #expect(page.contains("choose at least one severity, or any severity") && page.contains(#"value="kept""#), "\(page)")
            let header = try await browser.post("/ui/webhooks", "csrf=\(csrf)&url=http%3A%2F%2Freceiver.test%2Fhook&headers=no+colon")
            #expect(header.status == .unprocessableContent)
            #expect(String(buffer: header.body).contains("header line &#39;no colon&#39; needs the form &#39;Name: value&#39;"))
            #expect(try await serve.admin.webhooks().isEmpty)

            // Without the CSRF token: 403 as before; a body no browser sends (a name twice): 400.
            let forbidden = try await browser.post("/ui/webhooks", "url=http%3A%2F%2Freceiver.test%2Fhook")
            #expect(forbidden.status == .forbidden && String(buffer: forbidden.body).contains("CSRF token is missing or stale"))
            for body in ["csrf=\(csrf)&event=finding&event=asset_changed", "csrf=\(csrf)&url[]=x", "csrf=\(csrf)&description=%zz"] {
                let unreadable = try await browser.post("/ui/webhooks", body)
                #expect(unreadable.status == .badRequest, "\(body)")
                #expect(String(buffer: unreadable.body) == "The form cannot be read: reload the page and try again.\n")
                #expect(unreadable.headers[.contentType] == "text/plain; charset=utf-8")
            }

            // Over the 1 MiB a form may have: 413 saying so, not a 500.
            let huge = try await browser.post("/ui/webhooks", "csrf=\(csrf)&description=" + String(repeating: "x", count: 1 << 20))
            #expect(huge.status == .contentTooLarge)
            #expect(String(buffer: huge.body).contains("the request body is larger than this route accepts; send a smaller one"))

            let wrong = try await client.execute(
                uri: "/ui/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "token=nope"))
            #expect(wrong.status == .unauthorized && String(buffer: wrong.body).contains("That is not an API token of this server"))
        }
    }
}
