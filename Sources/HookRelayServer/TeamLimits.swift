import HookRelayStore
import Synchronization

/// The ingest rate of each team other than `default`: a token bucket per team holding one
/// second's worth of events (at least one batch's), refilled at `team_ingest_rate`. Kept per
/// instance: with several instances on one database, each allows the rate.
final class TeamIngestLimiter: Sendable {
    let rate: Double?
    private let buckets = Mutex<[String: (tokens: Double, at: Int64)]>([:])

    init(rate: Double?) { self.rate = rate }

    /// Takes each team's events (`counts`) from its bucket at `now` (ms), all or none; nil
    /// when they may go in, else the team over its rate and the seconds to wait.
    func take(_ counts: [String: Int], now: Int64) -> (team: String, wait: Int)? {
        guard let rate else { return nil }
        return buckets.withLock { buckets in
            var refilled: [String: (tokens: Double, at: Int64)] = [:]
            for (team, count) in counts where team != Team.defaultID && count > 0 {
                let capacity = max(rate, Double(count))
                var bucket = buckets[team] ?? (capacity, now)
                bucket.tokens = min(capacity, bucket.tokens + Double(max(0, now - bucket.at)) / 1000 * rate)
                bucket.at = now
                guard bucket.tokens >= Double(count) else {
                    return (team, max(1, Int(((Double(count) - bucket.tokens) / rate).rounded(.up))))
                }
                bucket.tokens -= Double(count)
                refilled[team] = bucket
            }
            buckets.merge(refilled) { $1 }
            return nil
        }
    }
}
