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
        stored.flatMap { try? JSONDecoder().decode(DedupeSettings.self, from: Data($0.utf8)) } ?? DedupeSettings()
    }
}
