import Crypto

/// What de-duplication compares: the finding's fingerprint, its severity (unless ignored) and
/// its status, hashed into one key.
public struct DedupeKey: Sendable, Hashable {
    public let fingerprint: Fingerprint
    /// 32 hex digits: the first 16 bytes of a SHA-256.
    public let text: String
}

extension Fingerprinter {
    /// The path of a finding's status: a report that it is `fixed` has another key than the
    /// report that found it, so it is never suppressed as a duplicate.
    public static let statusPath = "finding.status"

    /// The de-duplication key of one JSON event given as bytes: nil when it has no fingerprint
    /// (it is then always sent) or is not a valid JSON object. The key is SHA-256 over
    /// `hookrelay-dedupe/1`, ``key(of:severity:)`` (the fingerprint's material and, with
    /// `severity`, the severity) and the normalised `finding.status` (or an absent mark).
    public func dedupeKey(ofEvent bytes: [UInt8], severity: Bool) -> DedupeKey? {
        let paths = layout.paths + rule.paths + [Self.statusPath]
        let scanner = JSONScanner(selector: FieldSelector(paths))
        let statusSlot = paths.count - 1
        return bytes.withUnsafeBytes { buffer -> DedupeKey? in
            guard case let .complete(end, _, true) = scanner.scan(buffer, from: 0, isEOF: true) else { return nil }
            let record = RecordView(buffer: buffer, range: 0..<end, fields: scanner.fields, line: 1, offset: 0)
            guard let fingerprint = fingerprint(of: record), let key = key(of: record, severity: severity) else { return nil }
            var message = Array("hookrelay-dedupe/1".utf8)
            withUnsafeBytes(of: key.high.bigEndian) { message.append(contentsOf: $0) }
            withUnsafeBytes(of: key.low.bigEndian) { message.append(contentsOf: $0) }
            if let status = record.string(statusSlot).map(FingerprintText.normalised).map(FingerprintText.lowercased), !status.isEmpty {
                message.append(UInt8(ascii: "s"))
                withUnsafeBytes(of: UInt64(status.count).bigEndian) { message.append(contentsOf: $0) }
                message.append(contentsOf: status)
            } else {
                message.append(0)
            }
            return DedupeKey(fingerprint: fingerprint, text: Self.hex(SHA256.hash(data: message).prefix(16)))
        }
    }
}
