import Foundation
import HookRelayAdmin
@testable import HookRelayServer
import HummingbirdTesting
import NIOCore
import Testing

/// The settings form's mutual-TLS fields (issue 18): it shows what is stored as subject and
/// expiry only, pasted PEM replaces it, an empty box keeps it, the checkbox removes it, and bad
/// PEM comes back with the API's message and without the pasted key.
@Suite struct WebFormTLSTests {
    static func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    @Test func theFormShowsReplacesAndRemovesTheClientCertificate() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let (certificate, key) = (try pki.text("client.pem"), try pki.text("client.key"))
        let serve = try ServeHarness()
        try await serve.run { client in
            let browser = try await WebFormTests.Browser.logIn(client)
            let csrf = try await browser.csrf()
            let base = "csrf=\(csrf)&url=https%3A%2F%2Freceiver.test%2Fhook"
            let added = try await browser.post(
                "/ui/webhooks", base + "&client_cert=\(Self.encoded(certificate))&client_key=\(Self.encoded(key))")
            #expect(added.status == .ok, "\(String(buffer: added.body))")
            let webhook = try #require(try await serve.admin.webhooks().first)
            #expect(webhook.clientCertificate == certificate && webhook.clientKey == key)
            let page = String(buffer: try await browser.get("/ui/webhooks/\(webhook.id)").body)
            #expect(page.contains("Client certificate: CN=hookrelay-test-client, expires "), "the state is shown")
            #expect(!page.contains(certificate.split(separator: "\n")[1]) && !page.contains(key.split(separator: "\n")[1]), "no PEM in the page")

            // Saved again with the boxes empty: kept.
            let kept = try await browser.post("/ui/webhooks/\(webhook.id)/update", base + "&description=again")
            #expect(kept.status == .ok || kept.status == .seeOther, "\(kept.status)")
            #expect(try await serve.admin.webhook(webhook.id).clientKey == key)

            // A key of another certificate: refused with the API's message, the key not echoed.
            let otherKey = try pki.text("other-client.key")
            let wrong = try await browser.post(
                "/ui/webhooks/\(webhook.id)/update", base + "&client_cert=\(Self.encoded(certificate))&client_key=\(Self.encoded(otherKey))")
            // The settings page's refusals come back as a notice on the page it redirects to.
            #expect(wrong.status == .seeOther)
            let refused = String(buffer: try await browser.get("/ui/webhooks/\(webhook.id)").body)
            #expect(refused.contains("the client key does not belong to the client certificate"), "\(refused)")
            #expect(!refused.contains(otherKey.split(separator: "\n")[1]), "the pasted key is not put back in the page")
            #expect(try await serve.admin.webhook(webhook.id).clientKey == key, "the stored key is kept")

            let removed = try await browser.post("/ui/webhooks/\(webhook.id)/update", base + "&remove_client_cert=on")
            #expect(removed.status == .ok || removed.status == .seeOther, "\(removed.status)")
            let bare = try await serve.admin.webhook(webhook.id)
            #expect(bare.clientCertificate == nil && bare.clientKey == nil)
            #expect(String(buffer: try await browser.get("/ui/webhooks/\(webhook.id)").body).contains("Client certificate: none."))
        }
    }
}
