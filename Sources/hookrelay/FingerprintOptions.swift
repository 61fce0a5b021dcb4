import ArgumentParser
import HookRelayCore

/// How fingerprints are made: `--fingerprint-fields` and `--fingerprint-id-field`, for `filter`
/// and `render`.
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
        if let fingerprintFields {
            let fields = Self.split(fingerprintFields)
            if fields.isEmpty {
                throw ValidationError("--fingerprint-fields needs at least one dotted path, e.g. --fingerprint-fields finding.asset,finding.title")
            }
            if fields.count > FingerprintRule.maxFields {
                throw ValidationError("--fingerprint-fields takes at most \(FingerprintRule.maxFields) paths; \(fields.count) were given")
            }
            for path in fields where !FieldSelector.validate(path: path) {
                throw ValidationError("--fingerprint-fields: '\(path)' is not a field path; give member names separated by single dots, e.g. finding.title")
            }
        }
        if let fingerprintIdField, fingerprintIdField != "none", !FieldSelector.validate(path: fingerprintIdField) {
            throw ValidationError("--fingerprint-id-field: '\(fingerprintIdField)' is not a field path; give member names separated by single dots (e.g. finding.id), or 'none'")
        }
    }

    var rule: FingerprintRule {
        FingerprintRule(
            idPath: fingerprintIdField == "none" ? nil : (fingerprintIdField ?? FingerprintRule.defaultIDPath),
            fields: fingerprintFields.map(Self.split) ?? FingerprintRule.defaultFields)
    }

    private static func split(_ list: String) -> [String] {
        list.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }
}
