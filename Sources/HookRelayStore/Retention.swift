/// What a store keeps, and for how long: the deletion of what is older than the retention
/// (`serve`'s `retention`, `deliver --prune`), in short batches that each hold the writer
/// briefly, and the space it frees.
///
/// What goes, for a cutoff time: finished deliveries (delivered, failed, skipped) last changed
/// before it, with their attempts; events stored before it that have no delivery left; audit
/// entries made before it. A pending delivery stays whatever its age, and so does its event.
/// Events are visited in the order they were stored, from a cursor, so a pass visits each old
/// event once, however many pending deliveries hold old events back.
public protocol RetentionStore: AnyObject {
    /// One transaction: the events stored before `cutoff` after `cursor` (from the first when
    /// nil), at most `limit` of them, lose their finished deliveries last changed before `cutoff`,
    /// and go themselves when no delivery is left. Returns what was deleted, and the cursor
    /// for the next batch (nil when no event before `cutoff` is left after this one).
    /// `busy`: another process holds the pruning (PostgreSQL: one instance prunes at a time);
    /// nothing was done.
    func pruneEvents(before cutoff: Int64, after cursor: PruneCursor?, limit: Int) throws -> PruneBatch
    /// One transaction: deletes up to `limit` of the oldest audit entries made before `cutoff`
    /// (and, on SQLite, the chart's hourly counts before it that pruning brought to zero).
    /// Returns how many entries; fewer than `limit` means none is left.
    func pruneAudit(before cutoff: Int64, limit: Int) throws -> Int
    /// Gives at most `pages` free pages back to the file system (SQLite's incremental vacuum,
    /// when the file has it on) beyond a slack kept for the next writes; returns how many were
    /// given back. PostgreSQL's autovacuum does this itself: 0.
    func reclaimSpace(pages: Int) throws -> Int
    /// Whether ``reclaimSpace(pages:)`` can give space back: false for a SQLite file made before
    /// hookrelay turned its incremental vacuum on (its free pages are reused, the file does not shrink).
    func canReclaimSpace() throws -> Bool
    /// When the oldest event kept was stored: how far back the delivery log goes.
    func oldestEventAt() throws -> Int64?
    /// The retention the daemon prunes with (ms; 0: off), stored for the admin commands to show;
    /// nil when no daemon has said.
    func storedRetention() throws -> Int64?
    func storeRetention(_ milliseconds: Int64) throws
}

/// Where a pass of pruning stands: the last event it visited, in (stored at, id) order.
public struct PruneCursor: Sendable, Equatable {
    public var createdAt: Int64
    public var id: Int64

    public init(createdAt: Int64, id: Int64) {
        self.createdAt = createdAt
        self.id = id
    }
}

/// Rows deleted by pruning.
public struct PruneCounts: Sendable, Equatable {
    public var events = 0
    public var deliveries = 0
    public var attempts = 0
    public var audit = 0

    public init(events: Int = 0, deliveries: Int = 0, attempts: Int = 0, audit: Int = 0) {
        self.events = events
        self.deliveries = deliveries
        self.attempts = attempts
        self.audit = audit
    }

    public var total: Int { events + deliveries + attempts + audit }

    public static func += (left: inout PruneCounts, right: PruneCounts) {
        left.events += right.events
        left.deliveries += right.deliveries
        left.attempts += right.attempts
        left.audit += right.audit
    }
}

/// One batch of ``RetentionStore/pruneEvents(before:after:limit:)``.
public struct PruneBatch: Sendable, Equatable {
    public var deleted: PruneCounts
    public var next: PruneCursor?
    public var busy: Bool

    public init(deleted: PruneCounts, next: PruneCursor?, busy: Bool = false) {
        self.deleted = deleted
        self.next = next
        self.busy = busy
    }
}

extension RetentionStore {
    /// A whole pass, batch after batch, calling `between` after each (`deliver`'s spool has no
    /// other writer to make room for; `serve` runs its batches on its writer queue instead).
    public func pruneAll(before cutoff: Int64, limit: Int = Retention.batch, between: () -> Void = {}) throws -> PruneCounts {
        var deleted = PruneCounts()
        var cursor: PruneCursor?
        repeat {
            let batch = try pruneEvents(before: cutoff, after: cursor, limit: limit)
            deleted += batch.deleted
            cursor = batch.next
            if batch.busy { return deleted }
            between()
        } while cursor != nil
        while true {
            let audit = try pruneAudit(before: cutoff, limit: limit)
            deleted.audit += audit
            if audit < limit { break }
            between()
        }
        while try reclaimSpace(pages: Retention.reclaimPages) > 0 { between() }
        return deleted
    }
}

/// The retention's settings and their parsing.
public enum Retention {
    /// Events visited (or audit entries deleted) by one transaction: a batch of 500 events with
    /// two deliveries each takes a few milliseconds on SQLite (`bench/retention.sh`).
    public static let batch = 500
    /// Pages given back by one transaction of the incremental vacuum (2 MB of 4 KiB pages).
    public static let reclaimPages = 512
    /// `serve`'s default: a month of delivery log.
    public static let defaultMilliseconds: Int64 = 30 * 86_400_000

    /// How often `serve` runs a pass: a tenth of the retention, between a second and a minute.
    public static func passInterval(_ retention: Int64) -> Int64 {
        min(60_000, max(1_000, retention / 10))
    }
}
