import Foundation
import HookRelayPostgres

/// A PostgreSQL cluster of one test's own, to stop and start again (a database outage) without
/// touching the server the other tests share (`HOOKRELAY_TEST_POSTGRES`). Made as `.ci/postgres`
/// makes its cluster: `initdb --auth=trust` in a temporary directory, a unix socket there and no
/// TCP, `fsync` off; as the `postgres` user when the tests run as root (PostgreSQL refuses root).
/// Stopped and removed with the value.
final class PrivatePostgres: Sendable {
    /// Debian's newest PostgreSQL binaries, if installed.
    static let binaries: URL? = {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return versions.compactMap(Int.init).sorted().reversed().lazy
            .map { root.appendingPathComponent("\($0)/bin") }
            .first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("pg_ctl").path) }
    }()

    /// Whether a test with a private cluster runs: the binaries are there, or CI requires it (it
    /// then fails without them).
    static let runs = binaries != nil || ProcessInfo.processInfo.environment["CI"] == "true"
    static let skipNote = "PostgreSQL's binaries (/usr/lib/postgresql/*/bin/pg_ctl) are missing: the outage test is skipped"

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let directory: URL
    private let bin: URL
    /// The cluster's `postgres` database as its superuser, through the socket.
    var url: String { "postgres:///postgres?host=\(directory.path)&user=postgres" }

    init() throws {
        guard let bin = Self.binaries else { throw Failure(description: Self.skipNote) }
        self.bin = bin
        // Short: a unix socket's path has at most 107 bytes.
        directory = URL(fileURLWithPath: "/tmp/hookrelay-pg-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if getuid() == 0 { try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: directory.path) }
        try run("initdb", ["-D", directory.appendingPathComponent("data").path, "--auth=trust", "-U", "postgres", "--no-sync"])
        try start()
    }

    deinit {
        try? run("pg_ctl", ["-D", directory.appendingPathComponent("data").path, "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts the cluster and waits until it accepts connections.
    func start() throws {
        try run("pg_ctl", [
            "-D", directory.appendingPathComponent("data").path, "-l", directory.appendingPathComponent("server.log").path, "-w", "-o",
            "-c listen_addresses='' -k \(directory.path) -c fsync=off -c synchronous_commit=off -c full_page_writes=off", "start",
        ])
    }

    /// Stops the cluster as an operator would for maintenance (`-m fast`: sessions are ended at
    /// once, the server shuts down cleanly) and waits until it is down.
    func stop() throws {
        try run("pg_ctl", ["-D", directory.appendingPathComponent("data").path, "-m", "fast", "-w", "stop"])
    }

    /// Runs a PostgreSQL tool (as `postgres` when root) with its output in `TOOL.log`. Spawned
    /// and waited for directly: Foundation's `Process` never reaps `pg_ctl start` here (the server
    /// it leaves running keeps what `Process` watches open).
    private func run(_ tool: String, _ arguments: [String]) throws {
        let path = bin.appendingPathComponent(tool).path
        let command = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", path] + arguments : [path] + arguments
        let log = directory.appendingPathComponent("\(tool).log").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = command.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
        guard spawned == 0 else { throw Failure(description: "cannot run \(command[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")) failed (status \(status)): \(text)")
        }
    }
}
