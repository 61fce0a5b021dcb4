/// Why a record is not a valid JSON object, and where the scanner noticed.
///
/// `offset` counts bytes from the start of the record; `newlines` counts the line breaks
/// between the start of the record and `offset`, so a reader can turn both into a line and a
/// byte offset in its input.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The input ended inside a value.
        case unexpectedEnd
        /// A byte that cannot appear here; `expected` names what could.
        case unexpectedByte(UInt8, expected: String)
        case controlCharacterInString(UInt8)
        case invalidEscape(UInt8)
        case invalidUnicodeEscape
        case loneSurrogate(UInt16)
        case invalidUTF8(UInt8)
        case invalidNumber(String)
        case invalidLiteral
        case tooDeep(limit: Int)
        /// A complete, valid JSON value that is not an object (`kind` is "array", "string", …).
        case notAnObject(kind: String)
        case tooLarge(limit: Int)
    }

    public var reason: Reason
    public var offset: Int
    public var newlines: Int

    public init(_ reason: Reason, offset: Int, newlines: Int) {
        self.reason = reason
        self.offset = offset
        self.newlines = newlines
    }

    public var description: String {
        switch reason {
        case .unexpectedEnd:
            return "unexpected end of input inside a JSON value (truncated record)"
        case let .unexpectedByte(byte, expected):
            return "unexpected \(Self.show(byte)); expected \(expected)"
        case let .controlCharacterInString(byte):
            return "unescaped control character \(Self.hex(byte)) inside a string; escape it (\\n, \\t, \\u00XX)"
        case let .invalidEscape(byte):
            return "invalid escape sequence '\\\(Self.printable(byte))' in a string; allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX"
        case .invalidUnicodeEscape:
            return "invalid \\u escape in a string: expected four hex digits"
        case let .loneSurrogate(unit):
            let hexUnit = String(unit, radix: 16, uppercase: true)
            return "lone UTF-16 surrogate \\u\(hexUnit) in a string (not a Unicode character)"
        case let .invalidUTF8(byte):
            return "invalid UTF-8 byte \(Self.hex(byte)) in a string; input must be UTF-8"
        case let .invalidNumber(detail):
            return "invalid number: \(detail)"
        case .invalidLiteral:
            return "invalid literal; expected true, false or null"
        case let .tooDeep(limit):
            return "nesting deeper than \(limit) levels"
        case let .notAnObject(kind):
            return "record is a JSON \(kind), not an object; each event must be a JSON object"
        case let .tooLarge(limit):
            return "record is larger than --max-record-size (\(ByteCount.format(limit)))"
        }
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return "0x" + (digits.count == 1 ? "0" + digits : digits)
    }

    static func printable(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : hex(byte)
    }

    static func show(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(String(UnicodeScalar(byte)))'" : "byte \(hex(byte))"
    }
}

/// Formats and parses byte counts such as `16 MiB` or `64k`.
public enum ByteCount {
    public static func format(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }

    /// Parses `1048576`, `512k`, `16M`, `1G` (binary units, case-insensitive, optional `iB`/`B`).
    public static func parse(_ text: String) -> Int? {
        var digits = Substring(text.lowercased())
        for suffix in ["ib", "b"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits = digits.dropLast(suffix.count)
            break
        }
        var shift = 0
        switch digits.last {
        case "k": shift = 10
        case "m": shift = 20
        case "g": shift = 30
        default: break
        }
        if shift > 0 { digits = digits.dropLast() }
        guard let value = Int(digits), value > 0, value <= (Int.max >> shift) else { return nil }
        return value << shift
    }
}
