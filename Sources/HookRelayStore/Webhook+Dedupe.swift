import Foundation
import HookRelayCore

extension Webhook {
    /// The de-duplication window in force (``DedupeSettings/effectiveWindow(template:)``):
    /// the one set, else 30 days for the ticket templates; nil: every event is sent.
    public var dedupeWindow: Duration? { dedupe.effectiveWindow(template: template) }

    /// The webhook's fingerprints: its `fingerprint_fields` and `fingerprint_id_field`, the
    /// default rule otherwise, over the layout `serve` reads events with.
    public var fingerprinter: Fingerprinter { Fingerprinter(rule: dedupe.rule) }

    /// The `dedupe` column: JSON of the settings, NULL when every one is the default.
    public var storedDedupe: String? {
        guard !dedupe.isDefault, let data = try? JSONEncoder().encode(dedupe) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The settings of a `dedupe` column (NULL, or unreadable: the defaults).
    public static func dedupe(stored: String?) -> DedupeSettings {
        stored.flatMap { storedValue($0, as: DedupeSettings.self) } ?? DedupeSettings()
    }

    /// The `digest` and `tickets` columns: JSON of the settings, NULL for none.
    public var storedDigest: String? { digest.map(Self.storedJSON) }
    public var storedTickets: String? { tickets.map(Self.storedJSON) }

    /// Issue 19's settings from their columns (an unreadable one: none, or the defaults).
    public mutating func restore(dedupe: String?, digest: String?, tickets: String?) {
        self.dedupe = Self.dedupe(stored: dedupe)
        self.digest = digest.flatMap { Self.storedValue($0, as: DigestSettings.self) }
        self.tickets = tickets.flatMap { Self.storedValue($0, as: TicketSettings.self) }
    }

    /// A value as a JSON column of the webhooks table holds it (both stores).
    public static func storedJSON<T: Encodable>(_ value: T) -> String {
        String(decoding: (try? JSONEncoder().encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    /// A JSON column's value; nil when it does not read as `T`.
    public static func storedValue<T: Decodable>(_ text: String, as type: T.Type) -> T? {
        try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
