import Foundation
import HookRelayCore

/// How a `deliver` run asked for one URL's deliveries to be sent: its address rules, extra
/// headers, signature schemes, timeouts and retry schedule. A spool keeps it for every URL it
/// holds deliveries for, so that a later `--drain` (from cron, without the spooling run's flags)
/// sends them the same way. Header values are kept as given, with `${VAR}` unexpanded, and no
/// secret is kept: both come from the environment of the run that sends.
public struct TargetSettings: Codable, Sendable, Hashable {
    public struct Header: Codable, Sendable, Hashable {
        public var name: String
        /// As given: `${VAR}` is expanded from the sending run's environment.
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var allowHTTP = false
    /// Ranges the address guard allows beyond the public internet (`--allow-cidr`, `--allow-private`).
    public var allowCIDR: [String] = []
    public var headers: [Header] = []
    /// `standard`, `github`; empty: sent unsigned.
    public var signatureSchemes: [String] = [Signer.Scheme.standard.rawValue]
    public var timeoutMilliseconds: Int64 = 15_000
    public var connectTimeoutMilliseconds: Int64 = 5_000
    public var maxAttempts = 8
    public var backoffBaseMilliseconds: Int64 = 1_000
    public var backoffMaxMilliseconds: Int64 = 300_000

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case allowHTTP = "allow_http", allowCIDR = "allow_cidr", headers, signatureSchemes = "signature_schemes"
        case timeoutMilliseconds = "timeout_ms", connectTimeoutMilliseconds = "connect_timeout_ms"
        case maxAttempts = "max_attempts", backoffBaseMilliseconds = "backoff_base_ms", backoffMaxMilliseconds = "backoff_max_ms"
    }

    /// Reads what is present and keeps the defaults for the rest, so a spool written by another
    /// version of hookrelay still reads.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try container.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        let defaults = TargetSettings()
        allowHTTP = try value(.allowHTTP, defaults.allowHTTP)
        allowCIDR = try value(.allowCIDR, defaults.allowCIDR)
        headers = try value(.headers, defaults.headers)
        signatureSchemes = try value(.signatureSchemes, defaults.signatureSchemes)
        timeoutMilliseconds = try value(.timeoutMilliseconds, defaults.timeoutMilliseconds)
        connectTimeoutMilliseconds = try value(.connectTimeoutMilliseconds, defaults.connectTimeoutMilliseconds)
        maxAttempts = try value(.maxAttempts, defaults.maxAttempts)
        backoffBaseMilliseconds = try value(.backoffBaseMilliseconds, defaults.backoffBaseMilliseconds)
        backoffMaxMilliseconds = try value(.backoffMaxMilliseconds, defaults.backoffMaxMilliseconds)
    }

    /// The JSON the spool keeps (keys sorted, so equal settings are equal text).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain values cannot fail.
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    public init(json: String) throws {
        self = try JSONDecoder().decode(TargetSettings.self, from: Data(json.utf8))
    }

    /// What a run's command line changes: on its own URLs everything it gives; on a spool's
    /// stored URLs (a drain) the ranges it allows are added and the timeouts and retry settings
    /// it gives replace the stored ones.
    public struct Patch: Sendable {
        public var allowHTTP = false
        public var allowCIDR: [String] = []
        public var headers: [Header]?
        public var signatureSchemes: [String]?
        public var timeoutMilliseconds: Int64?
        public var connectTimeoutMilliseconds: Int64?
        public var maxAttempts: Int?
        public var backoffBaseMilliseconds: Int64?
        public var backoffMaxMilliseconds: Int64?

        public init() {}
    }

    public func applying(_ patch: Patch) -> TargetSettings {
        var settings = self
        settings.allowHTTP = allowHTTP || patch.allowHTTP
        for range in patch.allowCIDR where !settings.allowCIDR.contains(range) { settings.allowCIDR.append(range) }
        if let headers = patch.headers { settings.headers = headers }
        if let schemes = patch.signatureSchemes { settings.signatureSchemes = schemes }
        if let value = patch.timeoutMilliseconds { settings.timeoutMilliseconds = value }
        if let value = patch.connectTimeoutMilliseconds { settings.connectTimeoutMilliseconds = value }
        if let value = patch.maxAttempts { settings.maxAttempts = value }
        if let value = patch.backoffBaseMilliseconds { settings.backoffBaseMilliseconds = value }
        if let value = patch.backoffMaxMilliseconds { settings.backoffMaxMilliseconds = value }
        return settings
    }

    /// Why settings cannot be used to send (a stored range that no longer parses, a header whose
    /// `${VAR}` is not set, a signed target without a secret).
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The sender configuration (address rules and timeouts; headers go with each attempt).
    public func senderConfiguration(connectionsPerHost: Int) throws(Problem) -> SenderConfiguration {
        var ranges: [CIDR] = []
        for text in allowCIDR {
            guard let range = CIDR(text) else { throw Problem(description: "the address range '\(text)' does not parse") }
            ranges.append(range)
        }
        return SenderConfiguration(
            connectTimeout: .milliseconds(connectTimeoutMilliseconds), timeout: .milliseconds(timeoutMilliseconds),
            allowHTTP: allowHTTP, addressGuard: AddressGuard(allowed: ranges), headers: [], connectionsPerHost: connectionsPerHost)
    }

    /// The headers with `${VAR}` taken from `environment`, checked as every header is.
    public func expandedHeaders(environment: [String: String]) throws(Problem) -> [(String, String)] {
        var expanded: [(name: String, value: String)] = []
        for header in headers {
            do {
                expanded.append((header.name, try Self.expand(header.value, environment: environment)))
            } catch {
                throw Problem(description: "header \(header.name) \(error.description)")
            }
        }
        do {
            try HeaderField.validate(expanded)
        } catch {
            throw Problem(description: error.description)
        }
        return expanded.map { ($0.name, $0.value) }
    }

    /// The signer for these schemes with `secrets`; a signed target without a secret is refused.
    public func signer(secrets: [WebhookSecret]) throws(Problem) -> Signer {
        let schemes = Set(signatureSchemes.compactMap(Signer.Scheme.init(rawValue:)))
        if schemes.isEmpty { return Signer(secrets: [], schemes: []) }
        guard !secrets.isEmpty else {
            throw Problem(description: "it is signed (\(signatureSchemes.joined(separator: ","))) and this run has no secret; give --secret-file FILE or HOOKRELAY_SECRET")
        }
        return Signer(secrets: secrets, schemes: schemes)
    }

    public var retryPolicy: RetryPolicy {
        RetryPolicy(
            maxAttempts: maxAttempts, base: .milliseconds(backoffBaseMilliseconds), cap: .milliseconds(backoffMaxMilliseconds))
    }

    /// `${VAR}` in `text` replaced by the variable's value; an unset variable is a problem.
    public static func expand(_ text: String, environment: [String: String]) throws(Problem) -> String {
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw Problem(description: "has '${' without a closing '}'")
            }
            let name = String(rest[start.upperBound..<end])
            guard let value = environment[name] else {
                throw Problem(description: "uses ${\(name)}, which is not set in the environment")
            }
            result += value
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}
