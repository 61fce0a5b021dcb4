import HookRelayPostgres
import HookRelayStore

/// The backend a database location names: a `postgres://` or `postgresql://` URL is
/// PostgreSQL (HookRelayPostgres), anything else a SQLite file path. The lowest module that
/// sees both backends; `serve` and the admin commands open their stores here.
public enum Database {
    /// Opens a connection to the database at `location` for `role`; `password` is PostgreSQL's
    /// when the URL has none (before `PGPASSWORD`).
    ///
    /// A PostgreSQL store blocks its calling thread for each call (``PostgresStore``): use it
    /// from threads that may block.
    public static func open(_ location: String, role: ConnectionRole, password: String? = nil) throws -> sending any ServeStore {
        if PostgresLocation.isURL(location) { return try PostgresStore.open(location, role: role, password: password) }
        return try SQLiteSpool.open(path: location, role: role)
    }

    /// Whether `location` is a PostgreSQL URL (shared by several processes and machines: no
    /// lock or token file beside it, nothing to create on disk).
    public static func isURL(_ location: String) -> Bool { PostgresLocation.isURL(location) }

    /// How `location` may be shown in a log or a message: a URL without its password.
    public static func displayName(_ location: String) -> String {
        PostgresLocation.isURL(location) ? PostgresLocation.redact(location) : location
    }
}
