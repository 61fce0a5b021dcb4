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
        let statusSlot = paths.count - 1
        return RecordView.ofEvent(bytes, selector: FieldSelector(paths)) { record -> DedupeKey? in
            guard let fingerprint = fingerprint(of: record), let key = key(of: record, severity: severity) else { return nil }
            var message = Array("hookrelay-dedupe/1".utf8)
            withUnsafeBytes(of: key.high.bigEndian) { message.append(contentsOf: $0) }
            withUnsafeBytes(of: key.low.bigEndian) { message.append(contentsOf: $0) }
            if let status = record.string(statusSlot).map(Self.comparableStatus), !status.isEmpty {
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

extension Fingerprinter {
    /// A status as de-duplication and tickets compare it: NFC, trimmed, lowercased.
    static func comparableStatus(_ text: [UInt8]) -> [UInt8] { FingerprintText.lowercased(FingerprintText.normalised(text)) }

    /// Whether the JSON event's `finding.status`, compared as its de-duplication key compares it,
    /// is one of `statuses` (a ticket webhook's `ticket_fixed_statuses`).
    public static func reportsStatus(ofEvent bytes: [UInt8], in statuses: [String]) -> Bool {
        let status = RecordView.ofEvent(bytes, selector: FieldSelector([statusPath])) { $0.string(0).map(comparableStatus) }
        guard let status, !status.isEmpty else { return false }
        return statuses.contains { comparableStatus(Array($0.utf8)) == status }
    }
}
