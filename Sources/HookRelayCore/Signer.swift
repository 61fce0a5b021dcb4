import Crypto
import Foundation

/// A webhook signing secret: 24 to 64 random bytes, written `whsec_<base64>`.
public struct WebhookSecret: Sendable, Equatable, CustomStringConvertible {
    /// The key HMAC-SHA256 uses: the base64-decoded bytes.
    public let key: [UInt8]
    /// The secret exactly as written, which GitHub-style receivers use as their key.
    public let text: String

    public static let byteRange = 24...64

    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case notBase64
        case badLength(Int)

        public var description: String {
            switch self {
            case .notBase64:
                return "the secret is not base64 after its 'whsec_' prefix; generate one with 'hookrelay sign --new-secret'"
            case let .badLength(count):
                return "the secret is \(count) bytes long; Standard Webhooks secrets are 24 to 64 random bytes"
            }
        }
    }

    /// Parses `whsec_<base64>` (the prefix is optional).
    public init(_ text: String) throws(ParseError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let encoded = trimmed.hasPrefix("whsec_") ? String(trimmed.dropFirst(6)) : trimmed
        guard let data = Data(base64Encoded: encoded) else { throw .notBase64 }
        guard Self.byteRange.contains(data.count) else { throw .badLength(data.count) }
        key = Array(data)
        self.text = trimmed
    }

    /// A new secret of `byteCount` random bytes from the system's secure generator.
    public static func generate(byteCount: Int = 32) -> WebhookSecret {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return WebhookSecret(key: bytes, text: "whsec_" + Data(bytes).base64EncodedString())
    }

    private init(key: [UInt8], text: String) {
        self.key = key
        self.text = text
    }

    /// Never shows the key: secrets stay out of logs and messages.
    public var description: String { "whsec_…(\(key.count) bytes)" }
}

/// Signs webhook messages per Standard Webhooks 1.0, and optionally GitHub's format.
public struct Signer: Sendable {
    public enum Scheme: String, Sendable, CaseIterable {
        /// `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`.
        case standard
        /// `X-Hub-Signature-256: sha256=<hex>` keyed with the secret's text.
        case github
    }

    public let secrets: [WebhookSecret]
    public let schemes: Set<Scheme>
    /// HMAC states with each secret's key already applied: copying one is cheaper than keying anew.
    private let keyed: [HMAC<SHA256>]
    private let githubKeyed: HMAC<SHA256>?

    /// No secret: requests go out without a signature.
    public var isUnsigned: Bool { secrets.isEmpty }

    public init(secrets: [WebhookSecret], schemes: Set<Scheme> = [.standard]) {
        self.secrets = secrets
        self.schemes = schemes
        keyed = secrets.map { HMAC<SHA256>(key: SymmetricKey(data: $0.key)) }
        githubKeyed = secrets.first.map { HMAC<SHA256>(key: SymmetricKey(data: Array($0.text.utf8))) }
    }

    /// The signature headers for one message. With no secrets only the id and timestamp are sent.
    public func headers(id: String, timestamp: Int64, body: UnsafeRawBufferPointer) -> [(String, String)] {
        let time = String(timestamp)
        var headers = [("webhook-id", id), ("webhook-timestamp", time)]
        guard !secrets.isEmpty else { return headers }
        if schemes.contains(.standard) {
            var signed = Array(id.utf8)
            signed.append(UInt8(ascii: "."))
            signed += time.utf8
            signed.append(UInt8(ascii: "."))
            let signatures = signed.withUnsafeBytes { prefix in
                keyed.map { base in
                    var mac = base
                    mac.update(data: prefix)
                    mac.update(data: body)
                    return "v1," + Data(mac.finalize()).base64EncodedString()
                }
            }
            headers.append(("webhook-signature", signatures.joined(separator: " ")))
        }
        if schemes.contains(.github), var mac = githubKeyed {
            mac.update(data: body)
            headers.append(("x-hub-signature-256", "sha256=" + mac.finalize().map { Self.hexDigits[Int($0)] }.joined()))
        }
        return headers
    }

    /// Base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
    public static func standardSignature(key: [UInt8], id: String, timestamp: Int64, body: UnsafeRawBufferPointer) -> String {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: key))
        hmac.update(data: Array("\(id).\(timestamp).".utf8))
        hmac.update(data: body)
        return Data(hmac.finalize()).base64EncodedString()
    }

    private static let hexDigits = (0..<256).map { String(format: "%02x", $0) }

    public enum VerificationError: Error, Sendable, Equatable, CustomStringConvertible {
        case missingHeader(String)
        case badTimestamp(String)
        case timestampOutOfTolerance(seconds: Int64, tolerance: Int64)
        case noMatchingSignature
        case noMatchingGitHubSignature

        public var description: String {
            switch self {
            case let .missingHeader(name): return "the \(name) header is missing"
            case let .badTimestamp(value): return "webhook-timestamp '\(value)' is not an integer number of seconds"
            case let .timestampOutOfTolerance(seconds, tolerance):
                return "webhook-timestamp is \(seconds) s away from now, more than the \(tolerance) s allowed (a replay, or clock skew?)"
            case .noMatchingSignature: return "no signature in webhook-signature matches the body and secret"
            case .noMatchingGitHubSignature:
                return "x-hub-signature-256 does not match the body and secret (it is keyed with the secret's text, whsec_ prefix included)"
            }
        }
    }

    /// Checks a received message as the reference verifiers do: timestamp within `tolerance`
    /// seconds of `now`, and some `v1,` signature matching some secret (compared in constant time).
    public static func verify(
        id: String?, timestamp: String?, signature: String?, body: UnsafeRawBufferPointer,
        secrets: [WebhookSecret], now: Int64, tolerance: Int64 = 300
    ) throws(VerificationError) {
        guard let id else { throw .missingHeader("webhook-id") }
        guard let timestamp else { throw .missingHeader("webhook-timestamp") }
        guard let signature else { throw .missingHeader("webhook-signature") }
        guard let seconds = Int64(timestamp) else { throw .badTimestamp(timestamp) }
        guard abs(now - seconds) <= tolerance else { throw .timestampOutOfTolerance(seconds: now - seconds, tolerance: tolerance) }
        let offered = signature.split(separator: " ").compactMap { part -> [UInt8]? in
            guard part.hasPrefix("v1,") else { return nil }
            return Data(base64Encoded: String(part.dropFirst(3))).map(Array.init)
        }
        for secret in secrets {
            var hmac = HMAC<SHA256>(key: SymmetricKey(data: secret.key))
            hmac.update(data: Array("\(id).\(seconds).".utf8))
            hmac.update(data: body)
            let expected = hmac.finalize()
            for candidate in offered where expected == candidate.withUnsafeBytes({ Data($0) }) {
                return
            }
        }
        throw .noMatchingSignature
    }
}

extension WebhookSecret {
    /// Reads secrets from a file: one per line; blank lines and `#` comments are ignored.
    public static func load(file path: String) throws -> [WebhookSecret] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SecretFileError(path: path, reason: "cannot be read (\((error as NSError).localizedDescription))")
        }
        return try parse(list: text, source: path)
    }

    /// Parses secrets separated by newlines or spaces (the `HOOKRELAY_SECRET` form).
    public static func parse(list text: String, source: String) throws -> [WebhookSecret] {
        var secrets: [WebhookSecret] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for word in content.split(separator: " ") where !word.isEmpty {
                do {
                    secrets.append(try WebhookSecret(String(word)))
                } catch {
                    throw SecretFileError(path: source, reason: error.description)
                }
            }
        }
        if secrets.isEmpty { throw SecretFileError(path: source, reason: "holds no secret") }
        return secrets
    }
}

public struct SecretFileError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}
