import CSQLite

#if canImport(Glibc)
import Glibc
#endif

/// A failed SQLite call, with SQLite's own message and what was being done.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let context: String

    public var description: String { "\(context): \(message) (SQLite error \(code))" }

    /// The database was busy past the busy timeout (another process holds the write lock).
    public var isBusy: Bool { code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED }
}

/// One connection to a SQLite database file, used by one thread at a time.
///
/// A thin layer over the system libsqlite3 rather than GRDB: the store needs exactly a handful
/// of prepared statements, `BEGIN IMMEDIATE` transactions and `UPDATE … RETURNING`, and owning
/// those few lines keeps every statement and transaction boundary visible where it matters for
/// durability, with no second query abstraction and no extra build time.
public final class SQLiteConnection {
    let handle: OpaquePointer
    public let path: String
    private var statements: [String: Statement] = [:]
    private let busyLimit: Int
    /// Microseconds between tries while another connection holds the write lock.
    static let busyStep = 200

    /// Hears each committed write transaction with the number of rows it changed (triggers
    /// included): for tests that bound the work of one transaction.
    public var onCommit: ((_ changedRows: Int) -> Void)?

    /// Opens (creating when missing) the database at `path` in WAL mode with `synchronous=FULL`.
    ///
    /// The file holds webhook secrets, so it is created readable by its owner only (0600), and
    /// SQLite gives its `-wal` and `-shm` files the database file's mode. An existing file that
    /// others may read is made 0600 with a warning on stderr (or, when this process may not
    /// change it, only the warning).
    public init(path: String, busyTimeout: Duration = .seconds(10)) throws {
        Self.restrictAccess(path)
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw SQLiteError(code: code, message: message, context: "cannot open database \(path)")
        }
        self.handle = handle
        self.path = path
        // SQLite's own busy timeout sleeps in steps of up to 100 ms; the spool's writers hold
        // the lock for a millisecond or two, so wait in short steps instead.
        busyLimit = max(1, Int(busyTimeout.components.seconds) * 1_000_000 / Self.busyStep)
        waitWhenBusy(tries: busyLimit)
        sqlite3_extended_result_codes(handle, 1)
        // A new file gives the pages that pruning frees back to the file system
        // (SQLiteSpool+Retention.swift): only possible while it has no page yet, before WAL mode
        // writes its first; on an existing file it changes nothing.
        try execute("PRAGMA auto_vacuum = INCREMENTAL")
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=FULL")
        try execute("PRAGMA foreign_keys=ON")
        // Reads through a 64 MiB memory map, and a 32 MiB page cache: a spool's working set
        // (the due index, recent rows) stays in memory, and resident memory stays bounded
        // however large the file grows.
        try execute("PRAGMA mmap_size=67108864")
        try execute("PRAGMA cache_size=-32768")
        // Checkpoint every 32 MiB of WAL rather than 4 MiB: a spool rewrites the same pages
        // (due index, recent rows) over and over, and each checkpoint writes a page once.
        try execute("PRAGMA wal_autocheckpoint=8192")
        try execute("PRAGMA journal_size_limit=67108864")
    }

    /// Waits `tries` steps of ``busyStep`` for another connection's lock before giving up.
    private func waitWhenBusy(tries: Int) {
        sqlite3_busy_handler(handle, { context, count in
            guard let context, Int(count) < Int(bitPattern: context) else { return 0 }
            usleep(useconds_t(SQLiteConnection.busyStep))
            return 1
        }, UnsafeMutableRawPointer(bitPattern: tries))
    }

    /// Runs `body` waiting at most `tries` steps of ``busyStep`` for a lock instead of the busy timeout.
    func waitingWhenBusy<T>(tries: Int, _ body: () throws -> T) rethrows -> T {
        waitWhenBusy(tries: tries)
        defer { waitWhenBusy(tries: busyLimit) }
        return try body()
    }

    /// Creates the database file 0600 when missing; tightens a looser one (and its `-wal` and
    /// `-shm`) to 0600 with a warning. Leaves in-memory and URI names alone.
    static func restrictAccess(_ path: String) {
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file:") else { return }
        let created = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if created >= 0 {
            close(created)
            return
        }
        for file in [path, path + "-wal", path + "-shm"] {
            var status = stat()
            guard stat(file, &status) == 0, status.st_mode & 0o077 != 0 else { continue }
            let mode = String(status.st_mode & 0o777, radix: 8)
            if chmod(file, 0o600) == 0 {
                warn("\(file) was open to other users (mode 0\(mode)) and holds webhook secrets; its mode is now 0600")
            } else {
                warn("\(file) is open to other users (mode 0\(mode)) and holds webhook secrets; make it readable by its owner only: chmod 600 \(file)")
            }
        }
    }

    private static func warn(_ message: String) {
        let line = Array("hookrelay: \(message)\n".utf8)
        _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    deinit {
        for statement in statements.values { statement.finalize() }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &error)
        if code != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw SQLiteError(code: code, message: message, context: "in \(path)")
        }
    }

    /// A prepared statement, cached for the life of the connection.
    public func statement(_ sql: String) throws -> Statement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        var pointer: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &pointer, nil)
        guard code == SQLITE_OK, let pointer else {
            throw SQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)), context: "preparing \(sql)")
        }
        let statement = Statement(pointer, connection: self)
        statements[sql] = statement
        return statement
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: committed when it returns, rolled back
    /// when it throws. The write lock is taken up front so a transaction never fails half-way
    /// for want of it.
    public func write<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        let changesBefore = sqlite3_total_changes64(handle)
        do {
            let result = try body()
            try execute("COMMIT")
            onCommit?(Int(sqlite3_total_changes64(handle) - changesBefore))
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `body`'s reads in one read transaction: they all see the same snapshot, so a row
    /// that changes meanwhile is seen once, as it was (not once before and once after).
    public func read<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        defer { try? execute("COMMIT") }
        return try body()
    }

    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Virtual-machine steps this connection's cached statements have run: a measure of how
    /// much a query read that does not depend on timing (for tests).
    func virtualMachineSteps() -> Int {
        statements.values.reduce(0) { $0 + $1.virtualMachineSteps }
    }

    /// The rowid of the last row inserted on this connection.
    public var lastInsertedRow: Int64 { sqlite3_last_insert_rowid(handle) }

    var lastError: String { String(cString: sqlite3_errmsg(handle)) }
}

/// A prepared statement. Bind parameters by 1-based index, then step through rows.
public final class Statement {
    private let pointer: OpaquePointer
    private unowned let connection: SQLiteConnection

    init(_ pointer: OpaquePointer, connection: SQLiteConnection) {
        self.pointer = pointer
        self.connection = connection
    }

    func finalize() { sqlite3_finalize(pointer) }

    var virtualMachineSteps: Int { Int(sqlite3_stmt_status(pointer, SQLITE_STMTSTATUS_VM_STEP, 0)) }

    func reset() {
        sqlite3_reset(pointer)
        sqlite3_clear_bindings(pointer)
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    @discardableResult
    public func bind(_ index: Int32, _ value: Int64?) -> Statement {
        if let value { sqlite3_bind_int64(pointer, index, value) } else { sqlite3_bind_null(pointer, index) }
        return self
    }

    /// The index of the parameter `name` (with its `:`): the SQL is ours, so a missing one is a bug.
    private func index(of name: String) -> Int32 {
        let index = sqlite3_bind_parameter_index(pointer, name)
        precondition(index > 0, "the statement has no parameter \(name)")
        return index
    }

    /// Binds the named parameter `name` (`":now"`).
    @discardableResult
    public func bind(_ name: String, _ value: Int64?) -> Statement { bind(index(of: name), value) }

    @discardableResult
    public func bind(_ name: String, _ value: Int?) -> Statement { bind(index(of: name), value) }

    @discardableResult
    public func bind(_ name: String, _ value: String?) -> Statement { bind(index(of: name), value) }

    @discardableResult
    public func bind(_ index: Int32, _ value: Int?) -> Statement {
        bind(index, value.map(Int64.init))
    }

    @discardableResult
    public func bind(_ index: Int32, _ value: String?) -> Statement {
        // With its byte count: text is stored whole, a NUL inside it included (the API refuses
        // NUL in what users store; this keeps anything else, like event ids, from being cut).
        if var value, !value.isEmpty {
            _ = value.withUTF8 { utf8 in
                utf8.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(pointer, index, $0.baseAddress, Int32($0.count), Self.transient) }
            }
        } else if value != nil {
            sqlite3_bind_text(pointer, index, "", 0, Self.transient)
        } else {
            sqlite3_bind_null(pointer, index)
        }
        return self
    }

    @discardableResult
    public func bind(_ index: Int32, blob: UnsafeRawBufferPointer) -> Statement {
        sqlite3_bind_blob64(pointer, index, blob.baseAddress, sqlite3_uint64(blob.count), Self.transient)
        return self
    }

    @discardableResult
    public func bind(_ index: Int32, blob: [UInt8]?) -> Statement {
        guard let blob else {
            sqlite3_bind_null(pointer, index)
            return self
        }
        blob.withUnsafeBytes { _ = bind(index, blob: $0) }
        return self
    }

    /// Advances to the next row: true when there is one, false when done.
    public func step() throws -> Bool {
        switch sqlite3_step(pointer) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code:
            let message = connection.lastError
            sqlite3_reset(pointer)
            throw SQLiteError(code: code, message: message, context: "in \(connection.path)")
        }
    }

    /// Steps through the remaining rows and resets the statement, ready to be bound again.
    public func run() throws {
        while try step() {}
        sqlite3_reset(pointer)
    }

    public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(pointer, column) }

    public func double(_ column: Int32) -> Double { sqlite3_column_double(pointer, column) }

    public func bind(_ index: Int32, _ value: Double) -> Statement {
        sqlite3_bind_double(pointer, index, value)
        return self
    }

    /// The first column of the first row (nil for NULL or no row), leaving the statement reset:
    /// a cached statement left on a row keeps its read open.
    public func firstInt() throws -> Int64? {
        defer { sqlite3_reset(pointer) }
        return try step() ? optionalInt(0) : nil
    }

    public func optionalInt(_ column: Int32) -> Int64? {
        sqlite3_column_type(pointer, column) == SQLITE_NULL ? nil : sqlite3_column_int64(pointer, column)
    }

    public func text(_ column: Int32) -> String? {
        guard let bytes = sqlite3_column_text(pointer, column) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(pointer, column))), as: UTF8.self)
    }

    public func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(pointer, column))
        guard count > 0, let base = sqlite3_column_blob(pointer, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }
}
