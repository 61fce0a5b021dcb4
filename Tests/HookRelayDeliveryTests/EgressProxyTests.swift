import Foundation
import HookRelayCore
import NIOCore
import Testing
@testable import HookRelayDelivery

/// The proxy setting (issue 18): parsed with clear messages that never hold the password, the
/// environment's variables only when asked for, `NO_PROXY` as curl reads it, and the request
/// an http target gets through a proxy.
@Suite struct EgressProxyTests {
    @Test func aProxyURLIsShownWithoutItsPassword() throws {
        let proxy = try #require(try EgressProxy.parse("http://relay:s3cret@proxy.internal:3128", environment: [:], source: "--proxy"))
        #expect(proxy.description == "http://relay@proxy.internal:3128")
        guard case let .server(server) = proxy else {
            Issue.record("not one server: \(proxy)")
            return
        }
        #expect(server.authorization == "Basic " + Data("relay:s3cret".utf8).base64EncodedString())
        #expect(try EgressProxy.parse("none", environment: [:], source: "proxy") == nil)
        #expect(try EgressProxy.parse("", environment: [:], source: "proxy") == nil)
    }

    @Test(arguments: [
        ("https://u:s3cret@proxy.internal:3128", "proxy: the proxy https://u:***@proxy.internal:3128: only http:// proxies are supported"),
        ("http://u:s3cret@proxy.internal", "proxy: the proxy http://u:***@proxy.internal has no port"),
        ("proxy.internal:3128", "is not a URL"),
        ("http://proxy.internal:3128/path", "has a path or query"),
    ])
    func aProxyThatCannotBeUsedIsRefusedWithoutShowingThePassword(_ text: String, _ message: String) {
        do {
            _ = try EgressProxy.parse(text, environment: [:], source: "proxy")
            Issue.record("\(text) was taken")
        } catch {
            #expect(error.description.contains(message), "\(error)")
            #expect(!error.description.contains("s3cret"), "\(error)")
        }
    }

    @Test func theEnvironmentIsReadOnlyForEnvAndNoProxyBypasses() throws {
        let environment = ["HTTPS_PROXY": "http://secure.proxy:3128", "http_proxy": "http://plain.proxy:8080", "NO_PROXY": "internal.example,.corp,10.0.0.0/8"]
        let proxy = try #require(try EgressProxy.parse("env", environment: environment, source: "proxy"))
        func via(_ url: String) throws -> String? { proxy.server(for: try Endpoint(url, allowHTTP: true))?.description }
        #expect(try via("https://hooks.example.com/x") == "http://secure.proxy:3128")
        #expect(try via("http://hooks.example.com/x") == "http://plain.proxy:8080")
        #expect(try via("https://internal.example/x") == nil)
        #expect(try via("https://a.b.corp/x") == nil)
        #expect(try via("https://10.1.2.3/x") == nil)
        #expect(try via("https://corp.example/x") == "http://secure.proxy:3128", "a suffix match is by whole labels")
        let empty = try #require(try EgressProxy.parse("env", environment: [:], source: "proxy"))
        #expect(empty.server(for: try Endpoint("https://hooks.example.com/x", allowHTTP: false)) == nil, "no variables: straight")
        #expect(EgressProxy.bypasses("anything.example", ["*"]))
        // NO_PROXY entries that leave nothing to match match nothing (an empty range trapped).
        #expect(!EgressProxy.bypasses("10.1.2.3", [".", "*.", "[]", ":8080", ""]))
        #expect(!EgressProxy.bypasses("hooks.example", [".", "*.", "[]", ":8080", ""]))
        do {
            _ = try EgressProxy.parse("env", environment: ["HTTPS_PROXY": "socks5://u:s3cret@proxy:1080"], source: "--proxy")
            Issue.record("a socks5 HTTPS_PROXY was taken")
        } catch {
            #expect(error.description.hasPrefix("--proxy env: HTTPS_PROXY: the proxy socks5://u:***@proxy:1080: only http:// proxies"), "\(error)")
        }
    }

    @Test func anHTTPRequestThroughAProxyNamesTheVettedAddressAndKeepsTheHost() throws {
        let endpoint = try Endpoint("http://hooks.example.com:8080/in?x=1", allowHTTP: true)
        let server = try ProxyServer("http://relay:pw@proxy.internal:3128")
        let wire = try HTTPSender.request(Array("{}".utf8), to: endpoint, headers: [], via: (server, IPAddress("203.0.113.5")!))
        let text = String(buffer: wire)
        #expect(text.hasPrefix("POST http://203.0.113.5:8080/in?x=1 HTTP/1.1\r\nhost: hooks.example.com:8080\r\n"), "\(text)")
        #expect(text.contains("proxy-authorization: Basic \(Data("relay:pw".utf8).base64EncodedString())\r\n"))
        let direct = String(buffer: try HTTPSender.request(Array("{}".utf8), to: endpoint, headers: []))
        #expect(direct.hasPrefix("POST /in?x=1 HTTP/1.1\r\n") && !direct.contains("proxy-authorization"))
    }

    /// Through a tunnel TLS would check an IP literal's certificate against the proxy's address:
    /// such a send is refused with what to do instead, before any connection is opened.
    @Test func httpsToAnIPAddressThroughAProxyIsRefusedWithWhatToDo() async throws {
        let proxy = try #require(try EgressProxy.parse("http://127.0.0.1:9", environment: [:], source: "proxy"))
        let allowed = AddressGuard(allowed: [try #require(CIDR("203.0.113.0/24")), try #require(CIDR("2001:db8::/32"))])
        let sender = HTTPSender(configuration: SenderConfiguration(addressGuard: allowed, proxy: proxy))
        for url in ["https://203.0.113.5/hook", "https://[2001:db8::5]/hook"] {
            let result = await sender.send(Array("{}".utf8), to: try Endpoint(url, allowHTTP: false), headers: [])
            #expect(result.verdict == .permanent && result.error?.contains("give the receiver's host name") == true, "\(result.error ?? "-")")
        }
        sender.shutdown()
    }
}
