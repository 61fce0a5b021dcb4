/// A finding's severity, ordered `info < low < medium < high < critical`.
public enum Severity: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case info, low, medium, high, critical

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { Self.names[rawValue] }

    private static let names = ["info", "low", "medium", "high", "critical"]
    private static let nameBytes: [[UInt8]] = names.map { Array($0.utf8) }

    /// Parses a severity name, ignoring ASCII case.
    public init?(_ text: String) {
        self.init(utf8: Array(text.utf8))
    }

    /// Parses a severity name from UTF-8 bytes, ignoring ASCII case.
    public init?<Bytes: Collection<UInt8>>(utf8 bytes: Bytes) {
        for (index, name) in Self.nameBytes.enumerated() where name.count == bytes.count {
            if zip(name, bytes).allSatisfy({ $0 == $1 | 0x20 }) {
                self.init(rawValue: index)
                return
            }
        }
        return nil
    }

    /// The accepted names, for messages.
    public static let allNames = names.reversed().joined(separator: ", ")
}
