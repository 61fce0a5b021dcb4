import Foundation
import Testing

/// Client certificates and private CAs (issue 18) against Debian's nginx on 127.0.0.1 with
/// `ssl_verify_client on` and certificates made by openssl in the test: `deliver`'s
/// `--client-cert`, `--client-key` and `--ca-file`, and a webhook's `client_cert`, `client_key`
/// and `ca` through `serve`, whose API and log never show the key.
@Suite(.serialized) struct MutualTLSEndToEndTests {
    static let event = Deliver.ndjson(Deliver.events(1))

    func deliver(_ nginx: Nginx, _ flags: [String], allow: Bool = true) throws -> (HookRelayProcess.Result, [DeliveryResult]) {
        let result = try Deliver.run(
            ["deliver", "--url", "https://localhost:\(nginx.port)/hook", "--max-attempts", "1"]
                + (allow ? ["--allow-cidr", "127.0.0.1/32"] : []) + flags + Deliver.fast,
            input: Self.event)
        return (result, try Deliver.results(result))
    }

    @Test func withTheClientCertificateTheReceiverAnswers2xxAndWithoutItRefuses() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let nginx = try Nginx(pki: pki)
        defer { nginx.stop() }
        let ca = ["--ca-file", pki.path("ca.pem")]
        let (result, accepted) = try deliver(nginx, ca + ["--client-cert", pki.path("client.pem"), "--client-key", pki.path("client.key")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(accepted.map(\.status) == ["delivered"], "\(accepted)")
        #expect(accepted.first?.httpStatus == 200)
        // nginx finishes the handshake and answers 400 "No required SSL certificate was sent".
        let (_, without) = try deliver(nginx, ca)
        #expect(without.map(\.status) == ["failed"], "\(without)")
        #expect(without.first?.httpStatus == 400, "\(without)")
        // A certificate of another CA: nginx answers 400 "The SSL certificate error".
        let (_, other) = try deliver(nginx, ca + ["--client-cert", pki.path("other-client.pem"), "--client-key", pki.path("other-client.key")])
        #expect(other.first?.httpStatus == 400, "\(other)")
        #expect(nginx.file("error.log").contains("client sent no required SSL certificate"), "nginx's reason, in its log")
    }

    @Test func aReceiverCertificateOfAnotherCAIsAVerificationError() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let nginx = try Nginx(pki: pki)
        defer { nginx.stop() }
        let client = ["--client-cert", pki.path("client.pem"), "--client-key", pki.path("client.key")]
        for flags in [client + ["--ca-file", pki.path("other-ca.pem")], client] {
            let (_, results) = try deliver(nginx, flags)
            #expect(results.map(\.status) == ["failed"], "\(results)")
            #expect(
                results.first?.error?.hasPrefix("TLS: the certificate of localhost is not trusted (certificate verify failed)") == true,
                "\(results)")
        }
        #expect(nginx.accessLog.isEmpty, "no request was sent: \(nginx.accessLog)")
    }

    @Test func theAddressGuardStillRefusesLoopbackWithACertificate() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let nginx = try Nginx(pki: pki)
        defer { nginx.stop() }
        let (_, results) = try deliver(
            nginx, ["--client-cert", pki.path("client.pem"), "--client-key", pki.path("client.key"), "--ca-file", pki.path("ca.pem")],
            allow: false)
        #expect(results.first?.error?.contains("is in the blocked range 127.0.0.0/8") == true, "\(results)")
        #expect(nginx.accessLog.isEmpty)
    }

    @Test func badCertificateFlagsAreRefusedWithWhatToDo() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let url = ["deliver", "--url", "https://hooks.example.com/x"]
        let cases: [([String], Int32, String)] = [
            (["--client-cert", pki.path("client.pem")], 64, "a client certificate needs its private key"),
            (["--client-cert", pki.path("client.pem"), "--client-key", pki.path("other-client.key")], 64,
             "the client key does not belong to the client certificate"),
            (["--client-cert", pki.path("client.key"), "--client-key", pki.path("client.key")], 64,
             "the client certificate is not PEM text"),
            (["--ca-file", pki.path("missing.pem")], 66, "missing.pem: the --ca-file file cannot be read"),
        ]
        let key = try pki.text("client.key")
        for (flags, status, message) in cases {
            let result = try Deliver.run(url + flags, input: "")
            #expect(result.status == status, "\(flags): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(flags): \(result.stderr)")
            #expect(!result.stderr.contains(key.split(separator: "\n")[1]), "no key material in messages")
        }
    }

    @Test func aWebhooksCertificateIsUsedThroughServeAndNeverShown() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let nginx = try Nginx(pki: pki)
        defer { nginx.stop() }
        let proxy = try Tinyproxy(connectPorts: [nginx.port])
        defer { proxy.stop() }
        let password = "pw-\(UUID().uuidString.prefix(8))"
        let serve = try await ServeProcess.started(
            config: ["proxy": "http://relay:\(password)@127.0.0.1:\(proxy.port)", "ca_file": pki.path("ca.pem")])
        defer { serve.abandon() }
        let key = try pki.text("client.key")
        let withCertificate = try await serve.createWebhook(nil, [
            "url": "https://localhost:\(nginx.port)/hook", "client_cert": try pki.text("client.pem"), "client_key": key,
        ])
        let shown = try await serve.webhook(withCertificate.id)
        #expect(!shown.text.contains("PRIVATE KEY") && !shown.text.contains("BEGIN CERTIFICATE"), "\(shown.text)")
        #expect((shown["client_cert"] as? [String: Any])?["subject"] as? String == "CN=hookrelay-test-client", "\(shown.text)")
        let without = try await serve.createWebhook(nil, ["url": "https://localhost:\(nginx.port)/other"])
        #expect(try await serve.postEvent(Deliver.events(1, prefix: "mtls")[0]).status == 202)
        var states: [String: String] = [:]
        var deliveryIDs: [String: Int] = [:]
        let end = Date().addingTimeInterval(20)
        while states.count < 2, Date() < end {
            for id in [withCertificate.id, without.id] where states[id] == nil {
                let page = try await serve.get("/v1/webhooks/\(id)/deliveries")
                let deliveries = page["deliveries"] as? [[String: Any]] ?? []
                if let status = deliveries.first?["status"] as? String, status != "pending" || deliveries.first?["attempts"] as? Int ?? 0 > 0 {
                    states[id] = "\(status) \(deliveries.first?["last_http_status"] ?? "")"
                    deliveryIDs[id] = (deliveries.first?["id"] as? NSNumber)?.intValue
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(states[withCertificate.id] == "delivered 200", "\(states)")
        #expect(states[without.id]?.hasSuffix(" 400") == true, "nginx refused the request without a certificate: \(states)")
        // The delivery log keeps the receiver's reason: nginx's body names the missing certificate.
        let refusedID = try #require(deliveryIDs[without.id])
        let detail = try await serve.get("/v1/deliveries/\(refusedID)")
        let attempts = detail["attempts"] as? [[String: Any]] ?? []
        #expect(attempts.first?["http_status"] as? Int == 400, "\(detail.text)")
        #expect((attempts.first?["response_body"] as? String)?.contains("No required SSL certificate was sent") == true, "\(detail.text)")
        #expect(proxy.traffic.filter { $0.contains("CONNECT 127.0.0.1:\(nginx.port)") }.count >= 2, "\(proxy.traffic)")
        let log = serve.log
        #expect(log.contains("proxy=http://relay@127.0.0.1:\(proxy.port)"), "\(log)")
        #expect(!log.contains(password) && !log.contains(key.split(separator: "\n")[1]), "\(log)")
    }
}
