import AsyncHTTPClient
import Foundation
import HookRelayCore
import HookRelayStore
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// How hookrelay sends: timeouts, plain-HTTP and address rules, fixed headers.
public struct SenderConfiguration: Sendable {
    public var connectTimeout: Duration
    /// The whole attempt: connecting, sending, and reading the response.
    public var timeout: Duration
    public var allowHTTP: Bool
    public var addressGuard: AddressGuard
    /// Extra headers sent with every request.
    public var headers: [(String, String)]
    /// The most response-body bytes read before the connection is dropped.
    public var maxResponseBytes: Int
    /// Connections kept per host.
    public var connectionsPerHost: Int

    public init(
        connectTimeout: Duration = .seconds(5),
        timeout: Duration = .seconds(15),
        allowHTTP: Bool = false,
        addressGuard: AddressGuard = AddressGuard(),
        headers: [(String, String)] = [],
        maxResponseBytes: Int = 64 << 10,
        connectionsPerHost: Int = 64
    ) {
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.allowHTTP = allowHTTP
        self.addressGuard = addressGuard
        self.headers = headers
        self.maxResponseBytes = maxResponseBytes
        self.connectionsPerHost = connectionsPerHost
    }
}

/// A URL hookrelay may send to: http(s), with a host.
public struct Endpoint: Sendable, Hashable {
    public let url: String
    public let host: String
    public let isHTTPS: Bool

    public enum Problem: Error, Sendable, CustomStringConvertible {
        case malformed(String)
        case scheme(String)
        case plainHTTP(String)

        public var description: String {
            switch self {
            case let .malformed(url): return "\(url): not a URL; give an absolute http(s) URL such as https://hooks.example.com/path"
            case let .scheme(url): return "\(url): only https (and http with --allow-http) URLs can be delivered to"
            case let .plainHTTP(url):
                return "\(url): plain http sends events and signatures unencrypted; use https, or --allow-http for testing"
            }
        }
    }

    public init(_ url: String, allowHTTP: Bool) throws(Problem) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty
        else { throw .malformed(url) }
        guard scheme == "https" || scheme == "http" else { throw .scheme(url) }
        if scheme == "http", !allowHTTP { throw .plainHTTP(url) }
        self.url = url
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        isHTTPS = scheme == "https"
    }
}

/// The result of one HTTP attempt.
public struct SendResult: Sendable {
    public enum Verdict: Sendable, Equatable {
        case success
        /// Worth trying again later.
        case retry
        /// 410 Gone: the receiver asks not to be sent to any more.
        case gone
        /// Trying again cannot help (the address is not allowed).
        case permanent
    }

    public var verdict: Verdict
    public var httpStatus: Int?
    public var error: String?
    public var latencyMilliseconds: Int
    public var responseBody: [UInt8]
    /// From `Retry-After` on 429 and 503.
    public var retryAfter: Duration?
}

/// Refused before connecting: the SSRF guard's answer.
public struct BlockedAddress: Error, Sendable, CustomStringConvertible {
    public let host: String
    public let address: IPAddress
    public let range: CIDR

    public var description: String {
        let allow = address.isIPv4 ? "\(address)/32" : "\(address)/128"
        return "address \(address) of \(host) is in the blocked range \(range); allow it with --allow-cidr \(allow) (or --allow-private for private ranges)"
    }
}

/// Sends webhooks over HTTP(S) with AsyncHTTPClient, connecting only to addresses the guard
/// allows: each host is resolved here, its address checked, and the client pinned to that
/// address with `dnsOverride` (TLS still verifies the host name), so DNS rebinding between the
/// check and the connection is impossible.
public final class HTTPSender: Sendable {
    public let configuration: SenderConfiguration
    private struct Clients {
        var current: [String: (address: String, client: HTTPClient, resolvedAt: ContinuousClock.Instant)] = [:]
        var retired: [HTTPClient] = []
    }

    private let clients = Mutex(Clients())
    private let userAgent = "hookrelay/\(HookRelayVersion.string)"

    /// One event-loop thread: sending is I/O-bound, and a second loop thread only contends with
    /// the workers and the receiver for the machine's cores.
    static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// How long a host's vetted address is reused before it is resolved again.
    static let resolutionLifetime = Duration.seconds(300)

    public init(configuration: SenderConfiguration) {
        self.configuration = configuration
    }

    /// Shuts every client down; call once when done sending.
    public func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients = Clients() }
            return clients.current.values.map(\.client) + clients.retired
        }
        for client in all { try? await client.shutdown() }
    }

    /// The client for `host`, pinned to an allowed address.
    private func client(for host: String) async throws -> HTTPClient {
        let now = ContinuousClock.now
        if let cached = clients.withLock({ $0.current[host] }), now - cached.resolvedAt < Self.resolutionLifetime {
            return cached.client
        }
        let pinned = try await vettedAddress(of: host)
        return clients.withLock { clients in
            if let existing = clients.current[host], existing.address == pinned {
                clients.current[host] = (pinned, existing.client, now)
                return existing.client
            }
            // A client pinned to an older address may have requests in flight: retire it, and
            // shut it down with the others at the end.
            if let replaced = clients.current[host] { clients.retired.append(replaced.client) }
            let client = makeClient(host: host, address: pinned)
            clients.current[host] = (pinned, client, now)
            return client
        }
    }

    /// The first address of `host` the guard allows.
    private func vettedAddress(of host: String) async throws -> String {
        let addresses = try await Self.resolve(host)
        var blocked: BlockedAddress?
        for address in addresses {
            guard let range = configuration.addressGuard.blockingRange(for: address) else { return address.description }
            blocked = blocked ?? BlockedAddress(host: host, address: address, range: range)
        }
        throw blocked ?? Resolver.Failure(host: host, reason: "no address")
    }

    private func makeClient(host: String, address: String) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.timeout = .init(
            connect: .milliseconds(self.configuration.connectTimeout.milliseconds),
            read: .milliseconds(self.configuration.timeout.milliseconds))
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: self.configuration.connectionsPerHost)
        configuration.dnsOverride = [host: address]
        return HTTPClient(eventLoopGroup: Self.eventLoops, configuration: configuration)
    }

    private static func resolve(_ host: String) async throws -> [IPAddress] {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    continuation.resume(returning: try Resolver.resolve(host))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// POSTs `body` to `endpoint` with `headers` added to the configured ones.
    public func send(_ body: [UInt8], to endpoint: Endpoint, headers: [(String, String)]) async -> SendResult {
        let started = ContinuousClock.now
        func elapsed() -> Int { Int((ContinuousClock.now - started).milliseconds) }
        let client: HTTPClient
        do {
            client = try await self.client(for: endpoint.host)
        } catch let blocked as BlockedAddress {
            return SendResult(verdict: .permanent, error: blocked.description, latencyMilliseconds: elapsed(), responseBody: [])
        } catch {
            return SendResult(verdict: .retry, error: "\(error)", latencyMilliseconds: elapsed(), responseBody: [])
        }
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: userAgent)
        for (name, value) in configuration.headers { request.headers.add(name: name, value: value) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let deadline = NIODeadline.now() + .milliseconds(configuration.timeout.milliseconds)
        do {
            let response = try await client.execute(request, deadline: deadline)
            let status = Int(response.status.code)
            var kept: [UInt8] = []
            var total = 0
            for try await chunk in response.body {
                total += chunk.readableBytes
                if kept.count < AttemptRecord.keptResponseBytes {
                    kept += chunk.getBytes(at: chunk.readerIndex, length: min(chunk.readableBytes, AttemptRecord.keptResponseBytes - kept.count)) ?? []
                }
                // Stop reading (and drop the connection) at the cap or the deadline.
                if total >= configuration.maxResponseBytes || NIODeadline.now() > deadline { break }
            }
            var result = SendResult(verdict: .retry, httpStatus: status, error: nil, latencyMilliseconds: elapsed(), responseBody: kept)
            switch status {
            case 200..<300:
                result.verdict = .success
            case 410:
                result.verdict = .gone
                result.error = "410 Gone: the receiver asked not to be sent to again"
            case 300..<400:
                let location = response.headers.first(name: "location").map { " to \($0)" } ?? ""
                result.error = "HTTP \(status) redirect\(location) not followed; give the final URL"
            default:
                result.error = "HTTP \(status)"
                if status == 429 || status == 503, let value = response.headers.first(name: "retry-after") {
                    result.retryAfter = Self.retryAfter(value, now: Date())
                }
            }
            return result
        } catch {
            return SendResult(verdict: .retry, error: Self.describe(error, configuration: configuration), latencyMilliseconds: elapsed(), responseBody: [])
        }
    }

    /// `Retry-After` as delay-seconds or an HTTP date.
    static func retryAfter(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return .milliseconds(max(0, Int64(date.timeIntervalSince(now) * 1000)))
    }

    static func describe(_ error: any Error, configuration: SenderConfiguration) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connect timed out after \(configuration.connectTimeout.shortDescription)"
            case .deadlineExceeded, .readTimeout:
                return "no complete response within \(configuration.timeout.shortDescription)"
            case .remoteConnectionClosed: return "connection closed by the receiver before a response"
            default: break
            }
        }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        if text.contains("Connection reset") || text.contains("ECONNRESET") { return "connection reset by the receiver" }
        return text
    }
}
