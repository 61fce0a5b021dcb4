import Crypto

/// The `webhook-id` of an event: its own `id` when it has one, else derived from its bytes.
public enum MessageID {
    /// `id` when present and usable as a header value, else `msg_` and 32 hex digits of the
    /// body's SHA-256, so the same input always gets the same id.
    public static func make(eventID: [UInt8]?, body: UnsafeRawBufferPointer) -> String {
        if let eventID, !eventID.isEmpty, eventID.count <= 256,
           eventID.allSatisfy({ $0 >= 0x21 && $0 < 0x7F }) {
            return String(decoding: eventID, as: UTF8.self)
        }
        let digest = SHA256.hash(data: body)
        return "msg_" + digest.prefix(16).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }.joined()
    }
}
