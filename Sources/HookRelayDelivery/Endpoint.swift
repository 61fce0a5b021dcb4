import Foundation
import HookRelayCore

/// A URL hookrelay may send to: http(s), with a host.
public struct Endpoint: Sendable, Hashable {
    public let url: String
    public let host: String
    public let isHTTPS: Bool
    public let port: Int
    /// The request target: path and query.
    public let target: String
    /// The `host` header: the host as written, and the port when it is not the default.
    public let hostHeader: String

    public enum Problem: Error, Sendable, CustomStringConvertible {
        case malformed(String)
        case scheme(String)
        case plainHTTP(String)
        case port(String)
        case host(String)
        case character(String)

        public var description: String {
            switch self {
            case let .malformed(url):
                return "\(Self.shown(url)): not a URL; give an absolute http(s) URL such as https://hooks.example.com/path"
            case let .scheme(url): return "\(Self.shown(url)): only https (and http with --allow-http) URLs can be delivered to"
            case let .plainHTTP(url):
                return "\(Self.shown(url)): plain http sends events and signatures unencrypted; use https, or --allow-http for testing"
            case let .port(url): return "\(Self.shown(url)): the port must be a number from 1 to 65535"
            case let .host(url):
                return "\(Self.shown(url)): the host may hold only ASCII letters, digits, '-', '_' and '.', or be an IP address "
                    + "([...] for IPv6); write international names in punycode (xn--...) and nothing percent-encoded"
            case let .character(url):
                return "\(Self.shown(url)): holds a space, a control character or a non-ASCII character; percent-encode it (%20, ...)"
            }
        }

        /// The URL as it can be shown: control characters escaped, at most 200 characters.
        static func shown(_ url: String) -> String {
            let text = JSONString.printable(url)
            return text.count > 200 ? String(text.prefix(199)) + "…" : text
        }
    }

    public init(_ url: String, allowHTTP: Bool) throws(Problem) {
        // Every byte of the URL goes on the wire (request line, Host): visible ASCII only.
        guard url.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else { throw .character(url) }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let rawHost = components.percentEncodedHost, !rawHost.isEmpty
        else { throw .malformed(url) }
        guard scheme == "https" || scheme == "http" else { throw .scheme(url) }
        if scheme == "http", !allowHTTP { throw .plainHTTP(url) }
        let host: String
        if rawHost.hasPrefix("[") && rawHost.hasSuffix("]") {
            // An IPv6 literal, without a zone (`%25eth0` would pick an interface).
            host = String(rawHost.dropFirst().dropLast())
            guard !host.isEmpty, host.utf8.allSatisfy({ Self.isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
            else { throw .host(url) }
        } else {
            host = rawHost
            guard host.utf8.allSatisfy({ Self.isHostByte($0) }) else { throw .host(url) }
        }
        if let port = components.port, !(1...65535).contains(port) { throw .port(url) }
        self.url = url
        self.host = host
        isHTTPS = scheme == "https"
        port = components.port ?? (isHTTPS ? 443 : 80)
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        target = path + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        let written = host.contains(":") ? "[\(host)]" : host
        hostHeader = components.port.map { "\(written):\($0)" } ?? written
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
    }

    private static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
        }
    }
}
