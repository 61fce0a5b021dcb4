/// A fingerprint rule given by a user is wrong: what, in the words of where it was given.
public struct FingerprintRuleProblem: Error, CustomStringConvertible, Sendable {
    public let description: String
}

extension FingerprintRule {
    /// How a caller names the two settings in its messages (`--fingerprint-fields`,
    /// `"fingerprint_fields"`) and how its example of a list is written.
    public struct Names: Sendable {
        public var fields: String
        public var idField: String
        public var example: String

        public init(fields: String, idField: String, example: String) {
            self.fields = fields
            self.idField = idField
            self.example = example
        }

        public static let options = Names(
            fields: "--fingerprint-fields", idField: "--fingerprint-id-field", example: "--fingerprint-fields finding.asset,finding.title")
        public static let json = Names(
            fields: "\"fingerprint_fields\"", idField: "\"fingerprint_id_field\"", example: "[\"finding.asset\", \"finding.title\"]")
    }

    /// The rule of the given settings (nil: the default of each), checked: the one reader of
    /// `--fingerprint-fields`/`--fingerprint-id-field` and a webhook's `fingerprint_fields`/
    /// `fingerprint_id_field`. `idField` `none` always hashes the fields.
    public static func checked(fields: [String]?, idField: String?, names: Names) throws(FingerprintRuleProblem) -> FingerprintRule {
        if let fields {
            if fields.isEmpty {
                throw FingerprintRuleProblem(description: "\(names.fields) needs at least one dotted path, e.g. \(names.example)")
            }
            if fields.count > maxFields {
                throw FingerprintRuleProblem(description: "\(names.fields) takes at most \(maxFields) paths; \(fields.count) were given")
            }
            for path in fields where !FieldSelector.validate(path: path) {
                throw FingerprintRuleProblem(
                    description: "\(names.fields): '\(JSONString.printable(path))' is not a field path; give member names separated by single dots, e.g. finding.title")
            }
        }
        if let idField, idField != "none", !FieldSelector.validate(path: idField) {
            throw FingerprintRuleProblem(
                description: "\(names.idField): '\(JSONString.printable(idField))' is not a field path; give member names separated by single dots (e.g. finding.id), or 'none'")
        }
        return FingerprintRule(
            idPath: idField == "none" ? nil : (idField ?? defaultIDPath), fields: fields ?? defaultFields)
    }
}
