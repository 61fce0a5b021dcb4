import Crypto

/// Which fields identify a finding: the id that wins when present, and the fields hashed when
/// it is not (`--fingerprint-fields`). Changing either changes every fingerprint made with it.
public struct FingerprintRule: Sendable, Equatable {
    /// The scanner's own identifier of the finding; nil: always hash the fields.
    public var idPath: String?
    /// The fields hashed, in this order, when the event has no usable id.
    public var fields: [String]

    public static let defaultIDPath = "finding.id"
    public static let defaultFields = ["finding.asset", "finding.title", "finding.url", "finding.parameter"]
    /// With the layout's paths this stays within ``FieldSelector/maxPaths``.
    public static let maxFields = 16

    public init(idPath: String? = FingerprintRule.defaultIDPath, fields: [String] = FingerprintRule.defaultFields) {
        self.idPath = idPath
        self.fields = fields
    }

    /// The paths the scanner must extract: the id's (when set), then the fields.
    public var paths: [String] { (idPath.map { [$0] } ?? []) + fields }
}

/// A finding's fingerprint: what stays the same each time a scanner reports the same finding.
///
/// It is the finding's id (`finding.id`, a string or a number) when it has a usable one, else
/// `fp_` and 32 hex digits: the first 16 bytes of the SHA-256 of the rule's fields, each
/// normalised (see ``Fingerprinter``). An event with neither the id nor any of the fields has
/// no fingerprint.
public struct Fingerprint: Sendable, Hashable, CustomStringConvertible {
    public enum Source: Sendable, Hashable {
        /// The event's own id.
        case id
        /// The hash of the rule's fields.
        case fields
    }

    public let source: Source
    /// The id, or `fp_` and the hash in hex: one line of text, no control characters.
    public let text: String

    public var description: String { text }
}

/// What `filter --unique` compares: 128 bits of a SHA-256 over the fingerprint's material and,
/// unless told otherwise, the severity.
public struct FingerprintKey: Sendable, Hashable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
}

/// Computes fingerprints of records scanned with ``selector``: the layout's paths, then the
/// rule's, so the layout's slots (and ``Filter``) are unchanged.
///
/// Normalisation, so that the same finding reported twice gets the same fingerprint:
/// - Strings are unescaped, put in Unicode NFC, and trimmed of leading and trailing white space.
///   A string that is then empty counts as absent, and so does `null`.
/// - A field whose last member is `asset`, `host` or `hostname` is lowercased whole; one named
///   `url` or `uri` has its scheme and host lowercased (not its path or query).
/// - A number, `true` or `false` is taken as written (`1.0` and `1` differ); an object or an
///   array only as present (its contents are not read: point the rule at strings).
/// - The hashed message is `hookrelay-fingerprint/1`, then for each field its path and either an
///   absent mark or a type tag and the value, each part preceded by its length: ("a", "bc") and
///   ("ab", "c") differ, a missing field differs from an empty one's neighbour, and the paths
///   themselves are hashed, so changing the fields changes every fingerprint.
/// - An id is used when it is a number, or a string that is not empty after trimming and has no
///   control characters; the fingerprint is then the id as text (trimmed, NFC). `"7"` and `7`
///   are the same id.
public struct Fingerprinter: Sendable {
    public let rule: FingerprintRule
    public let layout: EventLayout
    /// The slot of the rule's first path in ``selector``.
    public let firstSlot: Int

    private enum FieldKind: Sendable { case plain, host, url }
    private let fieldKinds: [FieldKind]
    private let encodedPaths: [[UInt8]]

    public init(rule: FingerprintRule = FingerprintRule(), layout: EventLayout = EventLayout()) {
        self.rule = rule
        self.layout = layout
        firstSlot = layout.paths.count
        fieldKinds = rule.fields.map { path in
            switch path.split(separator: ".").last.map(String.init) {
            case "asset", "host", "hostname": return .host
            case "url", "uri": return .url
            default: return .plain
            }
        }
        encodedPaths = rule.fields.map { Array($0.utf8) }
    }

    /// The scanner's selector: the layout's paths, then the rule's.
    public var selector: FieldSelector { FieldSelector(layout.paths + rule.paths) }

    private var idSlot: Int? { rule.idPath == nil ? nil : firstSlot }
    private var fieldSlots: Range<Int> {
        let start = firstSlot + (rule.idPath == nil ? 0 : 1)
        return start..<(start + rule.fields.count)
    }

    /// The record's fingerprint, or nil when it has neither the id nor any of the fields.
    public func fingerprint(of record: RecordView) -> Fingerprint? {
        switch material(of: record) {
        case let .id(id)?:
            return Fingerprint(source: .id, text: String(decoding: id, as: UTF8.self))
        case let .fields(message)?:
            return Fingerprint(source: .fields, text: "fp_" + Self.hex(SHA256.hash(data: message).prefix(16)))
        case nil:
            return nil
        }
    }

    /// The key `--unique` compares: the fingerprint's material and, with `severity`, the event's
    /// severity (a known one by name, any case; another value as written), so a change of
    /// severity is not a duplicate. Nil when the record has no fingerprint.
    public func key(of record: RecordView, severity: Bool) -> FingerprintKey? {
        guard let material = material(of: record) else { return nil }
        var message = Array("hookrelay-unique/1".utf8)
        switch material {
        case let .id(id):
            message.append(UInt8(ascii: "i"))
            Self.appendPart(id, to: &message)
        case let .fields(fields):
            message.append(UInt8(ascii: "f"))
            Self.appendPart(fields, to: &message)
        }
        if severity {
            if let slot = EventLayout.firstPresent(layout.severitySlots, in: record) {
                message.append(UInt8(ascii: "s"))
                Self.appendPart(severityBytes(record, slot: slot), to: &message)
            } else {
                message.append(0)
            }
        }
        return SHA256.hash(data: message).withUnsafeBytes { digest in
            FingerprintKey(
                high: UInt64(bigEndian: digest.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                low: UInt64(bigEndian: digest.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }

    /// The fingerprint of one JSON event given as bytes (`serve`, tests); nil when it has none
    /// or is not a valid JSON object.
    public func fingerprint(ofEvent bytes: [UInt8]) -> Fingerprint? {
        RecordView.ofEvent(bytes, selector: selector) { fingerprint(of: $0) }
    }

    private enum Material {
        case id([UInt8])
        case fields([UInt8])
    }

    private func material(of record: RecordView) -> Material? {
        if let idSlot, let id = usableID(record, slot: idSlot) { return .id(id) }
        var message = Array("hookrelay-fingerprint/1".utf8)
        var found = false
        for (index, slot) in fieldSlots.enumerated() {
            Self.appendPart(encodedPaths[index], to: &message)
            guard let (tag, value) = fieldValue(record, slot: slot, kind: fieldKinds[index]) else {
                message.append(0)
                continue
            }
            found = true
            message.append(tag)
            Self.appendPart(value, to: &message)
        }
        return found ? .fields(message) : nil
    }

    private func usableID(_ record: RecordView, slot: Int) -> [UInt8]? {
        let value = record.value(slot)
        switch value.kind {
        case .absent:
            return nil
        case .other:
            let raw = Self.raw(record, value)
            // A number starts with a digit or a minus; true, false, null, objects and arrays don't count.
            guard let first = raw.first, first == UInt8(ascii: "-") || (0x30...0x39).contains(first) else { return nil }
            return raw
        case .string, .escapedString:
            guard let text = record.string(slot) else { return nil }
            let id = FingerprintText.normalised(text)
            guard !id.isEmpty, !String(decoding: id, as: UTF8.self).unicodeScalars.contains(where: JSONString.isControl)
            else { return nil }
            return id
        }
    }

    /// A field's type tag and normalised value; nil when absent, null or empty.
    private func fieldValue(_ record: RecordView, slot: Int, kind: FieldKind) -> (UInt8, [UInt8])? {
        let value = record.value(slot)
        switch value.kind {
        case .absent:
            return nil
        case .other:
            let raw = Self.raw(record, value)
            if raw.elementsEqual("null".utf8) { return nil }
            // The scanner gives an object or an array an empty range: it counts as present only.
            return raw.isEmpty ? (UInt8(ascii: "j"), []) : (UInt8(ascii: "n"), raw)
        case .string, .escapedString:
            guard let text = record.string(slot) else { return nil }
            var normalised = FingerprintText.normalised(text)
            if normalised.isEmpty { return nil }
            switch kind {
            case .plain: break
            case .host: normalised = FingerprintText.lowercased(normalised)
            case .url: FingerprintText.lowercaseSchemeAndHost(&normalised)
            }
            return (UInt8(ascii: "s"), normalised)
        }
    }

    private func severityBytes(_ record: RecordView, slot: Int) -> [UInt8] {
        if let text = record.string(slot) {
            if let known = Severity(utf8: text) { return Array(known.description.utf8) }
            return text
        }
        return Self.raw(record, record.value(slot))
    }

    private static func raw(_ record: RecordView, _ value: ExtractedFields.Value) -> [UInt8] {
        Array(UnsafeRawBufferPointer(rebasing: record.buffer[value.start..<value.end]))
    }

    /// A part of a hashed message: its length (8 bytes, big-endian), then its bytes.
    private static func appendPart(_ bytes: [UInt8], to message: inout [UInt8]) {
        withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { message.append(contentsOf: $0) }
        message.append(contentsOf: bytes)
    }

    static func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
