import CSQLite

/// A store error that can say whether it may pass by itself: the database unreachable, a
/// connection lost, a lock or an answer that took too long. Each backend's error type conforms.
public protocol TransientStoreError: Error {
    /// Whether the same call may succeed later without anyone changing anything: retry it (the
    /// dispatcher), or ask the client to (`serve` answers 503 with `Retry-After`). False for a
    /// bug, a constraint failure, a bad schema or a refused login.
    var isTransient: Bool { get }
}

/// The one place that decides whether a store error is transient.
public enum StoreOutage {
    /// Whether `error` is a store error that may pass by itself (``TransientStoreError``).
    public static func isTransient(_ error: any Error) -> Bool {
        (error as? any TransientStoreError)?.isTransient ?? false
    }
}

extension SQLiteError: TransientStoreError {
    /// Another process held the write lock past the busy timeout, the disk failed a read or a
    /// write, or is full: an operator may fix it while the daemon runs.
    public var isTransient: Bool {
        switch code & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_PROTOCOL, SQLITE_CANTOPEN: true
        default: false
        }
    }
}
