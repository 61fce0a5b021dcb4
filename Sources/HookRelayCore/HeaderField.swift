/// The one reading and check of the extra request headers a user gives (`deliver --header`,
/// `webhooks add|update --header`, a webhook's `headers` through the API, the web page's lines,
/// a spooled URL's headers), and of every header line the request writer puts on the wire: the
/// same mistake gets the same message wherever it is made.
public enum HeaderField {
    /// The most extra headers a webhook or a `deliver` run may have.
    public static let maxCount = 32
    /// The most bytes of extra headers (names, values and `: ` / CRLF) on one request.
    public static let maxTotalBytes = 8 << 10

    /// Headers hookrelay writes itself or that change how the request is framed or carried
    /// (hop-by-hop): a user's copy would forge a signature or desynchronise the receiver.
    /// Compared after ``canonical(_:)``.
    public static let reserved: Set<String> = [
        "host", "content-type", "content-length", "content-encoding", "transfer-encoding", "user-agent",
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "expect",
        "webhook-id", "webhook-timestamp", "webhook-signature", "x-hub-signature-256",
    ]

    /// Headers whose values are credentials: stored like secrets and shown masked.
    public static func isSensitive(_ name: String) -> Bool {
        let name = canonical(name)
        if ["authorization", "proxy-authorization", "cookie", "x-api-key"].contains(name) { return true }
        return ["token", "secret", "key", "password", "auth", "session", "signature"].contains { name.contains($0) }
    }

    /// How a value is shown back: sensitive ones as `****` and their last two characters when
    /// the value is long enough that those give nothing away.
    public static func masked(name: String, value: String) -> String {
        guard isSensitive(name) else { return value }
        return value.count >= 16 ? "****" + value.suffix(2) : "****"
    }

    /// Whether `value` is what ``masked(name:value:)`` shows: given back unchanged, it keeps the
    /// stored value (a form or an API client that echoes what it was shown).
    public static func isMask(_ value: String) -> Bool {
        value.hasPrefix("****") && value.count <= 6
    }

    /// A name as receivers and proxies may read it: case-folded, `_` taken as `-` (CGI, nginx
    /// with `underscores_in_headers`, many frameworks map one to the other).
    public static func canonical(_ name: String) -> String {
        String(name.lowercased().map { $0 == "_" ? "-" : $0 })
    }

    /// Why a header cannot be sent, or nil when it can.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case emptyName
        case notToken(name: String)
        case reserved(name: String)
        case controlCharacter(name: String)
        case tooMany(count: Int)
        case tooLarge(bytes: Int)
        case duplicate(name: String)
        case malformedLine(line: String)

        public var description: String {
            switch self {
            case .emptyName: return "a header needs a name"
            case let .notToken(name):
                return "header name \"\(JSONString.printable(name))\" is not valid: use ASCII letters, digits and !#$%&'*+-.^_`|~ only"
            case let .reserved(name): return "hookrelay sets the \(name) header itself (or it changes how the request is framed); remove it"
            case let .controlCharacter(name):
                return "the value of header \(name) holds a control character (CR, LF, NUL, ...), which would break the request"
            case let .tooMany(count): return "\(count) headers are more than the \(HeaderField.maxCount) allowed"
            case let .tooLarge(bytes):
                return "the headers take \(bytes) bytes, more than the \(HeaderField.maxTotalBytes) allowed"
            case let .duplicate(name): return "header \(name) is given twice"
            case let .malformedLine(line): return "header line '\(JSONString.printable(line))' needs the form 'Name: value'"
            }
        }
    }

    /// RFC 9110 `tchar`.
    @inline(__always)
    public static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// A field value may hold visible characters, spaces and tabs, and bytes of UTF-8 text; no
    /// CR, LF, NUL or other control character.
    @inline(__always)
    public static func isValueByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }

    /// Checks one header's name and value as they would go on the wire.
    public static func check(name: String, value: String) -> Problem? {
        if name.isEmpty { return .emptyName }
        guard name.utf8.allSatisfy(isTokenByte) else { return .notToken(name: name) }
        guard value.utf8.allSatisfy(isValueByte) else { return .controlCharacter(name: name) }
        return nil
    }

    /// Checks headers a user gives: each one, none reserved or repeated, their number and size.
    public static func validate(_ headers: [(name: String, value: String)]) throws(Problem) {
        guard headers.count <= maxCount else { throw .tooMany(count: headers.count) }
        var seen: Set<String> = []
        var bytes = 0
        for (name, value) in headers {
            if let problem = check(name: name, value: value) { throw problem }
            let canonical = canonical(name)
            guard !reserved.contains(canonical) else { throw .reserved(name: name) }
            guard seen.insert(canonical).inserted else { throw .duplicate(name: name) }
            bytes += name.utf8.count + value.utf8.count + 4
        }
        guard bytes <= maxTotalBytes else { throw .tooLarge(bytes: bytes) }
    }

    /// Parses `Name: value` (the form of `--header` and the web page's lines), the value
    /// trimmed of surrounding spaces and tabs.
    public static func parse(line: String) -> (name: String, value: String)? {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let name = line[..<colon].trimmingSpaces()
        let value = line[line.index(after: colon)...].trimmingSpaces()
        return (name, value)
    }

    /// Parses `Name: value` lines (each `--header`, each line of the web page's field) and
    /// checks them together as ``validate(_:)`` does, in the order given.
    public static func parseLines(_ lines: [String]) throws(Problem) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let header = parse(line: line) else { throw .malformedLine(line: line) }
            headers.append(header)
        }
        try validate(headers)
        return headers
    }
}

/// A text field a user stores (a URL, a description, a header, a template variable): SQLite and
/// every reader of the log take text as C strings in places, so a NUL would cut it, and other
/// control characters forge log lines and terminal output.
public enum StoredText {
    /// Whether `text` is free of control characters other than those `allowing` names.
    public static func isClean(_ text: String, allowing allowed: Set<Unicode.Scalar> = ["\t"]) -> Bool {
        !text.unicodeScalars.contains { scalar in
            (scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)) && !allowed.contains(scalar)
        }
    }
}

extension Substring {
    /// The text without spaces and tabs around it.
    public func trimmingSpaces() -> String {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}
