import Foundation

/// What one fold did (``DigestStore/fold(delivery:webhook:window:now:update:)``).
public struct DigestFold: Sendable, Equatable {
    /// The digest's own delivery: the folded delivery's `ref`, "in digest #N".
    public var digestDelivery: Int64
    /// This fold opened the digest (the first event of its window).
    public var opened: Bool
    /// The delivery had been folded before (an attempt repeated after a crash): nothing changed.
    public var repeated: Bool

    public init(digestDelivery: Int64, opened: Bool, repeated: Bool) {
        self.digestDelivery = digestDelivery
        self.opened = opened
        self.repeated = repeated
    }
}

/// A digest's content, rewritten by each fold: given the current body (nil for a new digest)
/// and the window (Unix ms), the new body. Called inside the fold's transaction, perhaps more
/// than once (a transaction run again after a deadlock): it must only compute.
public typealias DigestUpdate = @Sendable (_ body: [UInt8]?, _ windowStart: Int64, _ windowEnd: Int64) throws -> [UInt8]

/// The digests of webhooks (issue 19): each is a delivery of the queue like any other (its
/// message's body is the digest's content, its due time the window's end), and the deliveries
/// folded into it are listed, so a repeated fold of one changes nothing.
///
/// A digest is open while its window has not ended and its delivery has never been claimed;
/// at most one is open per webhook (a unique index; on PostgreSQL the folds of one webhook take
/// a transaction-level advisory lock, so instances fold into one digest, not one each).
public protocol DigestStore: AnyObject {
    /// Folds `delivery` into the open digest of `webhook`, or opens one (due `now + window`),
    /// in one transaction. The caller settles `delivery` as digested with the returned ref.
    func fold(delivery: Int64, webhook: String, window: Int64, now: Int64, update: @escaping DigestUpdate) throws -> DigestFold
    /// The content of the digest whose own delivery is `delivery`, as it is now; nil when that
    /// delivery is not a digest's. Read after the claim: no fold changes it any more.
    func digestBody(delivery: Int64) throws -> [UInt8]?
}

/// A new digest message's id (`webhook-id` on the wire): `dg_` and 32 random hex digits.
public func newDigestMessageID() -> String {
    digestMessagePrefix + (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
}

/// Only a message whose id starts so can be a digest (``DigestStore/digestBody(delivery:)`` says).
public let digestMessagePrefix = "dg_"
