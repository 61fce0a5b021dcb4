import Testing
@testable import HookRelayDelivery

@Suite struct EndpointTests {
    @Test(arguments: ["http://127.0.0.1:65536/x", "http://127.0.0.1:0/x", "https://example.com:99999/", "http://[::1]:70000/"])
    func portsOutsideTheRangeAreRefused(_ url: String) {
        #expect(throws: Endpoint.Problem.self) { try Endpoint(url, allowHTTP: true) }
        do {
            _ = try Endpoint(url, allowHTTP: true)
        } catch {
            #expect(error.description.contains("from 1 to 65535") || error.description.contains("not a URL"), "\(error)")
        }
    }

    @Test(arguments: [
        "http://127.0.0.1%00%0d%0aX-Injected%3a%20yes%0d%0awebhook-signature%3a%20v1%2cFORGED/x",
        "http://exa%0d%0ample.com/", "http://example.com%00.evil/", "http://ex%61mple.com/", "http://[fe80::1%25eth0]/",
        "http://exämple.com/", "http://example.com/a b", "http://example.com/\r\nX: y", "http://exa\u{0}mple.com/",
        "http://example.com/\u{1b}[31m",
    ])
    func hostsAndTargetsThatCouldCarryHeaderLinesAreRefused(_ url: String) {
        #expect(throws: Endpoint.Problem.self) { try Endpoint(url, allowHTTP: true) }
    }

    @Test func theHostHeaderAndTargetComeFromTheValidatedParts() throws {
        let endpoint = try Endpoint("https://Hooks.Example.com:8443/a/b%20c?x=1&y=%0d", allowHTTP: false)
        #expect(endpoint.host == "Hooks.Example.com")
        #expect(endpoint.port == 8443)
        #expect(endpoint.hostHeader == "Hooks.Example.com:8443")
        #expect(endpoint.target == "/a/b%20c?x=1&y=%0d")
        let v6 = try Endpoint("http://[2001:db8::1]/", allowHTTP: true)
        #expect(v6.host == "2001:db8::1" && v6.hostHeader == "[2001:db8::1]" && v6.port == 80)
    }

    @Test func refusalsShowTheURLWithoutItsControlCharacters() {
        do {
            _ = try Endpoint("http://a\u{1b}[2J/", allowHTTP: true)
            Issue.record("accepted")
        } catch {
            #expect(!error.description.contains("\u{1b}"))
            #expect(error.description.contains("\\u{1b}"))
        }
    }

    /// The request writer checks every header again, whoever checked it before: a bad one is
    /// not sent (and no connection is tried: nothing listens on the port).
    @Test(arguments: [("X-A", "a\r\nX-Injected: yes"), ("X A", "b"), ("X-A", "a\u{0}b")])
    func theWriterRefusesAHeaderThatWouldBreakTheRequest(_ name: String, _ value: String) async throws {
        let sender = HTTPSender(configuration: SenderConfiguration(
            connectTimeout: .seconds(1), timeout: .seconds(1), allowHTTP: true,
            addressGuard: AddressGuard(allowed: [try #require(CIDR("127.0.0.1/32"))])))
        let endpoint = try Endpoint("http://127.0.0.1:9/x", allowHTTP: true)
        let result = await sender.send(Array("{}".utf8), to: endpoint, headers: [(name, value)])
        #expect(result.verdict == .permanent)
        #expect(result.error?.hasPrefix("not sent:") == true, "\(result.error ?? "")")
    }
}
