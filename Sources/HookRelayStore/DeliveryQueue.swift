import HookRelayCore

/// A message to deliver: one event's exact bytes, to each of `targets`.
///
/// A delivery's target is where it goes: a URL in `deliver`, a webhook id in `serve` (the
/// schema's `deliveries.endpoint` column). ``Endpoint`` (HookRelayDelivery) is a parsed URL.
public struct NewMessage: Sendable {
    /// The Standard Webhooks message id (`webhook-id` on the wire): the event's `id`, else a hash of its bytes.
    public var messageID: String
    public var body: [UInt8]
    public var targets: [String]

    public init(messageID: String, body: [UInt8], targets: [String]) {
        self.messageID = messageID
        self.body = body
        self.targets = targets
    }
}

/// A delivery (one message to one target) claimed by a worker until `leaseUntil`.
public struct ClaimedDelivery: Sendable {
    public var id: Int64
    /// Fencing token: a completion counts only if the delivery has not been claimed again since.
    public var claim: Int64
    /// The Standard Webhooks message id (`webhook-id` on the wire): the event's `id`, else a hash of its bytes.
    public var messageID: String
    public var body: [UInt8]
    /// A URL in `deliver`, a webhook id in `serve`.
    public var target: String
    /// Attempts made before this one.
    public var attempts: Int
    /// When the message entered the store (Unix milliseconds).
    public var createdAt: Int64
    /// The W3C `traceparent` stored with the event (`serve` exporting traces), else nil.
    public var traceparent: String?

    public init(
        id: Int64, claim: Int64, messageID: String, body: [UInt8], target: String, attempts: Int, createdAt: Int64,
        traceparent: String? = nil
    ) {
        self.id = id
        self.claim = claim
        self.messageID = messageID
        self.body = body
        self.target = target
        self.attempts = attempts
        self.createdAt = createdAt
        self.traceparent = traceparent
    }
}

/// What one attempt did.
public struct AttemptRecord: Sendable, Equatable {
    public var startedAt: Int64
    public var httpStatus: Int?
    public var latencyMilliseconds: Int
    public var error: String?
    /// The first bytes of the response body (at most 4 KiB are kept).
    public var responseBody: [UInt8]

    public static let keptResponseBytes = 4096

    public init(startedAt: Int64, httpStatus: Int?, latencyMilliseconds: Int, error: String?, responseBody: [UInt8] = []) {
        self.startedAt = startedAt
        self.httpStatus = httpStatus
        self.latencyMilliseconds = latencyMilliseconds
        self.error = error
        self.responseBody = Array(responseBody.prefix(Self.keptResponseBytes))
    }
}

public enum DeliveryStatus: String, Sendable, Equatable, CaseIterable {
    /// Waiting for its first or next attempt.
    case pending
    case delivered
    /// No attempt left (or the endpoint is gone); can be re-queued.
    case failed
    /// Not sent: the webhook was disabled when the event arrived.
    case skipped
    /// Not sent: a duplicate of a finding the webhook was sent within its window (`ref`: that
    /// delivery). Final, like delivered.
    case suppressed
    /// Not sent by itself: folded into a digest (`ref`: the digest's delivery). Final.
    case digested

    /// Every status by name, for messages: "pending, delivered, … or digested".
    public static let names: String = {
        let all = allCases.map(\.rawValue)
        return all.dropLast().joined(separator: ", ") + " or " + all.last!
    }()

    /// The final status of a settled delivery.
    public init(_ settlement: Settlement) {
        switch settlement {
        case .suppressed: self = .suppressed
        case .digested: self = .digested
        }
    }
}

/// A claimed delivery's attempt and where it leaves the delivery.
public struct DeliveryOutcome: Sendable {
    public typealias Next = NextStep

    public var delivery: ClaimedDelivery
    public var attempt: AttemptRecord
    public var next: Next
    /// The failure was not the endpoint's doing (this process was shutting down, or the payload
    /// could not be rendered), so its health is left as it was.
    public var interrupted: Bool
    /// Whether the attempt counts against the delivery's attempts: not when it was held back
    /// before anything was sent (a drain that may not send to the address now).
    public var counted: Bool

    public init(delivery: ClaimedDelivery, attempt: AttemptRecord, next: Next, interrupted: Bool = false, counted: Bool = true) {
        self.delivery = delivery
        self.attempt = attempt
        self.next = next
        self.interrupted = interrupted
        self.counted = counted
    }
}

/// A per-target limit on claimed deliveries, and what each target holds now: a slow or dead
/// receiver cannot take every worker.
public struct TargetQuota: Sendable {
    public var limit: Int
    public var held: [String: Int]
    /// Endpoints that get nothing (paused webhooks).
    public var paused: Set<String>
    /// Under slot grants (``SlotGrants``): how many deliveries each endpoint may have claimed in
    /// this process, buffered or in flight, in the order to serve them. Only these endpoints are
    /// claimed from, and the leases of other processes are not counted: the grants keep the limit
    /// on attempts across processes, and the process on those in flight. Nil: `limit` counts
    /// every unexpired lease.
    public var granted: [(target: String, claims: Int)]?

    public init(limit: Int, held: [String: Int], paused: Set<String> = [], granted: [(target: String, claims: Int)]? = nil) {
        self.limit = limit
        self.held = held
        self.paused = paused
        self.granted = granted
    }

    /// How many more deliveries `target` may have claimed.
    public func free(_ target: String) -> Int {
        paused.contains(target) ? 0 : max(0, limit - held[target, default: 0])
    }
}

/// A delivery's state as stored.
public struct DeliveryState: Sendable, Equatable {
    public var id: Int64
    /// The Standard Webhooks message id (`webhook-id` on the wire): the event's `id`, else a hash of its bytes.
    public var messageID: String
    /// A URL in `deliver`, a webhook id in `serve`.
    public var target: String
    public var status: DeliveryStatus
    public var attempts: Int
    public var lastHTTPStatus: Int?
    public var lastError: String?
    public var lastLatencyMilliseconds: Int?
    public var nextAttemptAt: Int64
    /// For a suppressed or digested delivery, the related delivery's id (``Settlement``).
    public var ref: Int64?

    public init(
        id: Int64, messageID: String, target: String, status: DeliveryStatus, attempts: Int, lastHTTPStatus: Int? = nil,
        lastError: String? = nil, lastLatencyMilliseconds: Int? = nil, nextAttemptAt: Int64, ref: Int64? = nil
    ) {
        self.id = id
        self.messageID = messageID
        self.target = target
        self.status = status
        self.attempts = attempts
        self.lastHTTPStatus = lastHTTPStatus
        self.lastError = lastError
        self.lastLatencyMilliseconds = lastLatencyMilliseconds
        self.nextAttemptAt = nextAttemptAt
        self.ref = ref
    }
}

/// A queue whose dispatcher rounds go on without a thread waiting for each (PostgreSQL): the
/// round's work starts on the store's own I/O thread, and its result arrives there, where the
/// dispatcher hands out the claims and begins the next round at once. A thread that waits for
/// each answer is woken for it and then wakes the I/O thread for the next statement: two
/// wake-ups a round, a good part of a round's time on a busy machine (docs/benchmarks.md).
public protocol ChainedRounds: DeliveryQueue {
    /// ``DeliveryQueue/completeAndClaim(_:limit:now:lease:quota:)``, started: returns at once,
    /// and `then` gets the result on the store's I/O thread (where it must not block), or at
    /// once when there is nothing to do.
    func completeAndClaim(
        _ outcomes: [DeliveryOutcome], limit: Int, now: Int64, lease: Int64, quota: TargetQuota?,
        then: @escaping @Sendable (Result<(states: [DeliveryState?], claimed: [ClaimedDelivery]), any Error>) -> Void)
}

/// The durable queue behind every mode that sends: append, claim with a lease, complete or
/// reschedule, query. SQLite (``SQLiteSpool``) is the one-machine implementation; a shared
/// database with `FOR UPDATE SKIP LOCKED` claims would implement the same operations.
///
/// Implementations are used from one thread at a time; times are Unix milliseconds.
public protocol DeliveryQueue: AnyObject, SendableMetatype {
    /// Adds messages and their deliveries in one transaction. A delivery whose message id and
    /// endpoint are already stored is not added again. Returns how many deliveries were added.
    func append(_ messages: [NewMessage], now: Int64) throws -> Int

    /// Claims up to `limit` due deliveries for `lease` milliseconds, oldest first for each
    /// endpoint; with a quota, no endpoint gets more than it has free.
    func claim(limit: Int, now: Int64, lease: Int64, quota: TargetQuota?) throws -> [ClaimedDelivery]

    /// Records attempts and moves deliveries on, in one transaction. Outcomes whose claim has
    /// been superseded (the lease expired and another worker claimed the delivery) keep their
    /// attempt in the log but do not change the delivery. Returns the states after the change,
    /// nil for superseded outcomes.
    func complete(_ outcomes: [DeliveryOutcome], now: Int64) throws -> [DeliveryState?]

    /// `complete` then `claim`, in one transaction where the store has them: what a
    /// dispatcher does each round.
    func completeAndClaim(
        _ outcomes: [DeliveryOutcome], limit: Int, now: Int64, lease: Int64, quota: TargetQuota?
    ) throws -> (states: [DeliveryState?], claimed: [ClaimedDelivery])

    /// The earliest time a pending delivery becomes due (its next attempt or the end of its
    /// lease), or nil when none is pending; deliveries to the `excluding` endpoints are left out.
    func nextDue(excluding: Set<String>) throws -> Int64?

    /// When the next delivery that no worker holds falls due, or nil when none waits: what an
    /// idle dispatcher sleeps until. Cheap (one index step), unlike ``nextDue(excluding:)``,
    /// which also waits for the leases of other processes.
    func nextUnclaimedDue(excluding: Set<String>) throws -> Int64?

    /// Marks every pending delivery to `target` that no worker holds failed (the target
    /// answered 410 Gone). Held ones are failed by their workers.
    func failPending(target: String, error: String, now: Int64) throws -> [DeliveryState]

    /// Puts every failed delivery back to pending, due now. Returns how many.
    func requeueFailed(now: Int64) throws -> Int

    /// The pending deliveries, due or not, except those another running process holds.
    func pendingStates(now: Int64) throws -> [DeliveryState]

    /// Gives claimed deliveries back unattempted, due again at once.
    func release(_ deliveries: [ClaimedDelivery]) throws

    /// Deliveries held only in this process's memory and not yet finished; nil for a durable
    /// store. A dispatcher applies backpressure on the first, and records outcomes at once in
    /// the second.
    var inMemoryOutstanding: Int? { get }

    /// Whether each commit reaches the disk before it returns (the default), or may be
    /// forgotten by a power cut while a crash still loses nothing: enough for claims and
    /// completions, since a forgotten completion only sends the delivery again with the same
    /// `webhook-id`. Set between transactions.
    func setDurableCommits(_ durable: Bool) throws

    /// No other connection appends any more: take over housekeeping it was doing.
    func ingestFinished() throws
}

extension DeliveryQueue {
    public func ingestFinished() throws {}

    public func nextDue() throws -> Int64? { try nextDue(excluding: []) }

    public var inMemoryOutstanding: Int? { nil }

    public func completeAndClaim(
        _ outcomes: [DeliveryOutcome], limit: Int, now: Int64, lease: Int64, quota: TargetQuota?
    ) throws -> (states: [DeliveryState?], claimed: [ClaimedDelivery]) {
        (try complete(outcomes, now: now), try claim(limit: limit, now: now, lease: lease, quota: quota))
    }

    /// Claims with no per-endpoint limit.
    public func claim(limit: Int, now: Int64, lease: Int64) throws -> [ClaimedDelivery] {
        try claim(limit: limit, now: now, lease: lease, quota: nil)
    }
}

/// The webhooks' change counters (``SQLiteSpool/webhooksVersion()``), newer when greater.
public struct WebhooksVersion: Sendable, Equatable, Comparable {
    public var settings: Int64
    public var health: Int64

    public init(settings: Int64, health: Int64) {
        self.settings = settings
        self.health = health
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.settings, lhs.health) < (rhs.settings, rhs.health)
    }
}

extension NextStep {
    /// What a completion stores: the status, the next attempt's time (`now` for a final status)
    /// and the related delivery of a settled one.
    public func stored(now: Int64) -> (status: DeliveryStatus, next: Int64, ref: Int64?) {
        switch self {
        case .delivered: (.delivered, now, nil)
        case .failed: (.failed, now, nil)
        case let .retry(at): (.pending, at, nil)
        case let .settled(settlement, ref): (DeliveryStatus(settlement), now, ref)
        }
    }
}
