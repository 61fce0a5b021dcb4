/// How fast and in which order one webhook's deliveries may go: a webhook's `rate_limit` and
/// `ordering` (``Webhook``), applied when its deliveries are claimed
/// (``RuledClaims/claimRuled(endpoint:rules:room:perEndpoint:now:lease:)``).
public struct DeliveryRules: Sendable, Equatable {
    public var rateLimit: RateLimit?
    public var fifo: Bool

    public init(rateLimit: RateLimit?, fifo: Bool) {
        self.rateLimit = rateLimit
        self.fifo = fifo
    }
}

/// At most `count` deliveries per `period`, as a token bucket holding `count` (a full bucket
/// allows a burst of `count`, then one every `period / count`).
public struct RateLimit: Sendable, Equatable, Codable, CustomStringConvertible {
    public var count: Int
    /// Milliseconds: a second, a minute or an hour.
    public var period: Int64

    public init(count: Int, period: Int64) {
        self.count = count
        self.period = period
    }

    static let units: [(String, Int64)] = [("s", 1_000), ("m", 60_000), ("h", 3_600_000)]

    /// `"1/s"`, `"30/m"`, `"1000/h"`; nil for anything else (a count of 1 to 1,000,000).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[0]), (1...1_000_000).contains(count),
              let unit = Self.units.first(where: { $0.0 == parts[1] }) else { return nil }
        self.init(count: count, period: unit.1)
    }

    public var description: String { "\(count)/\(Self.units.first { $0.1 == period }?.0 ?? "s")" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = RateLimit(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a rate: \(text)"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// The bucket after `elapsed` ms: refilled at `count / period`, never above `count`.
    public func refilled(_ tokens: Double, elapsed: Int64) -> Double {
        min(Double(count), tokens + Double(max(0, elapsed)) * Double(count) / Double(period))
    }

    /// How long until a bucket holding `tokens` has one whole token.
    public func untilNext(_ tokens: Double) -> Int64 {
        tokens >= 1 ? 0 : Int64(((1 - tokens) * Double(period) / Double(count)).rounded(.up))
    }

    /// The limits the chat services document for one incoming webhook, for webhooks made with
    /// their templates: Slack, one message a second
    /// (https://api.slack.com/apis/rate-limits#incoming-webhooks); Microsoft Teams, four requests a
    /// second (https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#rate-limiting-for-connectors);
    /// Discord, thirty a minute per channel (https://discord.com/developers/docs/topics/rate-limits).
    public static func defaultFor(template: String) -> RateLimit? {
        switch template {
        case "slack": RateLimit(count: 1, period: 1_000)
        case "teams": RateLimit(count: 4, period: 1_000)
        case "discord": RateLimit(count: 30, period: 60_000)
        default: nil
        }
    }
}

/// Claims under a webhook's own rules (``DeliveryRules``), beside the ordinary claim, which
/// leaves such endpoints out (as if paused).
public protocol RuledClaims: DeliveryQueue {
    /// In one transaction: claims up to `room` of `endpoint`'s due deliveries no lease holds,
    /// no more than its bucket's whole tokens (taking one per delivery claimed) and, across every
    /// process sharing the database, no more than `perEndpoint` leased at once; with `fifo`, only
    /// its oldest pending delivery, when it is due and nothing of the endpoint is leased.
    /// Returns them, and when a rate-limited endpoint with a due delivery will next have a token
    /// (nil: not waiting for one).
    func claimRuled(
        endpoint: String, rules: DeliveryRules, room: Int, perEndpoint: Int, now: Int64, lease: Int64
    ) throws -> (claimed: [ClaimedDelivery], tokenAt: Int64?)
}
