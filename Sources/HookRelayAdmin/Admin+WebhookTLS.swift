import Foundation
import HookRelayDelivery
import HookRelayStore

extension Admin {
    /// The fields `client_cert`, `client_key` (PEM text, for receivers that require mutual TLS)
    /// and `ca` (a PEM CA bundle): each replaces what is stored, `null` removes it (`client_cert`
    /// with its key), and what the API showed for it (an object) keeps it. The result is checked
    /// whole: every PEM parses, a certificate has its key, and the key belongs to it. Messages
    /// never hold key material.
    func applyTLS(_ object: [String: Any], to webhook: inout Webhook) throws {
        func invalid(_ message: String) -> AdminError { AdminError.invalid(message) }
        /// The new value: .some(nil) to remove, nil to keep.
        func pem(_ field: String, stored: String?, begins: String) throws -> String?? {
            guard let value = object[field] else { return nil }
            if value is NSNull { return .some(nil) }
            if value is [String: Any] {
                // The summary shown by the API given back: keeps the stored value.
                guard stored != nil else { throw invalid("\"\(field)\": give PEM text (\(begins)...); an object only stands for a value already stored") }
                return nil
            }
            guard let text = value as? String, !text.isEmpty else {
                throw invalid("\"\(field)\" must be PEM text (\(begins)...), or null to remove it")
            }
            return .some(text)
        }
        let certificate = try pem("client_cert", stored: webhook.clientCertificate, begins: "-----BEGIN CERTIFICATE-----")
        let key = try pem("client_key", stored: webhook.clientKey, begins: "-----BEGIN PRIVATE KEY-----")
        let ca = try pem("ca", stored: webhook.ca, begins: "-----BEGIN CERTIFICATE-----")
        guard certificate != nil || key != nil || ca != nil else { return }
        var next = webhook
        if let certificate {
            next.clientCertificate = certificate
            // Removing the certificate removes its key; a new one without a key keeps the stored key (checked below).
            if certificate == nil, key == nil { next.clientKey = nil }
        }
        if let key { next.clientKey = key }
        if let ca { next.ca = ca }
        if let ca = next.ca {
            do {
                try TLSOptions(ca: ca).check()
            } catch {
                throw invalid("\"ca\": \(error.description)")
            }
        }
        do {
            try TLSOptions(certificate: next.clientCertificate, key: next.clientKey).check()
        } catch {
            // The field the problem is with: the key's own, or a missing key; else the certificate's.
            let keyProblem = error.description.hasPrefix("the client key") || error.description.hasPrefix("a client certificate needs")
            let field = keyProblem ? "client_key" : "client_cert"
            throw invalid("\"\(field)\": \(error.description)")
        }
        (webhook.clientCertificate, webhook.clientKey, webhook.ca) = (next.clientCertificate, next.clientKey, next.ca)
    }
}

extension Webhook {
    /// Its own client certificate and trust for the sender; nil when it has none.
    public var tlsOptions: TLSOptions? {
        guard clientCertificate != nil || ca != nil else { return nil }
        return TLSOptions(certificate: clientCertificate, key: clientKey, ca: ca)
    }

    /// What may be shown of its client certificate: subject and expiry (never the PEM).
    public var clientCertificateSummary: String? { clientCertificate.map(TLSOptions.summary) }

    /// What may be shown of its CA bundle.
    public var caSummary: String? { ca.map(TLSOptions.summary) }
}
