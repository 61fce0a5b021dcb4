import Foundation
import HookRelayCore
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Why `serve` could not start other than a bad configuration: the address cannot be listened on,
/// or another `serve` uses the database. Checked before anything is created (database, token).
public struct ServeStartupError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// `69`: as things are, starting again cannot help (receive says the same of its address).
    public var exitStatus: ExitStatus { .unavailable }
}

enum ServeStartup {
    /// Binds and closes the listen address as the server will (with `SO_REUSEADDR`), so an
    /// address in use is found before the database or a token file is created.
    static func checkListen(host: String, port: Int) async throws {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port).get()
            try await channel.close()
        } catch {
            throw ServeStartupError(description: describe(error, address: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)", port: port))
        }
    }

    static func describe(_ error: any Error, address: String, port: Int) -> String {
        guard let error = error as? IOError else {
            return "cannot listen on \(address): \(error); check the --listen address (config key listen)"
        }
        switch error.errnoCode {
        case EADDRINUSE:
            return """
                cannot listen on \(address): another program listens there (`ss -ltnp 'sport = :\(port)'` shows which); \
                stop it or give another --listen address (port 0 picks a free one)
                """
        case EACCES:
            return "cannot listen on \(address): permission denied (ports below 1024 need privileges); give a port from 1024 up with --listen"
        case EADDRNOTAVAIL:
            return "cannot listen on \(address): no interface of this machine has that address; check the --listen host"
        default:
            return "cannot listen on \(address): \(String(cString: strerror(error.errnoCode))); check the --listen address"
        }
    }

    /// The lock that keeps a second `serve` off a database: `DATABASE.lock`, held (flock) for
    /// the life of the process and holding its pid. Admin commands and `deliver` do not take it.
    final class DatabaseLock: Sendable {
        let path: String
        private let fd: Int32

        init(database: String) throws {
            path = database + ".lock"
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw ServeStartupError(
                    description: "cannot create the lock file \(path): \(String(cString: strerror(errno))); check the --db directory and its permissions")
            }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                let held = errno
                var bytes = [UInt8](repeating: 0, count: 32)
                let count = pread(fd, &bytes, bytes.count, 0)
                close(fd)
                guard held == EWOULDBLOCK else {
                    throw ServeStartupError(description: "cannot lock \(path): \(String(cString: strerror(held)))")
                }
                let pid = String(decoding: bytes.prefix(max(0, count)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                throw ServeStartupError(description: """
                    another hookrelay serve\(pid.isEmpty ? "" : " (pid \(pid))") is using \(database): one serve per SQLite \
                    database (several instances share a PostgreSQL database); stop it, or give this one another --db
                    """)
            }
            let text = Array("\(getpid())\n".utf8)
            _ = ftruncate(fd, 0)
            _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            self.fd = fd
        }

        deinit { close(fd) }
    }
}
