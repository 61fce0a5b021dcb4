/// A set of dotted paths (`finding.severity`) whose values the scanner extracts while it
/// validates a record, without building a dictionary.
///
/// At most 32 paths, each addressing object members only (arrays are not indexed). When a
/// key appears twice in one object, the last occurrence counts, as in jq and JavaScript.
public struct FieldSelector: Sendable, Equatable {
    /// The paths, each split at `.` into its member names as UTF-8 bytes.
    public let paths: [[[UInt8]]]

    public static let maxPaths = 32

    /// - Precondition: `dottedPaths.count <= maxPaths` and every path is non-empty.
    public init(_ dottedPaths: [String]) {
        precondition(dottedPaths.count <= Self.maxPaths, "at most \(Self.maxPaths) field paths")
        paths = dottedPaths.map { path in
            path.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) }
        }
    }

    /// Checks a user-supplied dotted path: non-empty members separated by single dots.
    public static func validate(path: String) -> Bool {
        !path.isEmpty && !path.split(separator: ".", omittingEmptySubsequences: false).contains { $0.isEmpty }
    }
}

/// The values found for a ``FieldSelector``'s paths in one record: a view of the scanner's
/// memory, valid until its next scan.
public struct ExtractedFields {
    public enum Kind: UInt8, Sendable {
        case absent
        /// A string without escapes: its bytes are the value.
        case string
        /// A string with backslash escapes: call ``JSONString/unescape(_:)`` for the value.
        case escapedString
        /// Present, but a number, boolean, null, object or array.
        case other
    }

    public struct Value: Sendable {
        public var kind: Kind
        /// Byte range of the value in the scanned buffer (for strings, between the quotes).
        public var start: Int
        public var end: Int
    }

    let base: UnsafePointer<Value>
    public let count: Int

    @inline(__always)
    public subscript(slot: Int) -> Value {
        precondition(slot >= 0 && slot < count, "field slot out of range")
        return base[slot]
    }
}
