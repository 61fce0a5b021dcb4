import HookRelayStore
import Synchronization

/// The ingest rate of each team other than `default`: a token bucket per team holding one
/// second's worth of events (at least one batch's), refilled at `team_ingest_rate`. Kept per
/// instance: with several instances on one database, each allows the rate.
final class TeamIngestLimiter: Sendable {
    let rate: Double?
    private let buckets = Mutex<[String: (tokens: Double, at: Int64)]>([:])

    init(rate: Double?) { self.rate = rate }

    /// Takes `count` events from `team`'s bucket at `now` (ms); nil when they may go in, else
    /// the seconds to wait before the request can pass.
    func take(_ count: Int, team: String, now: Int64) -> Int? {
        guard let rate, team != Team.defaultID, count > 0 else { return nil }
        let capacity = max(rate, Double(count))
        return buckets.withLock { buckets in
            var bucket = buckets[team] ?? (capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + Double(max(0, now - bucket.at)) / 1000 * rate)
            bucket.at = now
            defer { buckets[team] = bucket }
            guard bucket.tokens >= Double(count) else {
                return max(1, Int(((Double(count) - bucket.tokens) / rate).rounded(.up)))
            }
            bucket.tokens -= Double(count)
            return nil
        }
    }
}
