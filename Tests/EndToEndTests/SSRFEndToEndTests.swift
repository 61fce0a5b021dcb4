import Foundation
import Testing

/// The SSRF guard, through the binary: loopback in every spelling, the blocked ranges, and the
/// allow-list.
@Suite struct SSRFEndToEndTests {
    static let event = #"{"event_type":"finding","id":"evt-ssrf"}"#

    /// Runs `deliver` to `host` on the receiver's port with plain http allowed and `extra` flags.
    func deliver(to host: String, port: Int, extra: [String] = []) throws -> (HookRelayProcess.Result, TimeInterval) {
        let started = Date()
        let result = try Deliver.run(
            ["deliver", "--url", "http://\(host):\(port)/hook", "--allow-http"] + Deliver.fast + extra,
            input: Deliver.ndjson([Self.event]), secret: Deliver.secret, timeout: 30)
        return (result, Date().timeIntervalSince(started))
    }

    /// Checks a run was refused by the guard: exit 69 (running again cannot help), one failed result whose error names the
    /// address and the flag that would allow it, and the message on standard error too.
    func expectRefused(
        _ result: HookRelayProcess.Result, addresses: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(result.status == 69, "\(result.stderr)", sourceLocation: sourceLocation)
        let results = try Deliver.results(result, sourceLocation: sourceLocation)
        #expect(results.count == 1, sourceLocation: sourceLocation)
        let line = try #require(results.first, sourceLocation: sourceLocation)
        #expect(line.status == "failed", sourceLocation: sourceLocation)
        #expect(line.attempts == 1, "a refused address is not retried", sourceLocation: sourceLocation)
        #expect(line.httpStatus == nil, sourceLocation: sourceLocation)
        let error = line.error ?? ""
        #expect(addresses.contains { error.contains("address \($0) ") }, "\(error)", sourceLocation: sourceLocation)
        #expect(error.contains("blocked range"), "\(error)", sourceLocation: sourceLocation)
        #expect(error.contains("--allow-cidr"), "\(error)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains("--allow-cidr"), "\(result.stderr)", sourceLocation: sourceLocation)
    }

    /// 127.0.0.1 however it is written; the receiver listens there and must see no connection.
    @Test(arguments: [
        ("127.0.0.1", ["127.0.0.1"]),
        ("2130706433", ["127.0.0.1"]),
        ("0x7f000001", ["127.0.0.1"]),
        ("0x7f.0.0.1", ["127.0.0.1"]),
        ("0177.0.0.1", ["127.0.0.1"]),
        ("017700000001", ["127.0.0.1"]),
        ("127.1", ["127.0.0.1"]),
        ("127.0.1", ["127.0.0.1"]),
        ("localhost", ["127.0.0.1", "::1"]),
        ("LOCALHOST", ["127.0.0.1", "::1"]),
        ("[::1]", ["::1"]),
        ("[::ffff:127.0.0.1]", ["::ffff:127.0.0.1"]),
        ("[::ffff:7f00:1]", ["::ffff:127.0.0.1"]),
        ("[0:0:0:0:0:ffff:127.0.0.1]", ["::ffff:127.0.0.1"]),
        ("127.0.0.2", ["127.0.0.2"]),
    ])
    func loopbackInEverySpellingIsRefused(_ host: String, _ addresses: [String]) throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let (result, _) = try deliver(to: host, port: receiver.port)
        try expectRefused(result, addresses: addresses)
        #expect(receiver.connections == 0)
        #expect(receiver.requests.isEmpty)
    }

    /// An address in each blocked range of the guide; no connection is tried (it would take the
    /// 5 s connect timeout on unroutable ones), so the refusal is immediate.
    @Test(arguments: [
        ("0.0.0.0", "0.0.0.0"),
        ("10.0.0.1", "10.0.0.1"),
        ("100.64.0.1", "100.64.0.1"),
        ("169.254.169.254", "169.254.169.254"),
        ("172.16.0.1", "172.16.0.1"),
        ("172.31.255.254", "172.31.255.254"),
        ("192.0.0.1", "192.0.0.1"),
        ("192.168.1.1", "192.168.1.1"),
        ("198.18.0.1", "198.18.0.1"),
        ("224.0.0.1", "224.0.0.1"),
        ("240.0.0.1", "240.0.0.1"),
        ("[::]", "::"),
        ("[::ffff:10.0.0.1]", "::ffff:10.0.0.1"),
        ("[::ffff:169.254.169.254]", "::ffff:169.254.169.254"),
        ("[64:ff9b::a9fe:a9fe]", "64:ff9b::a9fe:a9fe"),
        ("[2002:c0a8:101::1]", "2002:c0a8:101::1"),
        ("[fd00::1]", "fd00::1"),
        ("[fe80::1]", "fe80::1"),
        ("[ff02::1]", "ff02::1"),
    ])
    func blockedRangesAreRefusedWithoutConnecting(_ host: String, _ address: String) throws {
        let (result, elapsed) = try deliver(to: host, port: 80, extra: ["--connect-timeout", "5s"])
        try expectRefused(result, addresses: [address])
        #expect(elapsed < 4, "took \(elapsed) s: a connection was tried")
    }

    @Test func allowCIDRAdmitsTheAddress() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let (result, _) = try deliver(to: "127.0.0.1", port: receiver.port, extra: ["--allow-cidr", "127.0.0.1/32"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Deliver.results(result).first?.status == "delivered")
        #expect(Deliver.ids(receiver.requests) == ["evt-ssrf"])
    }

    /// The guard judges the address a spelling denotes, so an allowed range admits it too.
    @Test(arguments: ["2130706433", "0x7f000001", "127.1"])
    func allowCIDRAdmitsOtherSpellingsOfTheAddress(_ host: String) throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let (result, _) = try deliver(to: host, port: receiver.port, extra: ["--allow-cidr", "127.0.0.0/8"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(receiver.requests.count == 1)
    }

    @Test func allowCIDRForAnotherAddressDoesNotAdmit() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let (result, _) = try deliver(to: "127.0.0.1", port: receiver.port, extra: ["--allow-cidr", "127.0.0.2/32"])
        try expectRefused(result, addresses: ["127.0.0.1"])
        #expect(result.stderr.contains("--allow-cidr 127.0.0.1/32"), "\(result.stderr)")
        #expect(receiver.connections == 0)
    }

    @Test func allowPrivateDoesNotOpenLoopback() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let (result, _) = try deliver(to: "127.0.0.1", port: receiver.port, extra: ["--allow-private"])
        try expectRefused(result, addresses: ["127.0.0.1"])
        #expect(receiver.connections == 0)
    }

    @Test func theRefusalIsReportedOncePerURL() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let started = Date()
        let result = try Deliver.run(
            ["deliver", "--url", "http://127.0.0.1:\(receiver.port)/hook", "--allow-http"] + Deliver.fast,
            input: Deliver.ndjson(Deliver.events(5)), secret: Deliver.secret, timeout: 30)
        #expect(result.status == 69)
        let results = try Deliver.results(result)
        #expect(results.count == 5)
        #expect(results.allSatisfy { $0.status == "failed" && $0.attempts == 1 })
        let mentions = result.stderr.split(separator: "\n").filter { $0.contains("blocked range") }
        #expect(mentions.count == 1, "\(result.stderr)")
        #expect(receiver.connections == 0)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func plainHTTPNeedsAllowHTTP() throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let result = try Deliver.run(
            ["deliver", "--url", receiver.url, "--allow-cidr", "127.0.0.1/32"], input: Deliver.ndjson([Self.event]), secret: Deliver.secret)
        #expect(result.status == 64)
        #expect(result.stderr.contains("--allow-http"), "\(result.stderr)")
        #expect(result.stderr.contains(receiver.url), "\(result.stderr)")
        #expect(receiver.connections == 0)
    }
}
