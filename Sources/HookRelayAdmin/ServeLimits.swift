import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How `serve` guards itself against clients that are slow, idle, too many, or keep guessing the
/// token (issue 12). Every value has a config key (man hookrelay-serve, LIMITS).
public struct ServeLimits: Sendable {
    /// From a connection's start, or the first byte of a request, until its header is complete.
    public var headerTimeout: Duration = .seconds(10)
    /// The longest silence while a request body arrives; also the grace before the minimum rate
    /// applies.
    public var bodyTimeout: Duration = .seconds(10)
    /// Bytes per second a body must average once `bodyTimeout` has passed since its header.
    public var bodyMinimumRate = 8192
    /// How long a kept-alive connection may wait for its next request.
    public var idleTimeout: Duration = .seconds(60)
    /// Connections served at once; nil: the descriptor limit less ``descriptorReserve(concurrency:)``.
    public var maxConnections: Int?
    /// Bytes of `POST /v1/events` bodies read and parsed at once; nil: twice the largest NDJSON body.
    public var parseBudget: Int?

    /// After a 413, 401 or another refusal sent before the body was read, the rest of the body
    /// is read and thrown away for at most this long, so a client that sends its whole body
    /// before reading (Python's urllib) sees the answer instead of a reset; then the connection
    /// is closed.
    public var lingerTime: Duration = .seconds(5)
    /// At most this many bytes are thrown away after a refusal (413, 503…).
    public var lingerBytes = 64 << 20
    /// At most this many after a 401, 403 or 429: an unauthenticated body is not read on.
    public var lingerBytesUnauthenticated = 1 << 20

    /// Wrong tokens from one client (login form or bearer token) before it is made to wait.
    public var authFailuresAllowed = 5
    /// The first wait; each further failure doubles it up to `authBackoffLimit`.
    public var authBackoff: Duration = .seconds(1)
    public var authBackoffLimit: Duration = .seconds(300)

    public init() {}

    /// Descriptors kept for everything but client connections: the database and its WAL files
    /// (two connections), the deliveries in flight, the event loops, logs and the listener.
    public static func descriptorReserve(concurrency: Int) -> Int { 64 + 2 * concurrency }

    /// The soft limit on open descriptors (`RLIMIT_NOFILE`), or nil when it cannot be read or is
    /// unlimited.
    public static func descriptorLimit() -> Int? {
        var limit = rlimit()
        // RLIM_INFINITY is all ones.
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return Int(clamping: limit.rlim_cur)
    }

    /// The connection cap: the configured one, held below what the descriptor limit leaves,
    /// and whether the configured one had to be lowered.
    public func connectionCap(concurrency: Int, descriptorLimit: Int?) -> (cap: Int, lowered: Bool) {
        let room = descriptorLimit.map { max(16, $0 - Self.descriptorReserve(concurrency: concurrency)) } ?? 65536
        guard let maxConnections else { return (room, false) }
        return maxConnections > room ? (room, true) : (maxConnections, false)
    }
}
