/// How a webhook (or `deliver --digest`) gathers events into digests: one message per window
/// (`window` milliseconds from the first event folded), listing at most `top` titles; findings
/// at or above `bypass` are sent at once, outside the digest.
public struct DigestSettings: Sendable, Equatable, Codable {
    /// The window, in milliseconds.
    public var window: Int64
    /// Events of this severity or above are sent as they come; nil: none bypasses.
    public var bypass: Severity?
    /// How many titles a digest lists (``topRange``).
    public var top: Int

    public static let defaultTop = 5
    public static let topRange = 1...20
    /// The shortest and longest windows: a second (tests, pipelines) to a day.
    public static let windowRange: ClosedRange<Int64> = 1_000...86_400_000

    public init(window: Int64, bypass: Severity? = nil, top: Int = DigestSettings.defaultTop) {
        self.window = window
        self.bypass = bypass
        self.top = top
    }

    /// Whether an event of `severity` goes out on its own.
    public func bypasses(_ severity: Severity?) -> Bool {
        guard let bypass, let severity else { return false }
        return severity >= bypass
    }

    /// Reads a window (`"5m"`, `"1h"`, `"30s"`): nil for `off`; a message for anything else
    /// that is not a duration within ``windowRange``.
    public static func window(parsing text: String) -> Result<Int64?, Problem> {
        if text == "off" { return .success(nil) }
        guard let duration = Duration(parsing: text), windowRange.contains(duration.milliseconds) else {
            return .failure(Problem(description: "must be a duration from 1s to 24h such as \"5m\" or \"1h\", or \"off\"; got \"\(text)\""))
        }
        return .success(duration.milliseconds)
    }

    /// Checks a top count.
    public static func checkTop(_ value: Int) -> Problem? {
        topRange.contains(value) ? nil : Problem(description: "must be a whole number from \(topRange.lowerBound) to \(topRange.upperBound); got \(value)")
    }

    /// The window as written back (`5m`).
    public var windowDescription: String { Duration.milliseconds(window).shortDescription }

    enum CodingKeys: String, CodingKey { case window, bypass, top }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        window = try container.decode(Int64.self, forKey: .window)
        bypass = try container.decodeIfPresent(String.self, forKey: .bypass).flatMap(Severity.init)
        top = try container.decodeIfPresent(Int.self, forKey: .top) ?? Self.defaultTop
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(window, forKey: .window)
        try container.encodeIfPresent(bypass?.description, forKey: .bypass)
        try container.encode(top, forKey: .top)
    }

    public struct Problem: Error, CustomStringConvertible, Sendable, Equatable {
        public let description: String
    }
}
