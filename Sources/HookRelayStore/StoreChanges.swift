/// What another process (or this one) changed in a shared database, as a backend announces it:
/// PostgreSQL's `NOTIFY`. SQLite has none: `serve` polls instead.
public enum StoreChange: Sendable, Equatable {
    /// Deliveries were stored or made due (ingest, a re-queue, a recovery, released claims).
    case deliveries
    /// A webhook's settings, pause, health, secret or existence changed.
    case webhooks
    /// The feed listens (again, after a lost connection): what was announced meanwhile was
    /// missed, so everything is to be looked at once.
    case listening
}

/// The changes of a shared database, heard as they commit (the seam between `serve` and a
/// backend that can announce them; nil for SQLite).
public protocol StoreChangeFeed: Sendable {
    /// Calls `hear` for each change, in order, until the calling task is cancelled. A lost
    /// connection is made again by itself (with a growing pause between tries), then
    /// ``StoreChange/listening`` is heard; the first is heard once the feed listens.
    func listen(_ hear: @escaping @Sendable (StoreChange) async -> Void) async
}
