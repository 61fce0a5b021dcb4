import ArgumentParser
import HookRelayCore

/// How fingerprints are made: `--fingerprint-fields` and `--fingerprint-id-field`, for `filter`
/// `render` and `deliver` (whose `--dedupe-window` uses them).
struct FingerprintOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Dotted paths hashed into a fingerprint when the event has no id, comma-separated (default: finding.asset,finding.title,finding.url,finding.parameter). Changing them changes every fingerprint.",
            valueName: "paths"))
    var fingerprintFields: String?

    @Option(
        help: ArgumentHelp(
            "Dotted path of the finding's own id, which is the fingerprint when present (default: finding.id); 'none' always hashes the fields.",
            valueName: "path|none"))
    var fingerprintIdField: String?

    func validate() throws {
        _ = try checkedRule()
    }

    var rule: FingerprintRule { (try? checkedRule()) ?? FingerprintRule() }

    /// The rule, checked by the one reader the webhooks' fields share.
    func checkedRule() throws -> FingerprintRule {
        do {
            return try FingerprintRule.checked(fields: fingerprintFields.map(Self.split), idField: fingerprintIdField, names: .options)
        } catch {
            throw ValidationError(error.description)
        }
    }

    static func split(_ list: String) -> [String] {
        list.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }
}
