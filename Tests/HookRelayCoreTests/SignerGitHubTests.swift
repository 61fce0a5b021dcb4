import HookRelayCore
import Testing

/// `Signer.verifyGitHub` against what `Signer.headers` signs with the github scheme.
@Suite struct SignerGitHubTests {
    static let first = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let second = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

    func signature(_ secret: String, _ body: [UInt8]) throws -> String {
        let signer = Signer(secrets: [try WebhookSecret(secret)], schemes: [.github])
        let headers = body.withUnsafeBytes { signer.headers(id: "msg_1", timestamp: 1, body: $0) }
        return try #require(headers.first { $0.0 == "x-hub-signature-256" }?.1)
    }

    func verify(_ signature: String?, _ body: [UInt8], _ secrets: [String]) throws -> Signer.VerificationError? {
        let secrets = try secrets.map { try WebhookSecret($0) }
        return body.withUnsafeBytes { bytes in
            do throws(Signer.VerificationError) {
                try Signer.verifyGitHub(signature: signature, body: bytes, secrets: secrets)
                return nil
            } catch {
                return error
            }
        }
    }

    @Test func acceptsWhatTheSignerSignsWithAnyOfTheSecrets() throws {
        let body = Array(#"{"event_type":"finding"}"#.utf8)
        let signed = try signature(Self.second, body)
        #expect(signed.hasPrefix("sha256=") && signed.count == 7 + 64)
        #expect(try verify(signed, body, [Self.first, Self.second]) == nil)
        #expect(try verify("sha256=" + signed.dropFirst(7).uppercased(), body, [Self.second]) == nil)
    }

    @Test func refusesAnotherBodySecretOrForm() throws {
        let body = Array(#"{"event_type":"finding"}"#.utf8)
        let signed = try signature(Self.first, body)
        #expect(try verify(signed, body + [0x20], [Self.first]) == .noMatchingGitHubSignature)
        #expect(try verify(signed, body, [Self.second]) == .noMatchingGitHubSignature)
        #expect(try verify("sha1=" + signed.dropFirst(7), body, [Self.first]) == .noMatchingGitHubSignature)
        #expect(try verify(String(signed.dropLast()), body, [Self.first]) == .noMatchingGitHubSignature)
        #expect(try verify(String(signed.dropLast(2)) + "zz", body, [Self.first]) == .noMatchingGitHubSignature)
        #expect(try verify(nil, body, [Self.first]) == .missingHeader("x-hub-signature-256"))
    }
}
