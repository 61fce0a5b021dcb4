#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address as 16 bytes (IPv4 as `::ffff:a.b.c.d`), with its family kept.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]
    public let isIPv4: Bool

    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, a, b, c, d]
        isIPv4 = true
    }

    public init?(ipv6 bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
        isIPv4 = false
    }

    /// Parses the canonical dotted-quad or IPv6 text form (not the legacy `inet_aton` spellings:
    /// those reach the guard only after resolution, as the address they denote).
    public init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            let value = UInt32(bigEndian: v4.s_addr)
            self.init(ipv4: UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF))
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            self.init(ipv6: withUnsafeBytes(of: &v6) { Array($0) })
        } else {
            return nil
        }
    }

    public var description: String {
        if isIPv4 { return bytes[12...].map(String.init).joined(separator: ".") }
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// A block of addresses, `10.0.0.0/8` or `fc00::/7`.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    /// Prefix length over the 16-byte form (an IPv4 /8 is stored as /104).
    let bits: Int
    public let description: String

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        // "" and "/" split into nothing.
        guard let first = parts.first, let address = IPAddress(String(first)) else { return nil }
        let maximum = address.isIPv4 ? 32 : 128
        let length: Int
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...maximum).contains(parsed) else { return nil }
            length = parsed
        } else {
            length = maximum
        }
        self.address = address
        bits = address.isIPv4 ? 96 + length : length
        description = "\(address)/\(length)"
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        guard candidate.isIPv4 == address.isIPv4 || !address.isIPv4 else { return false }
        var remaining = bits
        for index in 0..<16 where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if candidate.bytes[index] & mask != address.bytes[index] & mask { return false }
            remaining -= 8
        }
        return true
    }
}

/// Decides whether hookrelay may connect to an address: the SSRF guard.
///
/// Private, loopback, link-local, multicast and other special ranges are refused unless an
/// allow-list entry covers the address. IPv4-mapped and 6to4 IPv6 addresses are judged by the
/// IPv4 address they carry; NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`) and IPv4-translated
/// (`::ffff:0:0:0/96`) addresses are refused outright, since the gateway could reach anything.
/// The documentation ranges are refused as no receiver can be there, and Azure's platform
/// address (168.63.129.16) as a metadata service.
public struct AddressGuard: Sendable {
    public static let blockedRanges: [CIDR] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "168.63.129.16/32", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
        "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "fc00::/7", "fec0::/10", "fe80::/10",
        "ff00::/8",
    ].map { CIDR($0)! }

    /// The private ranges `--allow-private` opens (not loopback, link-local or multicast).
    public static let privateRanges: [CIDR] = ["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
        .map { CIDR($0)! }

    public var allowed: [CIDR]

    public init(allowed: [CIDR] = []) { self.allowed = allowed }

    /// The range that blocks `address`, or nil when it may be used.
    public func blockingRange(for address: IPAddress) -> CIDR? {
        if allowed.contains(where: { $0.contains(address) }) { return nil }
        let judged = Self.embeddedIPv4(in: address) ?? address
        if judged != address, allowed.contains(where: { $0.contains(judged) }) { return nil }
        return Self.blockedRanges.first { $0.contains(judged) }
    }

    /// The IPv4 address inside an IPv4-mapped (`::ffff:0:0/96`) or 6to4 (`2002::/16`) address.
    static func embeddedIPv4(in address: IPAddress) -> IPAddress? {
        guard !address.isIPv4 else { return nil }
        let b = address.bytes
        if b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xFF, b[11] == 0xFF {
            return IPAddress(ipv4: b[12], b[13], b[14], b[15])
        }
        if b[0] == 0x20, b[1] == 0x02 {
            return IPAddress(ipv4: b[2], b[3], b[4], b[5])
        }
        // IPv4-compatible (deprecated) ::a.b.c.d, except :: and ::1 which are ranges of their own.
        if b[0..<12].allSatisfy({ $0 == 0 }), b[12...].contains(where: { $0 != 0 }), !(b[12...14].allSatisfy { $0 == 0 } && b[15] <= 1) {
            return IPAddress(ipv4: b[12], b[13], b[14], b[15])
        }
        return nil
    }
}

/// Host name resolution through the system resolver (getaddrinfo), which also turns every
/// legacy spelling of an IPv4 literal (`2130706433`, `0x7f.1`, `0177.0.0.1`) into the address
/// it denotes, so the guard judges addresses, not spellings.
public enum Resolver {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let host: String
        public let reason: String
        public var description: String { "cannot resolve \(host): \(reason)" }
    }

    /// Blocking: call off the cooperative thread pool.
    public static func resolve(_ host: String) throws(Failure) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, nil, &hints, &result)
        guard code == 0 else { throw Failure(host: host, reason: String(cString: gai_strerror(code))) }
        defer { freeaddrinfo(result) }
        var addresses: [IPAddress] = []
        var cursor = result
        while let info = cursor {
            if info.pointee.ai_family == AF_INET, let raw = info.pointee.ai_addr {
                raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    let value = UInt32(bigEndian: $0.pointee.sin_addr.s_addr)
                    addresses.append(IPAddress(ipv4: UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)))
                }
            } else if info.pointee.ai_family == AF_INET6, let raw = info.pointee.ai_addr {
                raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    var address = $0.pointee.sin6_addr
                    if let parsed = IPAddress(ipv6: withUnsafeBytes(of: &address) { Array($0) }) { addresses.append(parsed) }
                }
            }
            cursor = info.pointee.ai_next
        }
        var seen = Set<IPAddress>()
        return addresses.filter { seen.insert($0).inserted }
    }
}
