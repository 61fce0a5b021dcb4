#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which events to keep: by type, by severity, by asset. The one filter of every mode.
///
/// Each part left empty keeps everything. A severity condition applies only to events that
/// carry a severity (scan completions and asset changes pass it); an event whose severity is not
/// one of the five names never passes a severity condition. An asset condition keeps only events
/// that have an asset matching one of the globs.
public struct Filter: Sendable, Equatable {
    public enum SeverityCondition: Sendable, Equatable {
        case any
        case atLeast(Severity)
        case oneOf(Set<Severity>)
    }

    /// Why an event was not kept.
    public enum Exclusion: Sendable, Equatable, CustomStringConvertible {
        case eventType(String?)
        case severity(Severity)
        case unknownSeverity(String?)
        case asset(String?)

        public var description: String {
            switch self {
            case let .eventType(type?): return "event type \"\(type)\" is not selected"
            case .eventType(nil): return "the event has no type"
            case let .severity(severity): return "severity \(severity) is not selected"
            case let .unknownSeverity(value?): return "severity \"\(value)\" is not one of \(Severity.allNames)"
            case .unknownSeverity(nil): return "severity is not a string"
            case let .asset(asset?): return "asset \"\(asset)\" matches no asset pattern"
            case .asset(nil): return "the event has no asset"
            }
        }
    }

    public struct Verdict: Sendable, Equatable {
        public var exclusion: Exclusion?
        /// The event has a severity field whose value is not a known severity.
        public var unknownSeverity: Bool
        public var matches: Bool { exclusion == nil }
    }

    public var eventTypes: [String]
    public var severity: SeverityCondition
    public var assetGlobs: [String]

    private let eventTypeBytes: [[UInt8]]

    public init(eventTypes: [String] = [], severity: SeverityCondition = .any, assetGlobs: [String] = []) {
        self.eventTypes = eventTypes
        self.severity = severity
        self.assetGlobs = assetGlobs
        eventTypeBytes = eventTypes.map { Array($0.utf8) }
    }

    public static func == (lhs: Filter, rhs: Filter) -> Bool {
        lhs.eventTypes == rhs.eventTypes && lhs.severity == rhs.severity && lhs.assetGlobs == rhs.assetGlobs
    }

    /// Decides one record; the fields must have been extracted with `layout.selector`.
    public func evaluate(_ record: RecordView, layout: EventLayout) -> Verdict {
        var verdict = Verdict(exclusion: nil, unknownSeverity: false)

        // Severity is read first: an unknown severity is reported whatever the other parts say.
        var found: Severity?
        if let slot = EventLayout.firstPresent(layout.severitySlots, in: record) {
            let value = record.value(slot)
            if value.kind == .string {
                found = Severity(utf8: UnsafeRawBufferPointer(rebasing: record.buffer[value.start..<value.end]))
            } else if let text = record.string(slot) {
                found = Severity(utf8: text)
            }
            if found == nil {
                verdict.unknownSeverity = true
                if severity != .any {
                    verdict.exclusion = .unknownSeverity(record.string(slot).map { String(decoding: $0, as: UTF8.self) })
                }
            }
        }

        if !eventTypeBytes.isEmpty, !matchesType(record) {
            verdict.exclusion = .eventType(layout.type(of: record).map { String(decoding: $0, as: UTF8.self) })
            return verdict
        }
        if verdict.exclusion != nil { return verdict }
        if let found {
            switch severity {
            case .any: break
            case let .atLeast(minimum) where found < minimum: verdict.exclusion = .severity(found)
            case let .oneOf(allowed) where !allowed.contains(found): verdict.exclusion = .severity(found)
            default: break
            }
            if verdict.exclusion != nil { return verdict }
        }
        if !assetGlobs.isEmpty {
            let asset = EventLayout.firstPresent(layout.assetSlots.filter { record.value($0).kind != .other }, in: record)
                .flatMap { record.string($0) }
                .map { String(decoding: $0, as: UTF8.self) }
            if let asset, assetGlobs.contains(where: { Self.glob($0, matches: asset) }) { return verdict }
            verdict.exclusion = .asset(asset)
        }
        return verdict
    }

    @inline(__always)
    private func matchesType(_ record: RecordView) -> Bool {
        let value = record.value(EventLayout.typeSlot)
        switch value.kind {
        case .string:
            let bytes = UnsafeRawBufferPointer(rebasing: record.buffer[value.start..<value.end])
            return eventTypeBytes.contains { $0.elementsEqual(bytes) }
        case .escapedString:
            guard let text = record.string(EventLayout.typeSlot) else { return false }
            return eventTypeBytes.contains(text)
        case .absent, .other:
            return false
        }
    }

    /// Shell glob matching (`*`, `?`, `[...]`), as fnmatch(3) without flags.
    public static func glob(_ pattern: String, matches text: String) -> Bool {
        fnmatch(pattern, text, 0) == 0
    }
}

extension EventLayout {
    /// The first present slot among an arbitrary list of slots.
    static func firstPresent(_ slots: [Int], in record: RecordView) -> Int? {
        slots.first { record.value($0).kind != .absent }
    }
}
