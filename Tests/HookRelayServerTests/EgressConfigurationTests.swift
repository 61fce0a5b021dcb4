import Foundation
import HookRelayAdmin
import HookRelayDelivery
import Testing

/// `serve`'s config keys `proxy` and `ca_file` (issue 18): taken, or refused with the key,
/// what is wrong and never the proxy's password.
@Suite struct EgressConfigurationTests {
    @Test func aProxyAndACAFileAreTaken() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let ca = pki.directory.appendingPathComponent("ca.pem").path
        let configuration = try ServeConfiguration.fromTOML("proxy = \"http://relay:pw@proxy.internal:3128\"\nca_file = \"\(ca)\"\n")
        #expect(configuration.sender.proxy?.description == "http://relay@proxy.internal:3128")
        #expect(configuration.sender.tls.addedCA == (try pki.text("ca.pem")))
        #expect(try ServeConfiguration.fromTOML("proxy = \"none\"\n").sender.proxy == nil)
        #expect(ServeConfiguration().sender.proxy == nil, "no proxy unless configured")
    }

    @Test func theEnvironmentsProxyNeedsProxyEnv() throws {
        var configuration = ServeConfiguration()
        try configuration.applyEgress(proxy: nil, caFile: nil, path: "test.toml", environment: ["HTTPS_PROXY": "http://proxy.internal:3128"])
        #expect(configuration.sender.proxy == nil, "HTTPS_PROXY alone is not used")
        try configuration.applyEgress(proxy: "env", caFile: nil, path: "test.toml", environment: ["HTTPS_PROXY": "http://proxy.internal:3128"])
        let endpoint = try Endpoint("https://hooks.example.com/x", allowHTTP: false)
        #expect(configuration.sender.proxy?.server(for: endpoint)?.description == "http://proxy.internal:3128")
    }

    @Test(arguments: [
        ("proxy = \"ftp://relay:pw@proxy.internal:21\"", "proxy: the proxy ftp://relay:***@proxy.internal:21: only http:// proxies are supported"),
        ("ca_file = \"/nonexistent/ca.pem\"", "ca_file /nonexistent/ca.pem cannot be read; check the path and its permissions"),
    ])
    func aBadProxyOrCAFileIsRefused(_ line: String, _ message: String) {
        do {
            _ = try ServeConfiguration.fromTOML(line + "\n")
            Issue.record("\(line) was taken")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
            #expect(!"\(error)".contains(":pw@"), "\(error)")
        }
    }

    @Test func aCAFileThatIsNoCertificateIsRefused() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let key = pki.directory.appendingPathComponent("ca.key").path
        do {
            _ = try ServeConfiguration.fromTOML("ca_file = \"\(key)\"\n")
            Issue.record("a key was taken as a CA file")
        } catch {
            #expect("\(error)".contains("ca_file \(key): the CA file is not PEM text: expected -----BEGIN CERTIFICATE-----"), "\(error)")
        }
    }
}
