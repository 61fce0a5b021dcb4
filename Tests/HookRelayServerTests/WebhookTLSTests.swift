import Foundation
import HookRelayAdmin
import HookRelayDelivery
import HookRelayStore
import Testing

/// A webhook's `client_cert`, `client_key` and `ca` through the API (issue 18), on every
/// backend: checked on input (422 with what is wrong), stored, handed to the sender with each
/// attempt, replaced and removed, and never shown again: the API shows subject and expiry only.
@Suite struct WebhookTLSTests {
    static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test(arguments: StoreBackend.allCases)
    func theKeyIsStoredUsedAndNeverShownAgain(_ backend: StoreBackend) async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let (certificate, key, ca) = (try pki.text("client.pem"), try pki.text("client.key"), try pki.text("ca.pem"))
        let serve = try ServeHarness(on: backend)
        try await serve.run { client in
            let created = try await client.call(.post, "webhooks", try Self.json([
                "url": "https://receiver.test/hook", "client_cert": certificate, "client_key": key, "ca": ca,
            ]))
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created["id"] as? String)
            for answer in [created, try await client.call(.get, "webhooks/\(id)"), try await client.call(.get, "webhooks")] {
                #expect(!answer.text.contains("BEGIN"), "no PEM in \(answer.text)")
            }
            let shown = try await client.call(.get, "webhooks/\(id)")
            let shownCertificate = try #require(shown["client_cert"] as? [String: Any], "\(shown.text)")
            #expect(shownCertificate["subject"] as? String == "CN=hookrelay-test-client")
            let expires = (shownCertificate["expires_at"] as? NSNumber)?.int64Value ?? 0
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            #expect(expires > now && expires <= now + 31 * 86_400_000, "expires in 30 days: \(expires)")
            #expect((shown["ca"] as? [String: Any])?["subject"] as? String == "CN=hookrelay-test-ca")
            #expect(shown["client_key"] == nil, "the key is never shown, not even as a summary")

            #expect(try await client.postEvent(#"{"event_type":"finding","id":"e1"}"#) == .accepted)
            let request = try await next(serve.sender.requests)
            #expect(request.tls == TLSOptions(certificate: certificate, key: key, ca: ca), "the attempt carries the webhook's material")

            // The summary given back (a client echoing what it read) keeps what is stored.
            let echoed = try await client.call(.patch, "webhooks/\(id)", try Self.json([
                "client_cert": shownCertificate, "description": "echoed",
            ]))
            #expect(echoed.status == .ok, "\(echoed.text)")
            let stored = try #require(try await serve.admin.store.withStore { try $0.webhook(id: id) })
            #expect(stored.clientCertificate == certificate && stored.clientKey == key && stored.ca == ca)

            // Replaced with another certificate and key, then removed.
            let replaced = try await client.call(.patch, "webhooks/\(id)", try Self.json([
                "client_cert": try pki.text("other-client.pem"), "client_key": try pki.text("other-client.key"),
            ]))
            #expect((replaced["client_cert"] as? [String: Any])?["subject"] as? String == "CN=hookrelay-other-client", "\(replaced.text)")
            let removed = try await client.call(.patch, "webhooks/\(id)", #"{"client_cert":null,"ca":null}"#)
            #expect(removed.status == .ok)
            #expect(removed["client_cert"] == nil && removed["ca"] == nil, "left out when none: \(removed.text)")
            let bare = try #require(try await serve.admin.store.withStore { try $0.webhook(id: id) })
            #expect(bare.clientCertificate == nil && bare.clientKey == nil && bare.ca == nil, "the key went with its certificate")
        }
        let logged = serve.log.all.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
        #expect(!logged.contains("PRIVATE KEY") && !logged.contains("BEGIN CERTIFICATE"), "\(logged)")
    }

    @Test(arguments: StoreBackend.allCases)
    func badMaterialIsRefusedWithWhatIsWrong(_ backend: StoreBackend) async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let (certificate, key) = (try pki.text("client.pem"), try pki.text("client.key"))
        let serve = try ServeHarness(on: backend)
        try await serve.run { client in
            let cases: [([String: Any], String)] = [
                (["client_cert": certificate], "\"client_key\": a client certificate needs its private key; give the key too"),
                (["client_key": key], "\"client_cert\": a client key needs its certificate; give the certificate too"),
                (["client_cert": certificate, "client_key": try pki.text("other-client.key")],
                 "\"client_key\": the client key does not belong to the client certificate; give the key the certificate was issued for"),
                (["client_cert": "hello", "client_key": key], "\"client_cert\": the client certificate is not PEM text: expected -----BEGIN CERTIFICATE-----"),
                (["client_cert": certificate, "client_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"],
                 "\"client_key\": the client key does not parse as a PEM private key"),
                (["ca": "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"], "\"ca\": the CA bundle does not parse as PEM certificates"),
                (["client_cert": certificate, "client_key": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"],
                 "\"client_key\": the client key is encrypted; give it unencrypted (openssl pkey -in KEY -out PLAIN)"),
                (["ca": 5], "\"ca\" must be PEM text (-----BEGIN CERTIFICATE-----...), or null to remove it"),
                (["client_cert": ["subject": "CN=x"], "client_key": key], "\"client_cert\": give PEM text"),
            ]
            for (fields, message) in cases {
                var body = fields
                body["url"] = "https://receiver.test/hook"
                let answer = try await client.call(.post, "webhooks", try Self.json(body))
                #expect(answer.status == .unprocessableContent, "\(fields.keys.sorted())")
                let text = (answer["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(text.hasPrefix(message), "\(text)")
                #expect(!text.contains(key.split(separator: "\n")[1]), "no key material in \(text)")
            }
            #expect(try await serve.admin.webhooks().isEmpty, "nothing was stored")
        }
    }
}
