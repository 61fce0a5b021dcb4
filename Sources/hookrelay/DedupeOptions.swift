import ArgumentParser
import Foundation
import HookRelayCore

/// De-duplication by fingerprint: `--dedupe-window`, `--dedupe-ignores-severity` and the
/// fingerprint options, for `webhooks add|update` (the API's fields) and `deliver`.
struct DedupeOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Do not send a finding again whose fingerprint (and severity and status) was sent within this long: 30d, 12h, 90m, or off (webhooks: default off, 30d for jira and github-issue; 'default' resets it).",
        valueName: "duration"))
    var dedupeWindow: String?

    @Flag(
        inversion: .prefixedNo,
        help: ArgumentHelp("A change of severity is a duplicate too (default: it is sent)."))
    var dedupeIgnoresSeverity: Bool?

    @OptionGroup(title: "Fingerprints") var fingerprint: FingerprintOptions

    /// The API fields these flags give (`webhooks`): the library checks the window (65).
    func fields() -> [String: Any] {
        var fields: [String: Any] = [:]
        if let dedupeWindow { fields["dedupe_window"] = dedupeWindow == "default" ? NSNull() : dedupeWindow }
        if let dedupeIgnoresSeverity { fields["dedupe_ignores_severity"] = dedupeIgnoresSeverity }
        if let list = fingerprint.fingerprintFields { fields["fingerprint_fields"] = FingerprintOptions.split(list) }
        if let id = fingerprint.fingerprintIdField { fields["fingerprint_id_field"] = id }
        return fields
    }

    /// `deliver`'s window: nil when off or not given; a usage error (64) when it is no window.
    func window() throws -> Duration? {
        guard let dedupeWindow else {
            if dedupeIgnoresSeverity != nil || fingerprint.fingerprintFields != nil || fingerprint.fingerprintIdField != nil {
                throw ValidationError("--dedupe-ignores-severity, --fingerprint-fields and --fingerprint-id-field need --dedupe-window")
            }
            return nil
        }
        guard let parsed = DedupeSettings.parseWindow(dedupeWindow) else {
            throw ValidationError("--dedupe-window '\(dedupeWindow)' must be \(DedupeSettings.windowHelp)")
        }
        return parsed
    }
}
