import Foundation
import Testing

/// `deliver --proxy` through Debian's tinyproxy on 127.0.0.1 (issue 18): http targets in
/// absolute form, https targets through CONNECT, both to the vetted address; the address guard
/// before any connection to the proxy; a proxy that is down is retried; the proxy's refusals are
/// clear errors, and its password is never shown.
@Suite(.serialized) struct ProxyEndToEndTests {
    static let event = Deliver.ndjson(Deliver.events(1))

    @Test func anHTTPTargetIsSentThroughTheProxyNamingTheVettedAddress() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let proxy = try Tinyproxy()
        defer { proxy.stop() }
        // The URL names localhost: the proxy is asked for the address hookrelay vetted.
        let url = "http://localhost:\(receiver.port)/hook"
        let result = try Deliver.run(
            ["deliver", "--url", url, "--proxy", proxy.url] + Deliver.loopback + Deliver.fast, input: Self.event)
        let results = try Deliver.results(result)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(results.map(\.status) == ["delivered"], "\(results)")
        let received = receiver.waitFor(1)
        #expect(received.count == 1)
        // tinyproxy rebuilds Host from the request line: the receiver sees the address (documented).
        #expect(received.first?.headers["host"] == "127.0.0.1:\(receiver.port)", "\(received.first?.headers ?? [:])")
        let requests = proxy.traffic.filter { $0.contains("Request (file descriptor") }
        #expect(requests.count == 1, "\(proxy.traffic)")
        #expect(requests.first?.contains("POST http://127.0.0.1:\(receiver.port)/hook HTTP/1.1") == true, "\(requests)")
        #expect(!proxy.traffic.joined().contains("localhost"), "the proxy was never given the name: \(proxy.traffic)")
    }

    @Test func anHTTPSTargetGoesThroughCONNECTToTheVettedAddressWithTLSToTheName() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let nginx = try Nginx(pki: pki)
        defer { nginx.stop() }
        let proxy = try Tinyproxy(connectPorts: [nginx.port])
        defer { proxy.stop() }
        let result = try Deliver.run(
            ["deliver", "--url", "https://localhost:\(nginx.port)/hook", "--allow-cidr", "127.0.0.1/32", "--proxy", proxy.url,
             "--client-cert", pki.path("client.pem"), "--client-key", pki.path("client.key"), "--ca-file", pki.path("ca.pem")]
                + Deliver.fast,
            input: Self.event)
        let results = try Deliver.results(result)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(results.map(\.status) == ["delivered"], "\(results)")
        #expect(results.first?.httpStatus == 200)
        #expect(proxy.traffic.contains { $0.contains("CONNECT 127.0.0.1:\(nginx.port) HTTP/1.1") }, "\(proxy.traffic)")
        #expect(!proxy.traffic.joined().contains("localhost"), "\(proxy.traffic)")
        #expect(nginx.accessLog.filter { $0.contains("POST /hook") }.count == 1, "\(nginx.accessLog)")
    }

    @Test(arguments: ["http", "https"])
    func aBlockedTargetIsRefusedBeforeAnyConnectionToTheProxy(_ scheme: String) throws {
        let proxy = try Tinyproxy()
        defer { proxy.stop() }
        // 127.0.0.1 without --allow-cidr: the guard's to refuse, whatever the proxy could reach.
        let result = try Deliver.run(
            ["deliver", "--url", "\(scheme)://127.0.0.1:\(proxy.port)/hook", "--allow-http", "--proxy", proxy.url] + Deliver.fast,
            input: Self.event)
        let results = try Deliver.results(result)
        #expect(results.map(\.status) == ["failed"], "\(results)")
        #expect(results.first?.error?.contains("is in the blocked range 127.0.0.0/8") == true, "\(results)")
        #expect(proxy.connections == 0, "the proxy saw: \(proxy.traffic)")
    }

    @Test func aProxyThatIsDownIsRetriedLikeAnyConnectionFailure() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let down = try OutsideProgram.freePort()
        let result = try Deliver.run(
            Deliver.arguments(receiver, extra: ["--proxy", "http://127.0.0.1:\(down)", "--max-attempts", "3"]), input: Self.event)
        let results = try Deliver.results(result)
        #expect(result.status == 75, "\(result.stderr)")
        #expect(results.map(\.status) == ["failed"], "\(results)")
        #expect(results.first?.attempts == 3, "retried: \(results)")
        #expect(results.first?.error == "connection refused by the proxy http://127.0.0.1:\(down)", "\(results)")
        #expect(receiver.requests.isEmpty)
    }

    @Test func theProxysRefusalsAreClearErrorsAndItsPasswordIsNeverShown() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let nginx = try Nginx(pki: pki)
        defer { nginx.stop() }
        let password = "pw-\(UUID().uuidString.prefix(8))"
        let proxy = try Tinyproxy(connectPorts: [nginx.port], basicAuth: ("relay", password))
        defer { proxy.stop() }
        let closedPort = try Tinyproxy(connectPorts: [1])
        defer { closedPort.stop() }
        func deliver(via proxyURL: String) throws -> (HookRelayProcess.Result, [DeliveryResult]) {
            let result = try Deliver.run(
                ["deliver", "--url", "https://localhost:\(nginx.port)/hook", "--allow-cidr", "127.0.0.1/32", "--proxy", proxyURL,
                 "--client-cert", pki.path("client.pem"), "--client-key", pki.path("client.key"), "--ca-file", pki.path("ca.pem"),
                 "--max-attempts", "1"] + Deliver.fast,
                input: Self.event)
            #expect(!result.output.contains(password) && !result.stderr.contains(password), "the password was shown")
            return (result, try Deliver.results(result))
        }
        let (_, accepted) = try deliver(via: "http://relay:\(password)@127.0.0.1:\(proxy.port)")
        #expect(accepted.map(\.status) == ["delivered"], "Proxy-Authorization sent: \(accepted)")
        let (_, wrong) = try deliver(via: "http://relay:not-\(password)@127.0.0.1:\(proxy.port)")
        #expect(wrong.first?.error?.hasPrefix("proxy http://relay@127.0.0.1:\(proxy.port) refused CONNECT: 401") == true, "\(wrong)")
        let (_, refused) = try deliver(via: closedPort.url)
        #expect(refused.first?.error?.hasPrefix("proxy \(closedPort.url) refused CONNECT: 403") == true, "\(refused)")
        #expect(nginx.accessLog.count == 1, "only the accepted tunnel reached nginx: \(nginx.accessLog)")
    }

    @Test(arguments: [true, false])
    func aProxyOrTLSReceiverThatNeverAnswersFailsAtTheDeadline(_ viaProxy: Bool) throws {
        let silent = try SilentListener()
        defer { silent.stop() }
        // Through the proxy by name: https to an IP literal through a proxy is refused before sending.
        let target = viaProxy ? "https://localhost:9/hook" : "https://127.0.0.1:\(silent.port)/hook"
        let result = try Deliver.run(
            ["deliver", "--url", target, "--allow-cidr", "127.0.0.1/32", "--max-attempts", "1", "--timeout", "1s"]
                + (viaProxy ? ["--proxy", "http://127.0.0.1:\(silent.port)"] : []),
            input: Self.event)
        let results = try Deliver.results(result)
        #expect(results.map(\.status) == ["failed"], "\(results)")
        #expect(results.first?.error == "no complete response within 1s (--timeout)", "\(results)")
    }

    @Test func theEnvironmentsProxyIsUsedOnlyWhenAskedFor() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let proxy = try Tinyproxy()
        defer { proxy.stop() }
        let environment = ["HTTP_PROXY": proxy.url, "http_proxy": proxy.url]
        let direct = try Deliver.run(Deliver.arguments(receiver), input: Self.event, environment: environment)
        #expect(try Deliver.results(direct).map(\.status) == ["delivered"])
        #expect(proxy.connections == 0, "HTTP_PROXY alone is not used: \(proxy.traffic)")
        let viaEnvironment = try Deliver.run(
            Deliver.arguments(receiver, extra: ["--proxy", "env"]), input: Self.event, environment: environment)
        #expect(try Deliver.results(viaEnvironment).map(\.status) == ["delivered"], "\(viaEnvironment.stderr)")
        #expect(proxy.connections == 1, "\(proxy.traffic)")
        let bypassed = try Deliver.run(
            Deliver.arguments(receiver, extra: ["--proxy", "env"]), input: Self.event,
            environment: environment.merging(["NO_PROXY": "127.0.0.1"]) { _, new in new })
        #expect(try Deliver.results(bypassed).map(\.status) == ["delivered"])
        #expect(proxy.connections == 1, "NO_PROXY sent it straight: \(proxy.traffic)")
        #expect(receiver.waitFor(3).count == 3)
    }

    @Test(arguments: [
        ("https://proxy.example:3128", "only http:// proxies are supported"),
        ("http://proxy.example", "has no port"),
        ("http://user:secret-pw@proxy.example:3128/x", "has a path or query"),
    ])
    func aProxyThatCannotBeUsedIsAUsageError(_ proxy: String, _ message: String) throws {
        let result = try Deliver.run(["deliver", "--url", "https://hooks.example.com/x", "--proxy", proxy], input: "")
        #expect(result.status == 64)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stderr.contains("secret-pw"), "\(result.stderr)")
    }
}
