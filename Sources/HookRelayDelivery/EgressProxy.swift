import Foundation
import HookRelayCore

/// An HTTP proxy requests go through: `http://[user:password@]host:port`.
///
/// Its own address is not judged by the address guard (the operator named it); the targets are,
/// before the proxy is asked for them, by their vetted address.
public struct ProxyServer: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int
    let username: String?
    let password: String?

    /// Why a proxy setting cannot be used. Never holds the password.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public init(_ url: String) throws(Problem) {
        guard url.utf8.allSatisfy({ (0x21...0x7E).contains($0) }), let components = URLComponents(string: url),
              let scheme = components.scheme?.lowercased(), let host = components.host, !host.isEmpty
        else {
            throw Problem(description: "the proxy '\(Self.withoutPassword(url))' is not a URL; give it as http://HOST:PORT, such as http://proxy.internal:3128")
        }
        let shown = Self.withoutPassword(url)
        guard scheme == "http" else {
            throw Problem(description: "the proxy \(shown): only http:// proxies are supported (https targets still go through them encrypted, by CONNECT); give http://HOST:PORT")
        }
        guard let port = components.port, (1...65535).contains(port) else {
            throw Problem(description: "the proxy \(shown) has no port; give it, such as http://proxy.internal:3128")
        }
        guard components.percentEncodedPath.isEmpty || components.percentEncodedPath == "/", components.query == nil else {
            throw Problem(description: "the proxy \(shown) has a path or query; give only http://HOST:PORT")
        }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        self.port = port
        username = components.user
        password = components.password
    }

    /// The URL as it may be shown and logged: without the password.
    public var description: String {
        let written = host.contains(":") ? "[\(host)]" : host
        return "http://" + (username.map { Self.percentEncoded($0) + "@" } ?? "") + "\(written):\(port)"
    }

    /// The `Proxy-Authorization` value when the URL carries credentials (Basic).
    var authorization: String? {
        guard let username else { return nil }
        return "Basic " + Data("\(username):\(password ?? "")".utf8).base64EncodedString()
    }

    /// `url` with any password replaced by `***`, for messages about a URL that did not parse.
    static func withoutPassword(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let schemeEnd = url.range(of: "://"), schemeEnd.upperBound < at else {
            return JSONString.printable(url)
        }
        let credentials = url[schemeEnd.upperBound..<at]
        let user = credentials.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        return JSONString.printable(String(url[..<schemeEnd.upperBound]) + user + (credentials.contains(":") ? ":***" : "") + String(url[at...]))
    }

    private static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? text
    }
}

/// Which proxy, if any, a request goes through: one for every target (`proxy = "http://…"`,
/// `--proxy URL`), or the environment's `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (only when
/// asked for with `proxy = "env"` / `--proxy env`).
public enum EgressProxy: Sendable, Hashable, CustomStringConvertible {
    case server(ProxyServer)
    case environment(https: ProxyServer?, http: ProxyServer?, noProxy: [String])

    /// Reads a `proxy` setting: a URL, `env` (the environment's variables), or `none`/empty
    /// (nil: no proxy). `source` names the setting in messages (`--proxy`, `proxy`).
    public static func parse(_ text: String, environment: [String: String], source: String) throws(ProxyServer.Problem) -> EgressProxy? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed == "none" { return nil }
        if trimmed != "env" {
            do {
                return .server(try ProxyServer(trimmed))
            } catch {
                throw ProxyServer.Problem(description: "\(source): \(error.description)")
            }
        }
        func variable(_ name: String) -> String? {
            let value = environment[name.lowercased()] ?? environment[name]
            return value.flatMap { $0.isEmpty ? nil : $0 }
        }
        func server(_ name: String) throws(ProxyServer.Problem) -> ProxyServer? {
            guard let value = variable(name) else { return nil }
            do {
                return try ProxyServer(value)
            } catch {
                throw ProxyServer.Problem(description: "\(source) env: \(name): \(error.description)")
            }
        }
        let https = try server("HTTPS_PROXY")
        let http = try server("HTTP_PROXY")
        let noProxy = (variable("NO_PROXY") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        return .environment(https: https, http: http, noProxy: noProxy)
    }

    /// The proxy for `endpoint`, or nil to connect straight to it.
    public func server(for endpoint: Endpoint) -> ProxyServer? {
        switch self {
        case let .server(server):
            return server
        case let .environment(https, http, noProxy):
            if Self.bypasses(endpoint.host, noProxy) { return nil }
            return endpoint.isHTTPS ? https : http
        }
    }

    /// `NO_PROXY` as curl reads it: `*` for every host; a name matches itself and its
    /// subdomains (a leading `.` or `*.` is ignored); an address or `a.b.c.d/n` range matches
    /// an IP literal host; a `:port` suffix is ignored.
    static func bypasses(_ host: String, _ entries: [String]) -> Bool {
        let host = host.lowercased()
        let address = IPAddress(host)
        for raw in entries {
            if raw == "*" { return true }
            var entry = Substring(raw)
            if entry.hasPrefix("*.") { entry = entry.dropFirst(2) } else if entry.hasPrefix(".") { entry = entry.dropFirst() }
            if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
                entry = entry[entry.index(after: entry.startIndex)..<close]
            } else if entry.filter({ $0 == ":" }).count == 1, let colon = entry.firstIndex(of: ":") {
                entry = entry[..<colon]
            }
            // ".", "*.", "[]" or ":8080" left nothing to match.
            if entry.isEmpty { continue }
            if let address, let range = CIDR(String(entry)), range.contains(address) { return true }
            if host == entry || host.hasSuffix("." + entry) { return true }
        }
        return false
    }

    /// As shown in logs and `serve`'s startup line: without passwords.
    public var description: String {
        switch self {
        case let .server(server): return server.description
        case let .environment(https, http, noProxy):
            return "env (HTTPS_PROXY \(https?.description ?? "unset"), HTTP_PROXY \(http?.description ?? "unset"), NO_PROXY \(noProxy.isEmpty ? "unset" : noProxy.joined(separator: ",")))"
        }
    }
}
