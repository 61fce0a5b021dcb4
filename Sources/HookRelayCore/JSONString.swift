/// Scanning and unescaping of JSON strings: the scanner's hot path.
public enum JSONString {
    enum Step {
        /// `end` is the index just past the closing quote.
        case complete(end: Int, escaped: Bool)
        case needMore
        case failure(JSONSyntaxError.Reason, Int)
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Scans a string's contents starting just after its opening quote.
    @inline(__always)
    static func scan(_ p: UnsafePointer<UInt8>, from start: Int, end: Int) -> Step {
        var j = start
        var escaped = false
        while true {
            // Eight bytes at a time while none is a quote, a backslash, a control or non-ASCII byte.
            while j &+ 8 <= end {
                let word = UnsafeRawPointer(p + j).loadUnaligned(as: UInt64.self)
                let quote = word ^ (ones &* 0x22)
                let backslash = word ^ (ones &* 0x5C)
                let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
                    | (word &- ones &* 0x20) | word
                if special & highs != 0 { break }
                j &+= 8
            }
            guard j < end else { return .needMore }
            let c = p[j]
            if c == UInt8(ascii: "\"") { return .complete(end: j &+ 1, escaped: escaped) }
            if c == UInt8(ascii: "\\") {
                escaped = true
                guard j &+ 1 < end else { return .needMore }
                switch p[j &+ 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    j &+= 2
                case UInt8(ascii: "u"):
                    switch hexUnit(p, at: j &+ 2, end: end) {
                    case nil: return .needMore
                    case .some(-1): return .failure(.invalidUnicodeEscape, j)
                    case let unit?:
                        if unit & 0xFC00 == 0xDC00 { return .failure(.loneSurrogate(UInt16(unit)), j) }
                        if unit & 0xFC00 == 0xD800 {
                            // A high surrogate must be followed by an escaped low one.
                            if j &+ 6 < end, p[j &+ 6] != UInt8(ascii: "\\") { return .failure(.loneSurrogate(UInt16(unit)), j) }
                            if j &+ 7 < end, p[j &+ 7] != UInt8(ascii: "u") { return .failure(.loneSurrogate(UInt16(unit)), j) }
                            guard j &+ 12 <= end else { return .needMore }
                            guard p[j &+ 6] == UInt8(ascii: "\\"), p[j &+ 7] == UInt8(ascii: "u"),
                                  let low = hexUnit(p, at: j &+ 8, end: end), low & 0xFC00 == 0xDC00
                            else { return .failure(.loneSurrogate(UInt16(unit)), j) }
                            j &+= 12
                        } else {
                            j &+= 6
                        }
                    }
                default:
                    return .failure(.invalidEscape(p[j &+ 1]), j)
                }
                continue
            }
            if c < 0x20 { return .failure(.controlCharacterInString(c), j) }
            if c < 0x80 {
                j &+= 1
                continue
            }
            switch utf8Sequence(p, at: j, end: end) {
            case 0: return .needMore
            case let length where length > 0: j &+= length
            default: return .failure(.invalidUTF8(c), j)
            }
        }
    }

    /// The value of four hex digits at `at`: nil when the buffer ends first, -1 when not hex.
    @inline(__always)
    private static func hexUnit(_ p: UnsafePointer<UInt8>, at start: Int, end: Int) -> Int? {
        guard start &+ 4 <= end else { return nil }
        var value = 0
        for k in 0..<4 {
            let c = p[start &+ k]
            let digit: Int
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(c &- UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(c &- UInt8(ascii: "a")) &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(c &- UInt8(ascii: "A")) &+ 10
            default: return -1
            }
            value = value << 4 | digit
        }
        return value
    }

    /// Length of the well-formed UTF-8 sequence at `at` (Unicode Table 3-7), 0 when the buffer
    /// ends inside it, -1 when it is ill-formed.
    @inline(__always)
    private static func utf8Sequence(_ p: UnsafePointer<UInt8>, at start: Int, end: Int) -> Int {
        let lead = p[start]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return -1
        }
        for k in 1..<length {
            guard start &+ k < end else { return 0 }
            let c = p[start &+ k]
            if k == 1 {
                guard c >= low, c <= high else { return -1 }
            } else {
                guard c & 0xC0 == 0x80 else { return -1 }
            }
        }
        return length
    }

    /// Decodes the escapes in a string's contents (which must have passed ``scan``) to UTF-8.
    public static func unescape(_ contents: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(contents.count)
        var j = 0
        let count = contents.count
        func hex(_ at: Int) -> UInt32 {
            var value: UInt32 = 0
            for k in 0..<4 {
                let c = contents[at + k]
                let digit: UInt32 = c <= UInt8(ascii: "9") ? UInt32(c - UInt8(ascii: "0")) : UInt32((c | 0x20) - UInt8(ascii: "a") + 10)
                value = value << 4 | digit
            }
            return value
        }
        while j < count {
            let c = contents[j]
            guard c == UInt8(ascii: "\\"), j + 1 < count else {
                out.append(c)
                j += 1
                continue
            }
            let e = contents[j + 1]
            j += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u") where j + 4 <= count:
                var scalar = hex(j)
                j += 4
                if scalar & 0xFC00 == 0xD800, j + 6 <= count {
                    let low = hex(j + 2)
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    j += 6
                }
                out.append(contentsOf: String(UnicodeScalar(scalar) ?? "\u{FFFD}").utf8)
            default: out.append(e)
            }
        }
        return out
    }

    /// The string value of `value` in `buffer`: its bytes, unescaped when needed.
    public static func bytes(of value: ExtractedFields.Value, in buffer: UnsafeRawBufferPointer) -> [UInt8]? {
        switch value.kind {
        case .string: return Array(UnsafeRawBufferPointer(rebasing: buffer[value.start..<value.end]))
        case .escapedString: return unescape(UnsafeRawBufferPointer(rebasing: buffer[value.start..<value.end]))
        case .absent, .other: return nil
        }
    }
}

extension JSONString {
    /// `text` as a JSON string literal, quotes included.
    public static func quote(_ text: String) -> String {
        "\"" + escape(text) + "\""
    }

    /// `text` escaped for the inside of a JSON string. `htmlSafe` also escapes `<`, `>`, `&`,
    /// DEL and U+2028/U+2029, so the JSON can sit in HTML or a script unharmed.
    public static func escape(_ text: String, htmlSafe: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20 || htmlSafe && (c.value == 0x7F || "<>&\u{2028}\u{2029}".unicodeScalars.contains(c)):
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension JSONString {
    /// `text` safe to print to a terminal: control characters (C0, DEL, C1, which start escape
    /// sequences and forge lines) are written as escapes (`\n`, `\u{1b}`); the rest is kept.
    public static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        for scalar in text.unicodeScalars { appendPrintable(scalar, to: &out) }
        return out
    }

    /// A value of a `key=value` log line: as it is when it is one plain word, else quoted with
    /// `"` and `\` escaped, so no value can end its field or its line early.
    public static func logfmt(_ text: String) -> String {
        guard text.isEmpty || text.unicodeScalars.contains(where: { isControl($0) || " =\"\\".unicodeScalars.contains($0) })
        else { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: appendPrintable(scalar, to: &out)
            }
        }
        return out + "\""
    }

    private static func appendPrintable(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case let c where isControl(c): out += "\\u{" + String(c.value, radix: 16) + "}"
        default: out.unicodeScalars.append(scalar)
        }
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}
