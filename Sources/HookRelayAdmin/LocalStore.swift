import HookRelayStore
import Synchronization

/// The admin commands' ``StoreAccess``: a connection of their own to the daemon's database file,
/// used on the calling thread under a lock.
///
/// It works while `serve` runs on the same file: SQLite's WAL mode lets both read, and a write
/// waits for the other's transaction to end. The daemon picks up webhook changes within a second
/// (it polls the webhooks' version, which every webhook-changing store function counts); on
/// PostgreSQL the store announces them (`NOTIFY`) and every `serve` hears them at once.
public final class LocalStore: StoreAccess {
    private let spool: Mutex<any ServeStore>

    /// Opens, creating when missing, and migrates `configuration.database`.
    public init(configuration: ServeConfiguration) throws {
        let spool = try configuration.openDatabase(role: .writer)
        // A test event or a retry made here counts towards the webhook's health as the daemon's attempts do.
        spool.healthPolicy = configuration.healthPolicy
        self.spool = Mutex(spool)
    }

    public func withStore<T: Sendable>(_ body: @escaping @Sendable (any ServeStore) throws -> T) async throws -> T {
        try spool.withLock { try body($0) }
    }
}
