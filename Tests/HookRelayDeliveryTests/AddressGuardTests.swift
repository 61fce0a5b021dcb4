import Foundation
import Testing
@testable import HookRelayDelivery

@Suite struct AddressGuardTests {
    let guardian = AddressGuard()

    /// Every blocked range of the guide, judged by an address inside it.
    @Test(arguments: [
        "0.0.0.0", "10.1.2.3", "100.64.0.1", "127.0.0.1", "127.255.255.254", "169.254.169.254", "172.16.0.1",
        "172.31.255.255", "192.0.0.8", "192.168.1.1", "198.18.0.1", "198.19.255.255", "224.0.0.1", "239.1.1.1",
        "240.0.0.1", "255.255.255.255", "::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "2002:c0a8:101::1", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1",
        // Documentation ranges, Azure's platform address, site-local, local-use NAT64, IPv4-translated.
        "192.0.2.1", "198.51.100.7", "203.0.113.7", "168.63.129.16", "fec0::1", "feff::1", "64:ff9b:1::a00:1",
        "64:ff9b:1:ffff::1", "::ffff:0:808:808", "::ffff:0:7f00:1",
    ])
    func blocks(_ text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(guardian.blockingRange(for: address) != nil, "\(text)")
    }

    @Test(arguments: ["93.184.216.34", "8.8.8.8", "172.32.0.1", "192.0.1.1", "100.128.0.1", "192.0.3.1", "198.51.101.1", "203.0.114.1", "168.63.129.17", "64:ff9b:2::1", "2606:4700::1111", "::ffff:8.8.8.8", "2002:0808:0808::1"])
    func allows(_ text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(guardian.blockingRange(for: address) == nil, "\(text)")
    }

    /// The legacy spellings of 127.0.0.1 resolve to it, and so are judged as it.
    @Test(arguments: ["2130706433", "0x7f000001", "0x7f.0.0.1", "0177.0.0.1", "127.1", "017700000001", "localhost"])
    func legacySpellingsResolveToLoopback(_ spelling: String) throws {
        let addresses = try Resolver.resolve(spelling)
        #expect(!addresses.isEmpty)
        for address in addresses {
            #expect(guardian.blockingRange(for: address) != nil, "\(spelling) → \(address)")
        }
    }

    @Test func allowListOpensExactlyWhatItNames() throws {
        let open = AddressGuard(allowed: [try #require(CIDR("127.0.0.1/32"))])
        #expect(open.blockingRange(for: try #require(IPAddress("127.0.0.1"))) == nil)
        #expect(open.blockingRange(for: try #require(IPAddress("127.0.0.2"))) != nil)
        #expect(open.blockingRange(for: try #require(IPAddress("::ffff:127.0.0.1"))) == nil)
        let privateOnly = AddressGuard(allowed: AddressGuard.privateRanges)
        #expect(privateOnly.blockingRange(for: try #require(IPAddress("10.9.8.7"))) == nil)
        #expect(privateOnly.blockingRange(for: try #require(IPAddress("127.0.0.1"))) != nil)
        #expect(privateOnly.blockingRange(for: try #require(IPAddress("169.254.169.254"))) != nil)
    }

    @Test func cidrParsing() {
        #expect(CIDR("10.0.0.0/8")?.description == "10.0.0.0/8")
        #expect(CIDR("fd00::/8")?.description == "fd00::/8")
        #expect(CIDR("1.2.3.4")?.description == "1.2.3.4/32")
        #expect(CIDR("10.0.0.0/33") == nil)
        for empty in ["", "/", "/8"] { #expect(CIDR(empty) == nil, "\(empty) names no range") }
        #expect(CIDR("nonsense/8") == nil)
    }

    @Test func blockedMessageNamesTheAddressAndTheFlag() throws {
        let blocked = BlockedAddress(host: "internal.example", address: try #require(IPAddress("10.0.0.5")), range: try #require(CIDR("10.0.0.0/8")))
        #expect(blocked.description == "address 10.0.0.5 of internal.example is in the blocked range 10.0.0.0/8; allow it with --allow-cidr 10.0.0.5/32 (or --allow-private for all private ranges)")
    }

    @Test func retryAfterForms() {
        #expect(HTTPSender.retryAfter("120", now: Date(timeIntervalSince1970: 0)) == .seconds(120))
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(HTTPSender.retryAfter("Tue, 14 Nov 2023 22:13:50 GMT", now: now) == .seconds(30))
        #expect(HTTPSender.retryAfter("soon", now: now) == nil)
    }
}
