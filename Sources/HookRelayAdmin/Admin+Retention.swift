import HookRelayCore
import HookRelayStore

/// How far back the delivery log goes: the retention the daemon prunes with (stored by
/// `serve` at its start) and the oldest event kept.
public struct LogHorizon: Sendable, Equatable {
    /// Milliseconds; 0: kept for ever (`retention = "off"`); nil: no `serve` has run on the database.
    public var retention: Int64?
    public var oldestEvent: Int64?

    public init(retention: Int64?, oldestEvent: Int64?) {
        self.retention = retention
        self.oldestEvent = oldestEvent
    }

    /// One line for people: "kept 30d, back to 2026-11-03T12:00:00Z".
    public var text: String {
        let kept = switch retention {
        case nil: "no retention set yet (serve sets it)"
        case 0: "kept for ever (retention off)"
        case let milliseconds?: "kept \(Duration.milliseconds(milliseconds).shortDescription)"
        }
        return kept + (oldestEvent.map { ", back to \(AdminText.time($0))" } ?? ", empty")
    }
}

extension Admin {
    /// How far back the delivery log goes.
    public func logHorizon() async throws -> LogHorizon {
        try await reader.withStore { LogHorizon(retention: try $0.storedRetention(), oldestEvent: try $0.oldestEventAt()) }
    }
}
