import Foundation

/// The normalisation of the strings a fingerprint is made of (see ``Fingerprinter``).
enum FingerprintText {
    /// `text` in NFC, without leading or trailing white space. ASCII text is only trimmed.
    static func normalised(_ text: [UInt8]) -> [UInt8] {
        if text.allSatisfy({ $0 < 0x80 }) {
            guard let first = text.firstIndex(where: { !isASCIISpace($0) }),
                  let last = text.lastIndex(where: { !isASCIISpace($0) })
            else { return [] }
            return first == 0 && last == text.count - 1 ? text : Array(text[first...last])
        }
        let composed = String(decoding: text, as: UTF8.self).precomposedStringWithCanonicalMapping
        let scalars = composed.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return [] }
        return Array(String(scalars[first...last]).utf8)
    }

    /// Lowercase: ASCII by bytes, anything else by Unicode's rules.
    static func lowercased(_ text: [UInt8]) -> [UInt8] {
        if text.allSatisfy({ $0 < 0x80 }) { return text.map(asciiLower) }
        return Array(String(decoding: text, as: UTF8.self).lowercased().utf8)
    }

    /// Lowercases the scheme and the host of a URL (`HTTPS://User@API.Example.com/Path` →
    /// `https://User@api.example.com/Path`); text that does not start with `scheme://` is kept.
    static func lowercaseSchemeAndHost(_ url: inout [UInt8]) {
        guard let colon = url.firstIndex(of: UInt8(ascii: ":")), colon > 0,
              url.count > colon + 2, url[colon + 1] == UInt8(ascii: "/"), url[colon + 2] == UInt8(ascii: "/"),
              isSchemeStart(url[0]), url[1..<colon].allSatisfy(isSchemeByte)
        else { return }
        for index in 0..<colon { url[index] = asciiLower(url[index]) }
        let authorityStart = colon + 3
        let authorityEnd = url[authorityStart...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
            ?? url.count
        // The user information before an `@` keeps its case.
        let hostStart = url[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")).map { $0 + 1 } ?? authorityStart
        for index in hostStart..<authorityEnd { url[index] = asciiLower(url[index]) }
    }

    @inline(__always)
    private static func isASCIISpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0B || byte == 0x0C
    }

    @inline(__always)
    private static func asciiLower(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    private static func isSchemeStart(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }

    private static func isSchemeByte(_ byte: UInt8) -> Bool {
        isSchemeStart(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }
}
