import Foundation
import Testing
@testable import HookRelayCore

/// Signing per Standard Webhooks 1.0, checked against the specification's published test vector.
@Suite struct SignerTests {
    // The test vector of the Standard Webhooks specification and its reference libraries.
    static let secretText = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let messageID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestamp: Int64 = 1_614_265_330
    static let body = #"{"test": 2432232314}"#
    static let signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    /// A second secret (32 bytes 0x01…0x20), for rotation.
    static let otherSecretText = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

    func headers(_ signer: Signer, body: String = body, id: String = messageID, timestamp: Int64 = timestamp) -> [String: String] {
        let pairs = Array(body.utf8).withUnsafeBytes { signer.headers(id: id, timestamp: timestamp, body: $0) }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    func verify(
        body: String = body, signature: String = signature, secrets: [String] = [secretText], now: Int64 = timestamp
    ) throws(Signer.VerificationError) {
        try Self.verify(id: Self.messageID, signature: signature, body: body, secrets: secrets.map { try! WebhookSecret($0) }, now: now)
    }

    /// `Signer.verify` over a string body (`withUnsafeBytes` does not pass typed throws on).
    static func verify(
        id: String?, timestamp: String? = String(timestamp), signature: String?, body: String, secrets: [WebhookSecret], now: Int64
    ) throws(Signer.VerificationError) {
        let failure = Array(body.utf8).withUnsafeBytes { bytes -> Signer.VerificationError? in
            do throws(Signer.VerificationError) {
                try Signer.verify(id: id, timestamp: timestamp, signature: signature, body: bytes, secrets: secrets, now: now)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    @Test func publishedTestVector() throws {
        let signer = Signer(secrets: [try WebhookSecret(Self.secretText)])
        let headers = headers(signer)
        #expect(headers["webhook-id"] == Self.messageID)
        #expect(headers["webhook-timestamp"] == "1614265330")
        #expect(headers["webhook-signature"] == Self.signature)
        #expect(headers["x-hub-signature-256"] == nil)
    }

    @Test func standardSignatureOfTheVector() throws {
        let key = try WebhookSecret(Self.secretText).key
        #expect(key.count == 24)
        let signature = Array(Self.body.utf8).withUnsafeBytes {
            Signer.standardSignature(key: key, id: Self.messageID, timestamp: Self.timestamp, body: $0)
        }
        #expect("v1," + signature == Self.signature)
    }

    @Test func theWhsecPrefixIsOptional() throws {
        let bare = try WebhookSecret(String(Self.secretText.dropFirst("whsec_".count)))
        #expect(bare.key == (try WebhookSecret(Self.secretText)).key)
    }

    @Test func verifyAcceptsTheVector() throws {
        try verify()
        // Within the ±5 minutes the reference verifiers allow, either way.
        try verify(now: Self.timestamp + 299)
        try verify(now: Self.timestamp - 299)
        // Among other signatures, and after an unknown version.
        try verify(signature: "v2,AAAA v1,bm90IGl0 " + Self.signature)
    }

    @Test func verifyRejectsAChangedBody() {
        #expect(throws: Signer.VerificationError.noMatchingSignature) {
            try verify(body: #"{"test": 2432232315}"#)
        }
        #expect(throws: Signer.VerificationError.noMatchingSignature) {
            try verify(body: #"{"test":2432232314}"#)
        }
    }

    @Test func verifyRejectsAWrongSecret() {
        #expect(throws: Signer.VerificationError.noMatchingSignature) {
            try verify(secrets: [Self.otherSecretText])
        }
    }

    @Test func verifyRejectsATimestampSixMinutesOff() {
        #expect(throws: Signer.VerificationError.timestampOutOfTolerance(seconds: 360, tolerance: 300)) {
            try verify(now: Self.timestamp + 360)
        }
        #expect(throws: Signer.VerificationError.timestampOutOfTolerance(seconds: -360, tolerance: 300)) {
            try verify(now: Self.timestamp - 360)
        }
    }

    @Test func verifyNamesAMissingHeaderOrABadTimestamp() throws {
        let secret = try WebhookSecret(Self.secretText)
        #expect(throws: Signer.VerificationError.missingHeader("webhook-signature")) {
            try Self.verify(id: Self.messageID, signature: nil, body: Self.body, secrets: [secret], now: Self.timestamp)
        }
        #expect(throws: Signer.VerificationError.missingHeader("webhook-id")) {
            try Self.verify(id: nil, signature: Self.signature, body: Self.body, secrets: [secret], now: Self.timestamp)
        }
        #expect(throws: Signer.VerificationError.badTimestamp("soon")) {
            try Self.verify(id: Self.messageID, timestamp: "soon", signature: Self.signature, body: Self.body, secrets: [secret], now: Self.timestamp)
        }
    }

    @Test func severalSecretsGiveSpaceSeparatedSignatures() throws {
        let first = try WebhookSecret(Self.secretText)
        let second = try WebhookSecret(Self.otherSecretText)
        let header = try #require(headers(Signer(secrets: [first, second]))["webhook-signature"])
        let parts = header.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        #expect(parts.count == 2)
        #expect(parts[0] == Self.signature)
        let expectedSecond = Array(Self.body.utf8).withUnsafeBytes {
            "v1," + Signer.standardSignature(key: second.key, id: Self.messageID, timestamp: Self.timestamp, body: $0)
        }
        #expect(parts[1] == expectedSecond)
        #expect(parts[0] != parts[1])
        #expect(header == parts[0] + " " + parts[1])
        // A receiver that knows only the new secret accepts the message.
        try verify(signature: header, secrets: [Self.otherSecretText])
    }

    @Test func secretListFromTheEnvironmentForm() throws {
        let secrets = try WebhookSecret.parse(list: "\(Self.secretText) \(Self.otherSecretText)", source: "HOOKRELAY_SECRET")
        #expect(secrets.map(\.text) == [Self.secretText, Self.otherSecretText])
        #expect(throws: SecretFileError.self) { try WebhookSecret.parse(list: "  # nothing\n", source: "x") }
    }

    @Test func githubSchemeSignsTheBodyWithTheSecretText() throws {
        let signer = Signer(secrets: [try WebhookSecret(Self.secretText)], schemes: [.standard, .github])
        let headers = headers(signer)
        #expect(headers["webhook-signature"] == Self.signature)
        // HMAC-SHA256 of the body keyed with the secret as written, computed with Python's hmac.
        #expect(headers["x-hub-signature-256"] == "sha256=80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c")
    }

    @Test(arguments: [
        (23, "the secret is 23 bytes long; Standard Webhooks secrets are 24 to 64 random bytes"),
        (65, "the secret is 65 bytes long; Standard Webhooks secrets are 24 to 64 random bytes"),
    ])
    func secretLengthIsChecked(_ count: Int, _ message: String) {
        let text = "whsec_" + Data(repeating: 0x78, count: count).base64EncodedString()
        #expect(throws: WebhookSecret.ParseError.badLength(count)) { try WebhookSecret(text) }
        #expect(WebhookSecret.ParseError.badLength(count).description == message)
    }

    @Test func secretLengthBoundsAreAccepted() throws {
        for count in [24, 64] {
            let secret = try WebhookSecret("whsec_" + Data(repeating: 0x78, count: count).base64EncodedString())
            #expect(secret.key.count == count)
        }
    }

    @Test(arguments: ["whsec_not base64!", "whsec_@@@@", "whsec_AQID-A=="])
    func nonBase64SecretIsRefused(_ text: String) {
        #expect(throws: WebhookSecret.ParseError.notBase64) { try WebhookSecret(text) }
    }

    @Test func notBase64Message() {
        #expect(WebhookSecret.ParseError.notBase64.description
            == "the secret is not base64 after its 'whsec_' prefix; generate one with 'hookrelay sign --new-secret'")
    }

    @Test func secretsNeverShowTheirKey() throws {
        let secret = try WebhookSecret(Self.secretText)
        #expect(!"\(secret)".contains("MfKQ9r8"))
    }
}

/// The `webhook-id` of an event.
@Suite struct MessageIDTests {
    func make(_ eventID: String?, _ body: String) -> String {
        Array(body.utf8).withUnsafeBytes { MessageID.make(eventID: eventID.map { Array($0.utf8) }, body: $0) }
    }

    @Test func usesTheEventID() {
        #expect(make("evt-42", #"{"id":"evt-42"}"#) == "evt-42")
    }

    @Test func withoutAnIDTheBodyHashIsUsed() {
        let body = #"{"event_type":"finding"}"#
        // The first 16 bytes of SHA-256 of the body, in hex (from sha256sum).
        #expect(make(nil, body) == "msg_a72e4601cbfb86676b62a4b1483f8035")
    }

    @Test func stableForTheSameBody() {
        let body = #"{"event_type":"finding","finding":{"severity":"high"}}"#
        let id = make(nil, body)
        #expect(id == make(nil, body))
        #expect(id != make(nil, body + " "))
        #expect(id.hasPrefix("msg_"))
        let hex = id.dropFirst(4)
        #expect(hex.count == 32)
        #expect(hex.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test(arguments: ["", "has space", "new\nline", String(repeating: "x", count: 257)])
    func unusableEventIDsFallBackToTheHash(_ eventID: String) {
        let body = #"{"event_type":"finding"}"#
        #expect(make(eventID, body) == "msg_a72e4601cbfb86676b62a4b1483f8035")
    }
}
