import Foundation
import HookRelayCore
import HookRelayStore

extension Admin {
    /// Checks and sets the de-duplication fields: `dedupe_window` (a duration, `off`, or null for
    /// the template's default), `dedupe_ignores_severity`, `fingerprint_fields` and
    /// `fingerprint_id_field` (null: the default; checked by the reader the CLI's options use).
    static func applyDedupe(_ object: [String: Any], to webhook: inout Webhook) throws {
        var settings = webhook.dedupe
        if let value = object["dedupe_window"] {
            if value is NSNull {
                settings.window = nil
            } else {
                guard let text = value as? String, let parsed = DedupeSettings.parseWindow(text) else {
                    throw AdminError.invalid("\"dedupe_window\" must be \(DedupeSettings.windowHelp), or null for the template's default")
                }
                settings.window = parsed.map(\.shortDescription) ?? "off"
            }
        }
        if let value = object["dedupe_ignores_severity"] {
            guard isJSONBoolean(value) else { throw AdminError.invalid("\"dedupe_ignores_severity\" must be true or false") }
            settings.ignoresSeverity = value as? Bool == true
        }
        if let value = object["fingerprint_fields"] {
            if value is NSNull {
                settings.fingerprintFields = nil
            } else {
                guard let fields = value as? [String] else {
                    throw AdminError.invalid("\"fingerprint_fields\" must be an array of dotted paths, e.g. [\"finding.asset\", \"finding.title\"], or null")
                }
                settings.fingerprintFields = fields
            }
        }
        if let value = object["fingerprint_id_field"] {
            if value is NSNull {
                settings.fingerprintIDField = nil
            } else {
                guard let path = value as? String else {
                    throw AdminError.invalid("\"fingerprint_id_field\" must be a dotted path such as \"finding.id\", \"none\", or null")
                }
                settings.fingerprintIDField = path
            }
        }
        do {
            _ = try FingerprintRule.checked(fields: settings.fingerprintFields, idField: settings.fingerprintIDField, names: .json)
        } catch {
            throw AdminError.invalid(error.description)
        }
        webhook.dedupe = settings
    }
}
