/// What a webhook (in `deliver`: a URL) was sent, by de-duplication key (HookRelayCore's
/// ``DedupeKey``): the ledger behind `dedupe_window`.
///
/// A row is either a reservation (`sentAt` nil: a delivery of the key is being sent; it lapses
/// at `expiresAt`, the end of that attempt's lease) or a record (the delivery that was sent the
/// key, and when; kept until `expiresAt`, the end of the window then in force). Two deliveries
/// of one key attempted together, by two workers or two instances, meet at the row: the first
/// reserves and sends, the second waits until the first is recorded (then it is a duplicate) or
/// its reservation is released or lapses (then it sends).
///
/// Implementations are used from one thread at a time; times are Unix milliseconds.
public protocol DedupeLedger: AnyObject {
    /// One transaction: decides for `delivery` of `key` (``DedupeDecision/deciding(_:delivery:window:now:)``)
    /// and, when it is to be sent, reserves the key for it until `until`.
    func reserveDedupe(endpoint: String, key: String, delivery: Int64, window: Int64, now: Int64, until: Int64) throws -> DedupeDecision
    /// Records that `delivery` was sent `key` at `now` (kept for `window`), and deletes a few
    /// entries whose time has passed (pruning as it goes: the ledger holds the keys sent within
    /// their windows and the reservations of the deliveries being sent, no more).
    func recordDedupe(endpoint: String, key: String, delivery: Int64, window: Int64, now: Int64) throws
    /// Drops `delivery`'s reservation of `key` (its attempt failed): the next one of the key sends.
    func releaseDedupe(endpoint: String, key: String, delivery: Int64) throws
    /// Forgets every entry of `endpoint` (a deleted webhook); returns how many.
    @discardableResult func forgetDedupe(endpoint: String) throws -> Int
    /// The entry of `key`, for tests and the operator's view.
    func dedupeEntry(endpoint: String, key: String) throws -> DedupeEntry?
}

/// A row of the ledger.
public struct DedupeEntry: Sendable, Equatable {
    public var delivery: Int64
    /// When it was delivered; nil: reserved, being sent.
    public var sentAt: Int64?
    public var expiresAt: Int64

    public init(delivery: Int64, sentAt: Int64?, expiresAt: Int64) {
        self.delivery = delivery
        self.sentAt = sentAt
        self.expiresAt = expiresAt
    }
}

/// Whether to send a delivery whose event has a de-duplication key.
public enum DedupeDecision: Sendable, Equatable {
    /// Send it (the key is now reserved for it).
    case send
    /// Do not: delivery `of` was sent the key at `sentAt`, within the window.
    case duplicate(of: Int64, sentAt: Int64)
    /// Delivery `of` holds the key while it is being sent, until `until` at the latest: try again shortly.
    case wait(of: Int64, until: Int64)

    /// The one rule both backends apply to the row found: its own reservation or record, or none,
    /// or a record older than `window`, or a lapsed reservation: send; a record within the window:
    /// a duplicate; another delivery's live reservation: wait.
    public static func deciding(_ entry: DedupeEntry?, delivery: Int64, window: Int64, now: Int64) -> DedupeDecision {
        guard let entry, entry.delivery != delivery else { return .send }
        if let sentAt = entry.sentAt {
            return sentAt > now - window ? .duplicate(of: entry.delivery, sentAt: sentAt) : .send
        }
        return entry.expiresAt > now ? .wait(of: entry.delivery, until: entry.expiresAt) : .send
    }

    /// How many expired entries a record deletes at most (more than it adds: the table shrinks
    /// back to what is live).
    public static let pruneBatch = 16
}
