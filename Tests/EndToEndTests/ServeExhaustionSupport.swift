import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to 127.0.0.1 whose every blocking step runs on a thread of its own,
/// for clients that stall, trickle, or send without reading (issue 12).
final class StallingClient: @unchecked Sendable {
    let fd: Int32

    struct Failure: Error, CustomStringConvertible { var description: String }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// Runs `body` on a new thread and returns its result without blocking a task.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.name = "stalling-client"
            thread.start()
        }
    }

    /// Writes all of `data`; false when the connection was closed or reset meanwhile.
    @discardableResult
    func send(_ data: Data) -> Bool {
        var offset = 0
        while offset < data.count {
            let sent = data.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, data.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Data(text.utf8)) }

    /// What the server sent until it closed the connection (or reset it), and after how many
    /// seconds; `closed` is false when `timeout` passed first.
    func readUntilClosed(timeout: TimeInterval) async -> (data: Data, seconds: Double, closed: Bool) {
        let fd = fd
        return await Self.blocking {
            let started = Date()
            var received = Data()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let left = timeout - Date().timeIntervalSince(started)
                guard left > 0 else { return (received, Date().timeIntervalSince(started), false) }
                var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, Int32(left * 1000)) > 0 else { continue }
                let count = recv(fd, &buffer, buffer.count, 0)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { return (received, Date().timeIntervalSince(started), true) }
                received.append(contentsOf: buffer[0..<count])
            }
        }
    }

    /// The status code at the start of `data`, if an HTTP answer is there.
    static func status(_ data: Data) -> Int? {
        let text = String(decoding: data.prefix(12), as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 ") else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }
}

/// Timing `GET /healthz` on fresh connections, for checks that it answers while the server is busy.
enum HealthProbe {
    /// Seconds one `GET /healthz` took, answer included; nil when none came within `timeout`.
    static func once(port: Int, timeout: TimeInterval = 30) async -> Double? {
        let started = Date()
        guard let client = try? StallingClient(port: port) else { return nil }
        client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        let answer = await client.readUntilClosed(timeout: timeout)
        guard StallingClient.status(answer.data) == 200 else { return nil }
        return Date().timeIntervalSince(started)
    }
}
