/// A strict JSON validator (RFC 8259, UTF-8) that scans one value at a time from a buffer and
/// extracts the fields a ``FieldSelector`` names, without building a tree.
///
/// The scanner never recurses, so nesting depth costs no stack; `maxDepth` bounds it. It
/// accepts exactly the JSON grammar: no comments, no trailing commas, no leading zeros, no
/// unescaped control characters, no lone UTF-16 surrogates in `\u` escapes, and strings must be
/// well-formed UTF-8 (no overlong forms, no encoded surrogates, nothing above U+10FFFF).
/// Numbers are checked for syntax only, so any magnitude is accepted.
public final class JSONScanner {
    public enum Outcome: Sendable, Equatable {
        /// A whole value ends at `end` (exclusive, an index into the buffer).
        case complete(end: Int, newlines: Int, isObject: Bool)
        /// The buffer ended inside the value and more input may follow.
        case needMore
        case failure(JSONSyntaxError)
    }

    public let maxDepth: Int
    public let selector: FieldSelector

    // Plain memory rather than arrays: the scan loop then pays no reference counting.
    private let containerIsObject: UnsafeMutablePointer<Bool>
    private let masks: UnsafeMutablePointer<UInt32>
    private let values: UnsafeMutablePointer<ExtractedFields.Value>
    private let pathLengths: UnsafeMutablePointer<Int>
    private let pathCount: Int
    /// Member names of all paths, back to back; `nameOffsets[p * maxSegments + s]` is where the
    /// name of segment `s` of path `p` starts, and the next entry where it ends.
    private let names: UnsafeMutablePointer<UInt8>
    private let nameOffsets: UnsafeMutablePointer<Int>
    private let maxSegments: Int

    public init(selector: FieldSelector = FieldSelector([]), maxDepth: Int = 512) {
        self.maxDepth = max(1, maxDepth)
        self.selector = selector
        containerIsObject = .allocate(capacity: self.maxDepth + 2)
        containerIsObject.initialize(repeating: false, count: self.maxDepth + 2)
        masks = .allocate(capacity: self.maxDepth + 2)
        masks.initialize(repeating: 0, count: self.maxDepth + 2)
        pathCount = selector.paths.count
        values = .allocate(capacity: max(1, pathCount))
        values.initialize(repeating: ExtractedFields.Value(kind: .absent, start: 0, end: 0), count: max(1, pathCount))
        pathLengths = .allocate(capacity: max(1, pathCount))
        for (index, path) in selector.paths.enumerated() { (pathLengths + index).initialize(to: path.count) }
        maxSegments = (selector.paths.map(\.count).max() ?? 0) + 1
        let flat = selector.paths.flatMap { $0.flatMap { $0 } }
        names = .allocate(capacity: max(1, flat.count))
        names.initialize(from: flat, count: flat.count)
        nameOffsets = .allocate(capacity: max(1, pathCount * maxSegments))
        var offset = 0
        for (index, path) in selector.paths.enumerated() {
            for segment in 0..<maxSegments {
                nameOffsets[index * maxSegments + segment] = offset
                if segment < path.count { offset += path[segment].count }
            }
        }
    }

    deinit {
        containerIsObject.deallocate()
        masks.deallocate()
        values.deallocate()
        pathLengths.deallocate()
        names.deallocate()
        nameOffsets.deallocate()
    }

    /// The fields found by the last ``scan(_:from:isEOF:)``, valid until the next scan;
    /// offsets index that scan's buffer.
    public var fields: ExtractedFields { ExtractedFields(base: values, count: pathCount) }

    private enum State { case value, key, after }

    /// Scans the value that starts at or after `start` (leading whitespace is skipped).
    ///
    /// With `isEOF` false, running out of bytes answers `.needMore`: call again from the same
    /// `start` with a longer buffer. With `isEOF` true it is an `unexpectedEnd` failure.
    public func scan(_ buffer: UnsafeRawBufferPointer, from start: Int, isEOF: Bool) -> Outcome {
        for index in 0..<pathCount { values[index].kind = .absent }
        guard let base = buffer.baseAddress, start < buffer.count else {
            return isEOF ? .failure(JSONSyntaxError(.unexpectedEnd, offset: 0, newlines: 0)) : .needMore
        }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let end = buffer.count
        var i = start
        var newlines = 0
        var depth = 0
        var leafMask: UInt32 = 0
        // Every path starts at the top-level object.
        var childMask: UInt32 = pathCount == 0 ? 0 : UInt32.max >> (32 - pathCount)
        var topIsObject = false
        var state = State.value

        @inline(__always) func failure(_ reason: JSONSyntaxError.Reason, at position: Int) -> Outcome {
            .failure(JSONSyntaxError(reason, offset: position - start, newlines: newlines))
        }
        @inline(__always) func ranOut() -> Outcome {
            isEOF ? failure(.unexpectedEnd, at: end) : .needMore
        }
        @inline(__always) func skipWhitespace() {
            while i < end {
                let c = p[i]
                if c == 0x20 || c == 0x09 || c == 0x0D {
                    i &+= 1
                } else if c == 0x0A {
                    newlines &+= 1
                    i &+= 1
                } else {
                    return
                }
            }
        }

        while true {
            switch state {
            case .value:
                skipWhitespace()
                guard i < end else { return ranOut() }
                let c = p[i]
                switch c {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    let isObject = c == UInt8(ascii: "{")
                    if depth == 0 { topIsObject = isObject }
                    if leafMask != 0 { record(leafMask, kind: .other, start: i, end: i) }
                    depth &+= 1
                    if depth > maxDepth { return failure(.tooDeep(limit: maxDepth), at: i) }
                    containerIsObject[depth] = isObject
                    masks[depth] = isObject ? childMask : 0
                    leafMask = 0
                    childMask = 0
                    i &+= 1
                    skipWhitespace()
                    guard i < end else { return ranOut() }
                    if p[i] == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        i &+= 1
                        depth &-= 1
                        state = .after
                    } else {
                        state = isObject ? .key : .value
                    }
                case UInt8(ascii: "\""):
                    switch JSONString.scan(p, from: i &+ 1, end: end) {
                    case let .complete(stringEnd, escaped):
                        if leafMask != 0 {
                            record(leafMask, kind: escaped ? .escapedString : .string, start: i &+ 1, end: stringEnd &- 1)
                        }
                        i = stringEnd
                        state = .after
                    case .needMore:
                        return ranOut()
                    case let .failure(reason, position):
                        return failure(reason, at: position)
                    }
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    switch Self.scanNumber(p, from: i, end: end, isEOF: isEOF) {
                    case let .complete(numberEnd):
                        if leafMask != 0 { record(leafMask, kind: .other, start: i, end: numberEnd) }
                        i = numberEnd
                        state = .after
                    case .needMore:
                        return ranOut()
                    case let .failure(reason, position):
                        return failure(reason, at: position)
                    }
                case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                    let literal: StaticString = c == UInt8(ascii: "t") ? "true" : c == UInt8(ascii: "f") ? "false" : "null"
                    let length = literal.utf8CodeUnitCount
                    let available = min(length, end &- i)
                    for k in 0..<available where p[i &+ k] != literal.utf8Start[k] {
                        return failure(.invalidLiteral, at: i)
                    }
                    if available < length { return ranOut() }
                    if leafMask != 0 { record(leafMask, kind: .other, start: i, end: i &+ length) }
                    i &+= length
                    state = .after
                default:
                    return failure(
                        .unexpectedByte(c, expected: "a JSON value (object, array, string, number, true, false or null)"),
                        at: i)
                }

            case .key:
                guard p[i] == UInt8(ascii: "\"") else {
                    return failure(.unexpectedByte(p[i], expected: "'\"' to start an object member name"), at: i)
                }
                let keyStart = i &+ 1
                switch JSONString.scan(p, from: keyStart, end: end) {
                case let .complete(keyEnd, escaped):
                    leafMask = 0
                    childMask = 0
                    let alive = masks[depth]
                    if alive != 0 {
                        let matched = matchKey(alive, segment: depth &- 1, p: p, start: keyStart, end: keyEnd &- 1, escaped: escaped)
                        if matched != 0 {
                            // A repeated key replaces what an earlier occurrence set (last one wins).
                            record(matched, kind: .absent, start: 0, end: 0)
                            for bit in 0..<pathCount where matched & (1 << bit) != 0 {
                                if pathLengths[bit] == depth { leafMask |= 1 << bit } else { childMask |= 1 << bit }
                            }
                        }
                    }
                    i = keyEnd
                case .needMore:
                    return ranOut()
                case let .failure(reason, position):
                    return failure(reason, at: position)
                }
                skipWhitespace()
                guard i < end else { return ranOut() }
                guard p[i] == UInt8(ascii: ":") else {
                    return failure(.unexpectedByte(p[i], expected: "':' after an object member name"), at: i)
                }
                i &+= 1
                state = .value

            case .after:
                leafMask = 0
                childMask = 0
                if depth == 0 {
                    return .complete(end: i, newlines: newlines, isObject: topIsObject)
                }
                skipWhitespace()
                guard i < end else { return ranOut() }
                let c = p[i]
                if containerIsObject[depth] {
                    if c == UInt8(ascii: ",") {
                        i &+= 1
                        skipWhitespace()
                        guard i < end else { return ranOut() }
                        state = .key
                    } else if c == UInt8(ascii: "}") {
                        i &+= 1
                        depth &-= 1
                    } else {
                        return failure(.unexpectedByte(c, expected: "',' or '}' after an object member"), at: i)
                    }
                } else {
                    if c == UInt8(ascii: ",") {
                        i &+= 1
                        state = .value
                    } else if c == UInt8(ascii: "]") {
                        i &+= 1
                        depth &-= 1
                    } else {
                        return failure(.unexpectedByte(c, expected: "',' or ']' after an array element"), at: i)
                    }
                }
            }
        }
    }

    /// Validates a whole document: one value, then nothing but whitespace.
    public func validateDocument(_ buffer: UnsafeRawBufferPointer) -> Result<Bool, JSONSyntaxError> {
        switch scan(buffer, from: 0, isEOF: true) {
        case let .complete(end, newlines, isObject):
            var extra = newlines
            for index in end..<buffer.count {
                switch buffer[index] {
                case 0x0A: extra += 1
                case 0x20, 0x09, 0x0D: continue
                default:
                    return .failure(JSONSyntaxError(
                        .unexpectedByte(buffer[index], expected: "the end of the document"), offset: index, newlines: extra))
                }
            }
            return .success(isObject)
        case .needMore:
            return .failure(JSONSyntaxError(.unexpectedEnd, offset: buffer.count, newlines: 0))
        case let .failure(error):
            return .failure(error)
        }
    }

    @inline(__always)
    private func record(_ mask: UInt32, kind: ExtractedFields.Kind, start: Int, end: Int) {
        var remaining = mask
        while remaining != 0 {
            let bit = remaining.trailingZeroBitCount
            remaining &= remaining &- 1
            values[bit] = ExtractedFields.Value(kind: kind, start: start, end: end)
        }
    }

    /// The paths in `alive` whose member name at `segment` equals the key in `p[start..<end]`.
    private func matchKey(
        _ alive: UInt32, segment: Int, p: UnsafePointer<UInt8>, start: Int, end: Int, escaped: Bool
    ) -> UInt32 {
        let unescaped: [UInt8]? = escaped ? JSONString.unescape(UnsafeRawBufferPointer(start: p + start, count: end - start)) : nil
        let length = end - start
        var matched: UInt32 = 0
        var remaining = alive
        while remaining != 0 {
            let bit = remaining.trailingZeroBitCount
            remaining &= remaining &- 1
            let nameStart = nameOffsets[bit &* maxSegments &+ segment]
            let nameLength = nameOffsets[bit &* maxSegments &+ segment &+ 1] &- nameStart
            let equal: Bool
            if let unescaped {
                equal = unescaped.elementsEqual(UnsafeBufferPointer(start: names + nameStart, count: nameLength))
            } else {
                equal = nameLength == length && (length == 0 || memcmp(names + nameStart, p + start, length) == 0)
            }
            if equal { matched |= 1 << bit }
        }
        return matched
    }

    enum NumberStep {
        case complete(Int)
        case needMore
        case failure(JSONSyntaxError.Reason, Int)
    }

    @inline(__always)
    static func scanNumber(_ p: UnsafePointer<UInt8>, from start: Int, end: Int, isEOF: Bool) -> NumberStep {
        var j = start
        @inline(__always) func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }
        @inline(__always) func digits(after what: String) -> NumberStep? {
            guard j < end else { return .needMore }
            guard isDigit(p[j]) else { return .failure(.invalidNumber("expected a digit after \(what)"), j) }
            while j < end, isDigit(p[j]) { j &+= 1 }
            return nil
        }
        if p[j] == UInt8(ascii: "-") { j &+= 1 }
        guard j < end else { return .needMore }
        if p[j] == UInt8(ascii: "0") {
            j &+= 1
            if j < end, isDigit(p[j]) { return .failure(.invalidNumber("leading zeros are not allowed"), j) }
        } else if let stop = digits(after: "'-'") {
            return stop
        }
        if j < end, p[j] == UInt8(ascii: ".") {
            j &+= 1
            if let stop = digits(after: "the decimal point") { return stop }
        }
        if j < end, p[j] | 0x20 == UInt8(ascii: "e") {
            j &+= 1
            if j < end, p[j] == UInt8(ascii: "+") || p[j] == UInt8(ascii: "-") { j &+= 1 }
            if let stop = digits(after: "the exponent") { return stop }
        }
        // A number that touches the end of the buffer may go on in the next read.
        if j == end, !isEOF { return .needMore }
        return .complete(j)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
