import Crypto

extension Signer {
    /// Checks GitHub's `x-hub-signature-256: sha256=<hex>` as ``headers(id:timestamp:body:)``
    /// makes it: HMAC-SHA256 of the body keyed with a secret's text (prefix included), any
    /// secret matching (compared in constant time).
    ///
    /// The scheme signs no timestamp, so unlike ``verify(id:timestamp:signature:body:secrets:now:tolerance:)``
    /// it cannot tell a replayed request.
    public static func verifyGitHub(
        signature: String?, body: UnsafeRawBufferPointer, secrets: [WebhookSecret]
    ) throws(VerificationError) {
        guard let signature else { throw .missingHeader("x-hub-signature-256") }
        guard signature.hasPrefix("sha256="), let offered = hexBytes(signature.utf8.dropFirst(7)),
              offered.count == SHA256.byteCount
        else { throw .noMatchingGitHubSignature }
        for secret in secrets {
            let key = SymmetricKey(data: Array(secret.text.utf8))
            if HMAC<SHA256>.isValidAuthenticationCode(offered, authenticating: body, using: key) { return }
        }
        throw .noMatchingGitHubSignature
    }

    /// The bytes of hexadecimal text (either case), or nil when it is not an even run of hex digits.
    private static func hexBytes(_ text: Substring.UTF8View) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var high: UInt8?
        for character in text {
            let value: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = character - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }
}
