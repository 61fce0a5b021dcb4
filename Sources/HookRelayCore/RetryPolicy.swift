/// When to try a failed delivery again: exponential backoff with full jitter and a cap, or a
/// fixed schedule with proportional jitter; `Retry-After` honoured either way. A value: it
/// computes delays and never sleeps.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var base: Duration
    public var cap: Duration
    /// A fixed delay after each failed attempt instead of exponential backoff.
    public var fixedDelays: [Duration]?
    /// With a fixed schedule, each delay varies by up to this fraction either way.
    public var jitter: Double

    public init(maxAttempts: Int = 8, base: Duration = .seconds(1), cap: Duration = .seconds(300)) {
        self.maxAttempts = max(1, maxAttempts)
        self.base = base
        self.cap = cap
        fixedDelays = nil
        jitter = 1
    }

    /// A fixed schedule: one attempt, then one more after each delay (±`jitter` of it).
    public init(schedule: [Duration], jitter: Double = 0.2) {
        maxAttempts = schedule.count + 1
        base = schedule.first ?? .zero
        cap = schedule.max() ?? .zero
        fixedDelays = schedule
        self.jitter = min(max(jitter, 0), 1)
    }

    /// Standard Webhooks' example schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
    public static let standardWebhooksSchedule = RetryPolicy(
        schedule: [.seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18000),
                   .seconds(36000), .seconds(50400), .seconds(72000), .seconds(86400)])

    /// The largest delay before attempt `attempt + 1`, after `attempt` failures (1-based):
    /// `min(cap, base × 2^(attempt-1))`.
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        if let fixedDelays {
            let delay = fixedDelays[min(max(attempt - 1, 0), fixedDelays.count - 1)]
            return .milliseconds(Int64((Double(delay.milliseconds) * (1 + jitter)).rounded()))
        }
        let exponent = min(max(attempt - 1, 0), 62)
        let capSeconds = cap.seconds
        let seconds = base.seconds * Double(UInt64(1) << UInt64(exponent))
        return .milliseconds(Int64((min(seconds, capSeconds) * 1000).rounded()))
    }

    /// The delay after the `attempt`-th failed attempt, or nil when no attempt is left.
    ///
    /// Full jitter: uniform in `[0, ceiling]`. A `Retry-After` from the receiver raises the delay
    /// to at least that much, but never past the cap.
    public func delay<Random: RandomNumberGenerator>(
        afterAttempt attempt: Int, retryAfter: Duration? = nil, using random: inout Random
    ) -> Duration? {
        guard attempt < maxAttempts else { return nil }
        var delay: Duration
        if let fixedDelays {
            let nominal = Double(fixedDelays[min(max(attempt - 1, 0), fixedDelays.count - 1)].milliseconds)
            let factor = jitter > 0 ? Double.random(in: (1 - jitter)...(1 + jitter), using: &random) : 1
            delay = .milliseconds(Int64((nominal * factor).rounded()))
        } else {
            let milliseconds = ceiling(afterAttempt: attempt).milliseconds
            delay = .milliseconds(milliseconds > 0 ? Int64.random(in: 0...milliseconds, using: &random) : 0)
        }
        if let retryAfter { delay = max(delay, min(retryAfter, cap)) }
        return delay
    }

    /// The ceilings of every retry, and their sum: the longest a message can take to fail.
    public var schedule: (delays: [Duration], worstCase: Duration) {
        let delays = (1..<maxAttempts).map { ceiling(afterAttempt: $0) }
        return (delays, delays.reduce(.zero, +))
    }
}

extension Duration {
    /// Whole and fractional seconds.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Parses `0.5`, `500ms`, `30s`, `5m`, `2h`, `30d` (a bare number is seconds).
    public init?(parsing text: String) {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        var number = Substring(text)
        var scale = 1.0
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0, value * scale < 1e9 else { return nil }
        self = .milliseconds(Int64((value * scale * 1000).rounded()))
    }

    /// A short human form: `500ms`, `30s`, `5m`, `1h30m`.
    public var shortDescription: String {
        let ms = milliseconds
        if ms < 1000 { return "\(ms)ms" }
        if ms % 1000 != 0 { return String(format: "%.1fs", Double(ms) / 1000) }
        let total = ms / 1000
        let (d, h, m, s) = (total / 86400, total % 86400 / 3600, total % 3600 / 60, total % 60)
        var parts = ""
        if d > 0 { parts += "\(d)d" }
        if h > 0 { parts += "\(h)h" }
        if m > 0 { parts += "\(m)m" }
        if s > 0 || parts.isEmpty { parts += "\(s)s" }
        return parts
    }
}
