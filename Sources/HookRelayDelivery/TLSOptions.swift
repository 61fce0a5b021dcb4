import Foundation
import NIOSSL

/// A client certificate (with its key) and trust for TLS connections to receivers, as PEM text.
///
/// `ca` (a webhook's own bundle) replaces the system's trust store for that receiver;
/// `addedCA` (config `ca_file`, `--ca-file`) is trusted besides it. Key material never leaves
/// this value in any message: problems and summaries name certificates by subject and expiry.
public struct TLSOptions: Sendable, Hashable {
    public var certificate: String?
    public var key: String?
    public var ca: String?
    public var addedCA: String?

    public init(certificate: String? = nil, key: String? = nil, ca: String? = nil, addedCA: String? = nil) {
        self.certificate = certificate
        self.key = key
        self.ca = ca
        self.addedCA = addedCA
    }

    public var isEmpty: Bool { certificate == nil && key == nil && ca == nil && addedCA == nil }

    /// These options with a webhook's: its certificate and key replace these, its CA bundle
    /// replaces every trust root.
    public func merged(with other: TLSOptions) -> TLSOptions {
        var merged = self
        if other.certificate != nil || other.key != nil { (merged.certificate, merged.key) = (other.certificate, other.key) }
        if let ca = other.ca { (merged.ca, merged.addedCA) = (ca, nil) }
        return merged
    }

    /// Why TLS material cannot be used; never holds the material.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The client configuration these options make.
    func configuration() throws(Problem) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let ca {
            configuration.trustRoots = .certificates(try Self.certificates(ca, what: "the CA bundle"))
        } else if let addedCA {
            configuration.additionalTrustRoots = [.certificates(try Self.certificates(addedCA, what: "the CA file"))]
        }
        switch (certificate, key) {
        case (nil, nil): break
        case (.some, nil): throw Problem(description: "a client certificate needs its private key; give the key too")
        case (nil, .some): throw Problem(description: "a client key needs its certificate; give the certificate too")
        case let (certificate?, key?):
            let chain = try Self.certificates(certificate, what: "the client certificate")
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(try Self.privateKey(key))
        }
        return configuration
    }

    /// The TLS context, checked whole: a key that does not belong to the certificate fails here.
    func context() throws(Problem) -> NIOSSLContext {
        let configuration = try configuration()
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            // The key parsed on its own (``privateKey(_:)``): failing to load it beside the
            // certificate means it is not the certificate's.
            if certificate != nil, let error = error as? NIOSSLError, case .failedToLoadPrivateKey = error {
                throw Problem(description: "the client key does not belong to the client certificate; give the key the certificate was issued for")
            }
            throw Problem(description: "the TLS settings cannot be used (\(Self.reason(error)))")
        }
    }

    /// Checks the options as given to a webhook or on a command line: every PEM parses, a
    /// certificate comes with its key and the key matches it.
    public func check() throws(Problem) {
        _ = try context()
    }

    /// What can be shown of PEM certificates: the first one's subject (`CN=…`: NIOSSL exposes
    /// the common name only) and expiry (Unix seconds), and how many there are.
    public static func certificateSummary(_ pem: String) -> (subject: String, expires: Int64?, count: Int) {
        guard let all = try? certificates(pem, what: ""), let first = all.first else { return ("unreadable", nil, 0) }
        let text = first.description
        let name = text.range(of: ";common_name=").map { String(text[$0.upperBound...].prefix { $0 != ";" && $0 != ">" }) }
        return (name.map { "CN=\($0)" } ?? "no common name", Int64(first.notValidAfter), all.count)
    }

    /// `CN=name, expires 2027-01-31`, with the count when there are several (a CA bundle).
    public static func summary(_ pem: String) -> String {
        let summary = certificateSummary(pem)
        guard let expires = summary.expires else { return summary.subject }
        let day = ISO8601DateFormatter.string(
            from: Date(timeIntervalSince1970: TimeInterval(expires)), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        let described = "\(summary.subject), expires \(day)"
        return summary.count == 1 ? described : "\(summary.count) certificates, the first \(described)"
    }

    static func certificates(_ pem: String, what: String) throws(Problem) -> [NIOSSLCertificate] {
        guard pem.contains("-----BEGIN CERTIFICATE-----") else {
            throw Problem(description: "\(what) is not PEM text: expected -----BEGIN CERTIFICATE-----")
        }
        do {
            let all = try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
            guard !all.isEmpty else { throw Problem(description: "\(what) holds no certificate") }
            return all
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(description: "\(what) does not parse as PEM certificates (\(reason(error)))")
        }
    }

    static func privateKey(_ pem: String) throws(Problem) -> NIOSSLPrivateKey {
        guard pem.contains("-----BEGIN") && pem.contains("PRIVATE KEY-----") else {
            throw Problem(description: "the client key is not PEM text: expected -----BEGIN PRIVATE KEY-----")
        }
        if pem.contains("ENCRYPTED") {
            throw Problem(description: "the client key is encrypted; give it unencrypted (openssl pkey -in KEY -out PLAIN)")
        }
        do {
            return try NIOSSLPrivateKey(bytes: Array(pem.utf8), format: .pem)
        } catch {
            throw Problem(description: "the client key does not parse as a PEM private key (\(reason(error)))")
        }
    }

    /// The last part of a BoringSSL error (`…:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED`).
    static func reason(_ error: any Error) -> String {
        let text = "\(error)"
        guard let range = text.range(of: "OPENSSL_internal:") else { return text }
        return String(text[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" })
    }
}
