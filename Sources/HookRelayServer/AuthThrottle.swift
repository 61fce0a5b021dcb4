import HookRelayAdmin
import Logging
import Synchronization

/// Slows down guessing the API token: after ``ServeLimits/authFailuresAllowed`` wrong tokens
/// (bearer token or login form) from one client, that client is answered 429 with
/// `Retry-After` for ``ServeLimits/authBackoff``, doubled with every further failure up to
/// ``ServeLimits/authBackoffLimit``. A right token clears the client's count. One log line
/// when a client starts being held off, not one per try.
final class AuthThrottle: Sendable {
    typealias Instant = ContinuousClock.Instant

    /// One client's failures in a row and until when it waits.
    struct Record {
        var failures = 0
        var blockedUntil: Instant?
        var lastFailure: Instant
        /// Logged for this burst already.
        var reported = false
    }

    /// The answer to a client before its token is checked.
    enum Verdict: Equatable {
        case allowed
        /// Refused without looking at the token; retry after this many whole seconds.
        case wait(seconds: Int)
    }

    private let limits: ServeLimits
    private let logger: Logger
    private let now: @Sendable () -> Instant
    private let records = Mutex<[String: Record]>([:])
    /// Clients remembered at most; past it, those whose burst is over are forgotten first.
    static let capacity = 10_000

    init(limits: ServeLimits, logger: Logger, now: @escaping @Sendable () -> Instant = { .now }) {
        self.limits = limits
        self.logger = logger
        self.now = now
    }

    /// Whether `client` may try a token now.
    func check(_ client: String) -> Verdict {
        let now = now()
        return records.withLock { records in
            guard let until = records[client]?.blockedUntil, until > now else { return .allowed }
            return .wait(seconds: Self.wholeSeconds(until - now))
        }
    }

    /// A wrong token from `client`: from the allowed number on, it waits before its next try.
    func failed(_ client: String) {
        let now = now()
        let report = records.withLock { records -> Int? in
            if records.count >= Self.capacity, records[client] == nil { forgetQuiet(&records, now: now) }
            var record = records[client] ?? Record(lastFailure: now)
            // A burst is over once a client has been quiet for the longest wait.
            if now - record.lastFailure > limits.authBackoffLimit { record = Record(lastFailure: now) }
            record.failures += 1
            record.lastFailure = now
            var report: Int?
            let over = record.failures - limits.authFailuresAllowed
            if over >= 0 {
                record.blockedUntil = now + min(limits.authBackoff * (1 << min(over, 30)), limits.authBackoffLimit)
                if !record.reported {
                    record.reported = true
                    report = record.failures
                }
            }
            records[client] = record
            return report
        }
        if let failures = report {
            logger.warning(
                "wrong API tokens: holding the client off with 429, doubling the wait while it goes on",
                metadata: ["client": "\(client)", "failures": "\(failures)"])
        }
    }

    /// A right token from `client`: its failures are forgotten.
    func succeeded(_ client: String) {
        records.withLock { records in _ = records.removeValue(forKey: client) }
    }

    private func forgetQuiet(_ records: inout [String: Record], now: Instant) {
        records = records.filter { now - $0.value.lastFailure <= limits.authBackoffLimit }
        if records.count >= Self.capacity {
            // Still full of active clients: drop the longest quiet half rather than grow.
            let keep = records.sorted { $0.value.lastFailure > $1.value.lastFailure }.prefix(Self.capacity / 2)
            records = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
        }
    }

    static func wholeSeconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
    }
}
