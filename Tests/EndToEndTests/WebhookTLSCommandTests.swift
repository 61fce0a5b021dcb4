import Foundation
import Testing

/// `hookrelay webhooks add|update|show` with `--client-cert`, `--client-key`, `--ca-file`,
/// `--no-client-cert` and `--no-ca` (issue 18): stored, shown as subject and expiry only,
/// refused with the reason and exit 65, removed.
@Suite(.serialized) struct WebhookTLSCommandTests {
    @Test func theCommandsStoreShowReplaceAndRemoveTheMaterial() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let db = pki.path("hooks.db")
        let url = ["--url", "https://127.0.0.1:9443/hook", "--allow-cidr", "127.0.0.1/32"]
        let key = try pki.text("client.key").split(separator: "\n")[1]

        let mismatched = try await AdminCommandTests.run(
            ["webhooks", "add", "--create", "--client-cert", pki.path("client.pem"), "--client-key", pki.path("other-client.key")] + url, db: db)
        #expect(mismatched.status == 65, "\(mismatched.stderr)")
        #expect(mismatched.stderr.contains("\"client_key\": the client key does not belong to the client certificate"), "\(mismatched.stderr)")

        let added = try await AdminCommandTests.run(
            ["webhooks", "add", "--create", "--client-cert", pki.path("client.pem"), "--client-key", pki.path("client.key"),
             "--ca-file", pki.path("ca.pem")] + url, db: db)
        #expect(added.status == 0, "\(added.stderr)")
        let id = try #require(AdminCommandTests.field("id", in: added.output))
        #expect(AdminCommandTests.field("client certificate", in: added.output)?.hasPrefix("CN=hookrelay-test-client, expires ") == true, "\(added.output)")
        #expect(AdminCommandTests.field("ca", in: added.output)?.hasPrefix("CN=hookrelay-test-ca, expires ") == true, "\(added.output)")

        let json = try await AdminCommandTests.run(["webhooks", "show", id, "--json"], db: db)
        #expect(!json.output.contains(key) && !json.output.contains("BEGIN"), "\(json.output)")
        let shown = try AdminCommandTests.object(json)
        #expect((shown["client_cert"] as? [String: Any])?["subject"] as? String == "CN=hookrelay-test-client")

        let removed = try await AdminCommandTests.run(["webhooks", "update", id, "--no-client-cert", "--no-ca"], db: db)
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(AdminCommandTests.field("client certificate", in: removed.output) == "none", "\(removed.output)")
        #expect(AdminCommandTests.field("ca", in: removed.output) == "the system's", "\(removed.output)")

        let both = try await AdminCommandTests.run(["webhooks", "update", id, "--no-ca", "--ca-file", pki.path("ca.pem")], db: db)
        #expect(both.status == 64 && both.stderr.contains("--no-ca removes the CA bundle; leave out --ca-file"), "\(both.stderr)")
        let missing = try await AdminCommandTests.run(["webhooks", "update", id, "--client-cert", pki.path("nothing.pem")], db: db)
        #expect(missing.status == 66 && missing.stderr.contains("the --client-cert file cannot be read"), "\(missing.stderr)")
    }
}
