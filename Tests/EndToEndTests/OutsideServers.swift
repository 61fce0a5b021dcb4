import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Certificates made by openssl for a test (Tests/Support/make-test-pki.sh): a CA with a
/// server certificate for localhost and 127.0.0.1 and a client certificate, and an unrelated
/// second CA with a client certificate of its own.
struct TestPKI {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/make-test-pki.sh").path
        let status = try OutsideProgram.run("/bin/bash", [script, directory.path])
        try #require(status == 0, "make-test-pki.sh failed (is openssl installed?)")
    }

    /// The path of `name` (ca.pem, server.key, client.pem, other-ca.pem, ...).
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func text(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// Programs from Debian's packages run by the tests (nginx, tinyproxy, openssl).
enum OutsideProgram {
    static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// A port on 127.0.0.1 nothing listens on now (the kernel's choice for a socket bound to 0).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        try #require(bound, "cannot bind a socket on 127.0.0.1")
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
    static func accepts(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Waits until `port` accepts connections (a guard against a server that never starts,
    /// not a measured time).
    static func waitUntilListening(_ port: Int, _ what: String, process: Process) throws {
        let end = Date().addingTimeInterval(20)
        while !accepts(port) {
            try #require(process.isRunning, "\(what) exited before it listened")
            try #require(Date() < end, "\(what) did not listen on 127.0.0.1:\(port)")
            usleep(20_000)
        }
    }
}

/// A server program started by a test in a temporary directory of its own, stopped by
/// ``stop()`` (by its process id).
class OutsideServer {
    let directory: URL
    let port: Int
    let process = Process()
    /// What stops it: nginx finishes on SIGTERM; tinyproxy in the foreground ignores it.
    var stopSignal: Int32 { SIGTERM }

    init(name: String, executable: String, arguments: (URL, Int) throws -> [String], config: (URL, Int) -> String, configName: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try OutsideProgram.freePort()
        try Data(config(directory, port).utf8).write(to: directory.appendingPathComponent(configName))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = try arguments(directory, port)
        let output = directory.appendingPathComponent("output")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: output)
        try process.runWithSignalsUnblocked()
        try OutsideProgram.waitUntilListening(port, name, process: process)
    }

    func file(_ name: String) -> String {
        (try? String(contentsOfFile: directory.appendingPathComponent(name).path, encoding: .utf8)) ?? ""
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, stopSignal)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Debian's tinyproxy on 127.0.0.1, allowing 127.0.0.1, logging every connection and request
/// (`LogLevel Connect`) to its log in the temporary directory.
final class Tinyproxy: OutsideServer {
    override var stopSignal: Int32 { SIGKILL }
    /// The connections the readiness check made (``OutsideProgram/waitUntilListening(_:_:process:)``).
    private var probes = 0

    /// - Parameters:
    ///   - connectPorts: the ports CONNECT may reach (none given: every port).
    ///   - basicAuth: a user and password the proxy requires.
    init(connectPorts: [Int] = [], basicAuth: (String, String)? = nil) throws {
        try super.init(
            name: "tinyproxy", executable: "/usr/bin/tinyproxy",
            arguments: { directory, _ in ["-d", "-c", directory.appendingPathComponent("tinyproxy.conf").path] },
            config: { directory, port in
                var lines = [
                    "Port \(port)", "Listen 127.0.0.1", "Timeout 30", "MaxClients 20", "Allow 127.0.0.1",
                    "LogLevel Connect", "LogFile \"\(directory.path)/tinyproxy.log\"", "PidFile \"\(directory.path)/tinyproxy.pid\"",
                ]
                lines += connectPorts.map { "ConnectPort \($0)" }
                if let (user, password) = basicAuth { lines.append("BasicAuth \(user) \(password)") }
                return lines.joined(separator: "\n") + "\n"
            },
            configName: "tinyproxy.conf")
        // The readiness check's connection is logged too: wait for its line, then leave it out.
        let end = Date().addingTimeInterval(20)
        while loggedConnections == 0 {
            try #require(Date() < end, "tinyproxy did not log the readiness check's connection")
            usleep(10_000)
        }
        probes = loggedConnections
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// The log's lines about connections from clients and their requests (not the startup's).
    var traffic: [String] {
        file("tinyproxy.log").split(separator: "\n").map(String.init)
            .filter { $0.contains("Connect (file descriptor") || $0.contains("Request (file descriptor") }
    }

    private var loggedConnections: Int { traffic.filter { $0.contains("Connect (file descriptor") }.count }

    /// How many client connections the proxy accepted, by its log, but for the readiness check's.
    var connections: Int { loggedConnections - probes }
}

/// Debian's nginx (nginx-light) on 127.0.0.1 over TLS with the PKI's server certificate,
/// requiring a client certificate of the PKI's CA (`ssl_verify_client on`), answering 200 to
/// every request. Runs in the foreground with its pid, logs and temporary files in its directory.
final class Nginx: OutsideServer {
    init(pki: TestPKI) throws {
        try super.init(
            name: "nginx", executable: "/usr/sbin/nginx",
            arguments: { directory, _ in
                ["-p", directory.path, "-c", directory.appendingPathComponent("nginx.conf").path, "-e", directory.appendingPathComponent("error.log").path]
            },
            config: { directory, port in
                let d = directory.path
                return """
                    worker_processes 1;
                    daemon off;
                    \(getuid() == 0 ? "user root;" : "")
                    pid \(d)/nginx.pid;
                    error_log \(d)/error.log info;
                    events { worker_connections 64; }
                    http {
                      access_log \(d)/access.log;
                      client_body_temp_path \(d)/body; proxy_temp_path \(d)/proxy; fastcgi_temp_path \(d)/fcgi;
                      uwsgi_temp_path \(d)/uwsgi; scgi_temp_path \(d)/scgi;
                      server {
                        listen 127.0.0.1:\(port) ssl;
                        server_name localhost;
                        ssl_certificate \(pki.path("server.pem"));
                        ssl_certificate_key \(pki.path("server.key"));
                        ssl_client_certificate \(pki.path("ca.pem"));
                        ssl_verify_client on;
                        location / { return 200 "received\\n"; }
                      }
                    }

                    """
            },
            configName: "nginx.conf")
    }

    /// The requests nginx answered, by its access log.
    var accessLog: [String] { file("access.log").split(separator: "\n").map(String.init) }
}

/// A socket on 127.0.0.1 that listens and never accepts: the kernel completes connections to it,
/// and nothing is ever answered (a proxy or TLS receiver that hangs).
final class SilentListener {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && listen(descriptor, 16) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        try #require(listening, "cannot listen on 127.0.0.1")
    }

    func stop() { close(descriptor) }
}
