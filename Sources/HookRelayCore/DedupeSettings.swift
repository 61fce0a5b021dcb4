/// De-duplication settings of a webhook (`dedupe_window`, `dedupe_ignores_severity`,
/// `fingerprint_fields`, `fingerprint_id_field`) or of a `deliver` run: what the user set,
/// from which the effective window and the fingerprint rule are derived.
public struct DedupeSettings: Sendable, Equatable, Codable {
    /// `off`, or a duration as set (`30d`, `12h`, `90m`); nil: the template's default.
    public var window: String?
    /// A change of severity is a duplicate too (by default it is not).
    public var ignoresSeverity: Bool
    /// nil: ``FingerprintRule/defaultFields``.
    public var fingerprintFields: [String]?
    /// A dotted path or `none`; nil: ``FingerprintRule/defaultIDPath``.
    public var fingerprintIDField: String?

    /// The templates that de-duplicate unless told not to: a ticket per finding, not per scan.
    public static let ticketTemplates: Set<String> = ["jira", "github-issue"]
    /// Their window when none is set.
    public static let ticketDefault = "30d"
    /// The shortest and longest windows taken.
    public static let shortestWindow = Duration.seconds(60)
    public static let longestWindow = Duration.seconds(366 * 86400)

    enum CodingKeys: String, CodingKey {
        case window, ignoresSeverity = "ignores_severity", fingerprintFields = "fingerprint_fields"
        case fingerprintIDField = "fingerprint_id_field"
    }

    public init(window: String? = nil, ignoresSeverity: Bool = false, fingerprintFields: [String]? = nil, fingerprintIDField: String? = nil) {
        self.window = window
        self.ignoresSeverity = ignoresSeverity
        self.fingerprintFields = fingerprintFields
        self.fingerprintIDField = fingerprintIDField
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        window = try container.decodeIfPresent(String.self, forKey: .window)
        ignoresSeverity = try container.decodeIfPresent(Bool.self, forKey: .ignoresSeverity) ?? false
        fingerprintFields = try container.decodeIfPresent([String].self, forKey: .fingerprintFields)
        fingerprintIDField = try container.decodeIfPresent(String.self, forKey: .fingerprintIDField)
    }

    /// Nothing set: every default.
    public var isDefault: Bool { self == DedupeSettings() }

    /// The window in force for a webhook with this template: the one set, else 30 days for the
    /// ticket templates; nil: off.
    public func effectiveWindow(template: String) -> Duration? {
        guard let text = window ?? (Self.ticketTemplates.contains(template) ? Self.ticketDefault : nil) else { return nil }
        return Self.parseWindow(text) ?? nil
    }

    /// `off` (.some(nil)), a duration from a minute to 366 days, or nil when `text` is neither.
    public static func parseWindow(_ text: String) -> Duration?? {
        if text == "off" { return .some(nil) }
        guard let duration = Duration(parsing: text), duration >= shortestWindow, duration <= longestWindow else { return nil }
        return .some(duration)
    }

    /// What to write in a message about a bad window.
    public static let windowHelp = "a duration from 1m to 366d such as \"30d\", \"12h\" or \"90m\", or \"off\""

    /// The fingerprint rule of these settings (unchecked values fall back to the defaults: the
    /// settings are checked where they are set).
    public var rule: FingerprintRule {
        (try? FingerprintRule.checked(fields: fingerprintFields, idField: fingerprintIDField, names: .json)) ?? FingerprintRule()
    }
}
