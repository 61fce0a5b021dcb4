/// Where an event keeps the fields hookrelay reads: its type, id, severity and asset.
///
/// Each field may be looked up at several paths, tried in order; the first one present counts.
public struct EventLayout: Sendable, Equatable {
    public var typePath: String
    public var idPath: String
    public var severityPaths: [String]
    public var assetPaths: [String]
    /// Where an event names its team (`serve`, for tokens that may send to any team); nil: not read.
    public var teamPath: String?

    public static let defaultTypePath = "event_type"
    public static let defaultSeverityPaths = ["finding.severity", "severity"]
    public static let defaultAssetPaths = ["finding.asset", "scan.asset", "asset.name", "asset"]

    public init(
        typePath: String = EventLayout.defaultTypePath,
        idPath: String = "id",
        severityPaths: [String] = EventLayout.defaultSeverityPaths,
        assetPaths: [String] = EventLayout.defaultAssetPaths, teamPath: String? = nil
    ) {
        self.typePath = typePath
        self.idPath = idPath
        self.severityPaths = severityPaths
        self.assetPaths = assetPaths
        self.teamPath = teamPath
    }

    /// The scanner's selector: type, id, then the severity paths, then the asset paths, then the
    /// team's path when set.
    public var selector: FieldSelector { FieldSelector(paths) }

    /// The selector's paths, in slot order; a caller that needs more fields appends its own
    /// after them (``Fingerprinter``), so the layout's slots stay where they are.
    public var paths: [String] { [typePath, idPath] + severityPaths + assetPaths + (teamPath.map { [$0] } ?? []) }

    static let typeSlot = 0
    static let idSlot = 1
    var severitySlots: Range<Int> { 2..<(2 + severityPaths.count) }
    var assetSlots: Range<Int> { severitySlots.upperBound..<(severitySlots.upperBound + assetPaths.count) }

    /// The slot of the first present value among `slots`, if any.
    @inline(__always)
    static func firstPresent(_ slots: Range<Int>, in record: RecordView) -> Int? {
        slots.first { record.value($0).kind != .absent }
    }

    /// The event's `id` string, unescaped, when it has one.
    public func id(of record: RecordView) -> [UInt8]? { record.string(Self.idSlot) }

    /// The event's team string, unescaped, when the layout reads one and the event has it.
    public func team(of record: RecordView) -> [UInt8]? {
        teamPath == nil ? nil : record.string(assetSlots.upperBound)
    }

    /// The event's type string, unescaped, when it has one.
    public func type(of record: RecordView) -> [UInt8]? { record.string(Self.typeSlot) }
}

extension EventLayout {
    /// The severity of a JSON event given as bytes, as templates read it: the first of
    /// `severityPaths` that holds a string, if it names a severity; nil when none does or the
    /// bytes are not a JSON object. Read by the scanner, without building the event's tree.
    public func severity(ofEvent bytes: [UInt8]) -> Severity? {
        RecordView.ofEvent(bytes, selector: FieldSelector(severityPaths)) { record in
            severityPaths.indices.lazy.compactMap { record.string($0) }.first.flatMap { Severity(String(decoding: $0, as: UTF8.self)) }
        }
    }
}
