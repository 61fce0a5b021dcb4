import Foundation
import HookRelayCore
import HookRelayStore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Sends webhooks over HTTP/1.1 (TLS through NIOSSL) on SwiftNIO, connecting only to addresses
/// the guard allows: each host is resolved here, its address checked, and the socket connected
/// to that very address, so DNS rebinding between the check and the connection is impossible.
///
/// A dedicated client rather than AsyncHTTPClient: measured on the 2-core machines this runs on,
/// AsyncHTTPClient delivered 13.6k signed events/s where `curl --parallel` did 19k, against a
/// goal of 1.5x curl (bench/deliver.sh). Webhooks need only keep-alive POSTs with a bounded
/// response read, and owning the connect step lets the guard judge the connected address.
public final class HTTPSender: Sendable {
    public let configuration: SenderConfiguration
    private let userAgent = "hookrelay/\(HookRelayVersion.string)"

    private struct PoolKey: Hashable {
        var address: IPAddress
        var port: Int
        var host: String
        var tls: Bool
        var proxy: ProxyServer?
        /// The client certificate and trust, for TLS connections (empty: the system's trust).
        var identity: TLSOptions
    }

    private struct State: ~Copyable {
        var addresses: [String: (address: IPAddress, resolvedAt: ContinuousClock.Instant)] = [:]
        var idle: [PoolKey: [HTTP1Connection]] = [:]
        /// Connections carrying a request now.
        var busy: [ObjectIdentifier: HTTP1Connection] = [:]
        /// TLS contexts made for client certificates and CA bundles, by what made them.
        var contexts: [TLSOptions: NIOSSLContext] = [:]
        var aborted = false
    }

    private let state = Mutex(State())

    /// One event-loop thread: sending is I/O-bound, and a second loop thread only contends with
    /// the workers and the receiver for the machine's cores.
    static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// Certificate checks against the system's trust store.
    static let tlsContext = Result { try NIOSSLContext(configuration: .makeClientConfiguration()) }

    /// Runs the workers' code on the event loop that does their I/O, so a response resumes its
    /// worker without waking another thread.
    public static let taskExecutor = EventLoopTaskExecutor(eventLoops.next())

    /// How long a host's vetted address is reused before it is resolved again.
    static let resolutionLifetime = Duration.seconds(300)

    public init(configuration: SenderConfiguration) {
        self.configuration = configuration
    }

    /// Closes the connections carrying requests: their attempts end at once as failed (a daemon
    /// that must stop now; the deliveries are sent again later).
    public func abortInFlight() {
        let connections = state.withLock { state in
            state.aborted = true
            return Array(state.busy.values)
        }
        for connection in connections { connection.close() }
    }

    /// Whether ``abortInFlight()`` was called: a failure now may be this process's doing.
    public var abortedInFlight: Bool { state.withLock { $0.aborted } }

    /// Closes the idle connections; call once when done sending.
    public func shutdown() {
        let connections = state.withLock { state in
            defer { state.idle.removeAll() }
            return state.idle.values.flatMap { $0 }
        }
        for connection in connections { connection.close() }
    }

    /// Checks a URL as a webhook's: http(s) as allowed, and a host the guard allows.
    /// Throws ``Endpoint/Problem``, ``BlockedAddress`` or ``Resolver/Failure``.
    public func check(_ url: String) async throws -> Endpoint {
        let endpoint = try Endpoint(url, allowHTTP: configuration.allowHTTP)
        _ = try await vettedAddress(of: endpoint.host)
        return endpoint
    }

    /// The first address of `host` the guard allows, resolved at most every few minutes.
    private func vettedAddress(of host: String) async throws -> IPAddress {
        let now = ContinuousClock.now
        if let cached = state.withLock({ $0.addresses[host] }), now - cached.resolvedAt < Self.resolutionLifetime {
            return cached.address
        }
        let addresses = try await Self.resolve(host)
        var blocked: BlockedAddress?
        for address in addresses {
            guard let range = configuration.addressGuard.blockingRange(for: address) else {
                state.withLock { $0.addresses[host] = (address, now) }
                return address
            }
            blocked = blocked ?? BlockedAddress(host: host, address: address, range: range)
        }
        throw blocked ?? Resolver.Failure(host: host, reason: "no address")
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

    private func connection(for key: PoolKey, deadline: NIODeadline) async throws -> (HTTP1Connection, reused: Bool) {
        while let idle = state.withLock({ $0.idle[key]?.popLast() }) {
            if idle.isActive { return (idle, true) }
        }
        let tls = key.tls ? try tlsContext(for: key.identity) : nil
        // SocketAddress traps on a port that does not fit 16 bits: an attempt must fail, not the process.
        guard (1...65535).contains(key.port) else { throw HTTP1Failure.other("port \(key.port) is not from 1 to 65535") }
        let address = try SocketAddress(ipAddress: key.address.description, port: key.port)
        var hop: ProxyHop?
        if let proxy = key.proxy {
            let written = key.address.isIPv4 ? key.address.description : "[\(key.address)]"
            hop = ProxyHop(address: try await proxyAddress(proxy), server: proxy, tunnel: key.tls ? "\(written):\(key.port)" : nil)
        }
        let connection = try await HTTP1Connection.connect(
            to: address, host: key.host, tls: tls, proxy: hop, group: Self.eventLoops,
            connectTimeout: .milliseconds(configuration.connectTimeout.milliseconds), deadline: deadline,
            keep: AttemptRecord.keptResponseBytes, maxBody: configuration.maxResponseBytes)
        return (connection, false)
    }

    /// The TLS context for a client certificate and trust: the shared one for the system's
    /// trust alone, else one made once per distinct set.
    private func tlsContext(for identity: TLSOptions) throws -> NIOSSLContext {
        if identity.isEmpty {
            do {
                return try Self.tlsContext.get()
            } catch {
                throw HTTP1Failure.other("TLS is not available: \(error)")
            }
        }
        if let context = state.withLock({ $0.contexts[identity] }) { return context }
        do {
            let context = try identity.context()
            state.withLock { state in
                // Replaced certificates leave their contexts behind: start over past a few hundred.
                if state.contexts.count >= 256 { state.contexts.removeAll() }
                state.contexts[identity] = context
            }
            return context
        } catch {
            throw HTTP1Failure.other("TLS settings: \(error.description)")
        }
    }

    /// The proxy's address (the operator named it: the guard does not judge it).
    private func proxyAddress(_ proxy: ProxyServer) async throws -> SocketAddress {
        let addresses: [IPAddress]
        do {
            addresses = try await Self.resolve(proxy.host)
        } catch {
            throw HTTP1Failure.other("the proxy \(proxy): \(error)")
        }
        guard let first = addresses.first else { throw HTTP1Failure.other("the proxy \(proxy): cannot resolve \(proxy.host): no address") }
        return try SocketAddress(ipAddress: first.description, port: proxy.port)
    }

    private func release(_ connection: HTTP1Connection, key: PoolKey) {
        let kept = state.withLock { state -> Bool in
            guard state.idle[key, default: []].count < configuration.connectionsPerHost else { return false }
            state.idle[key, default: []].append(connection)
            return true
        }
        if !kept { connection.close() }
    }

    /// POSTs `body` to `endpoint` with `headers` added to the configured ones. Every header line
    /// is checked here again (``HeaderField/check(name:value:)``), whatever checked it before: a
    /// request that would carry an invalid one is not sent, and fails for good.
    public func send(_ body: [UInt8], to endpoint: Endpoint, headers: [(String, String)]) async -> SendResult {
        await send(body, to: endpoint, headers: headers, tls: nil)
    }

    /// ``send(_:to:headers:)`` with a webhook's own client certificate and trust, merged with
    /// the configured ones (``TLSOptions/merged(with:)``).
    public func send(_ body: [UInt8], to endpoint: Endpoint, headers: [(String, String)], tls: TLSOptions?) async -> SendResult {
        await send(body, to: endpoint, headers: headers, tls: tls, method: .post)
    }

    /// ``send(_:to:headers:tls:)`` with another method than POST.
    public func send(
        _ body: [UInt8], to endpoint: Endpoint, headers: [(String, String)], tls: TLSOptions?, method: RequestMethod
    ) async -> SendResult {
        let started = ContinuousClock.now
        func elapsed() -> Int { Int((ContinuousClock.now - started).milliseconds) }
        func failure(_ verdict: SendResult.Verdict, _ error: String) -> SendResult {
            SendResult(verdict: verdict, error: error, latencyMilliseconds: elapsed(), responseBody: [])
        }
        var wire: ByteBuffer
        let allHeaders = [("user-agent", userAgent)] + configuration.headers + headers
        do {
            wire = try Self.request(body, to: endpoint, headers: allHeaders, method: method)
        } catch {
            return failure(.permanent, "not sent: \(error)")
        }
        let proxy = configuration.proxy?.server(for: endpoint)
        let address: IPAddress
        do {
            address = try await vettedAddress(of: endpoint.host)
        } catch let blocked as BlockedAddress {
            return failure(.permanent, blocked.description)
        } catch {
            return failure(.retry, "\(error)")
        }
        if proxy != nil, endpoint.isHTTPS, IPAddress(endpoint.host) != nil {
            // Without a name, TLS checks the certificate against the address the socket reached,
            // which through a tunnel is the proxy's: a wrong check either way, so not sent.
            return failure(.permanent, "not sent: https to an IP address through a proxy cannot check the receiver's certificate; "
                + "give the receiver's host name in the URL, or leave the address out of the proxy (no_proxy)")
        }
        let deadline = NIODeadline.now() + .milliseconds(configuration.timeout.milliseconds)
        if let proxy, !endpoint.isHTTPS {
            // Through a proxy an http request names its target in the request line: the vetted
            // address, so the proxy cannot resolve the name to another one.
            do {
                wire = try Self.request(body, to: endpoint, headers: allHeaders, via: (proxy, address), method: method)
            } catch {
                return failure(.permanent, "not sent: \(error)")
            }
        }
        let identity = endpoint.isHTTPS ? configuration.tls.merged(with: tls ?? TLSOptions()) : TLSOptions()
        let key = PoolKey(
            address: address, port: endpoint.port, host: endpoint.host, tls: endpoint.isHTTPS, proxy: proxy, identity: identity)
        var retriedStale = false
        while true {
            do {
                let (connection, reused) = try await connection(for: key, deadline: deadline)
                let token = ObjectIdentifier(connection)
                // A connection made while ``abortInFlight()`` ran was not among those it closed.
                let aborted = state.withLock { state in
                    if !state.aborted { state.busy[token] = connection }
                    return state.aborted
                }
                if aborted {
                    connection.close()
                    return failure(.retry, "not sent: hookrelay is stopping")
                }
                defer { state.withLock { $0.busy[token] = nil } }
                do {
                    let response = try await connection.send(wire: wire, deadline: deadline)
                    if response.reusable { release(connection, key: key) }
                    return result(response, elapsed: elapsed())
                } catch HTTP1Failure.closedBeforeResponse where reused && !retriedStale && !abortedInFlight {
                    // A kept-alive connection the receiver had closed while idle: one fresh try (not
                    // one abortInFlight() closed: that attempt ends here).
                    retriedStale = true
                    continue
                }
            } catch let failure as HTTP1Failure {
                let timedOut = switch failure {
                case .connectTimeout, .deadline: true
                default: false
                }
                return SendResult(
                    verdict: .retry, error: describe(failure, via: proxy), latencyMilliseconds: elapsed(), responseBody: [], timedOut: timedOut)
            } catch {
                return failure(.retry, "\(error)")
            }
        }
    }

    /// The whole HTTP/1.1 request, head and body: `Host` from the validated host, the framing
    /// headers, then `headers` in order, each checked (``HeaderField/check(name:value:)``) so
    /// that no value or name, however it got here, can add a line.
    /// Through a proxy (`via`) the request line holds the absolute URL with the vetted address,
    /// `Host` the name, and the proxy's credentials go in `Proxy-Authorization`.
    public static func request(
        _ body: [UInt8], to endpoint: Endpoint, headers: [(String, String)], via proxy: (ProxyServer, IPAddress)? = nil,
        method: RequestMethod = .post
    ) throws(HeaderField.Problem) -> ByteBuffer {
        for (name, value) in headers {
            if let problem = HeaderField.check(name: name, value: value) { throw problem }
        }
        // An Endpoint is checked when made; this holds whatever made it.
        guard endpoint.target.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else { throw .controlCharacter(name: ":path") }
        guard endpoint.hostHeader.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else { throw .controlCharacter(name: "host") }
        var wire = ByteBuffer()
        wire.reserveCapacity(body.count + 512)
        wire.writeString(method.rawValue)
        wire.writeStaticString(" ")
        if let (_, address) = proxy {
            wire.writeString("http://" + (address.isIPv4 ? address.description : "[\(address)]") + ":\(endpoint.port)")
        }
        wire.writeString(endpoint.target)
        wire.writeStaticString(" HTTP/1.1\r\n")
        func header(_ name: String, _ value: String) {
            wire.writeString(name)
            wire.writeStaticString(": ")
            wire.writeString(value)
            wire.writeStaticString("\r\n")
        }
        header("host", endpoint.hostHeader)
        wire.writeStaticString("content-type: application/json\r\n")
        header("content-length", String(body.count))
        if let authorization = proxy?.0.authorization { header("proxy-authorization", authorization) }
        for (name, value) in headers { header(name, value) }
        wire.writeStaticString("\r\n")
        wire.writeBytes(body)
        return wire
    }

    private func result(_ response: HTTP1Response, elapsed: Int) -> SendResult {
        let status = response.status
        var result = SendResult(verdict: .retry, httpStatus: status, error: nil, latencyMilliseconds: elapsed, responseBody: response.body)
        switch status {
        case 200..<300:
            result.verdict = .success
        case 410:
            result.verdict = .gone
            result.error = "410 Gone: the receiver asked not to be sent to again"
        case 300..<400:
            let location = response.headers.first(name: "location").map { " to " + JSONString.printable(String($0.prefix(500))) } ?? ""
            result.error = "HTTP \(status) redirect\(location) not followed; give the final URL"
        default:
            result.error = "HTTP \(status)"
            if status == 429 || status == 503, let value = response.headers.first(name: "retry-after") {
                result.retryAfter = Self.retryAfter(value, now: Date())
            }
        }
        return result
    }

    private func describe(_ failure: HTTP1Failure, via proxy: ProxyServer?) -> String {
        if let proxy {
            switch failure {
            case .connectTimeout: return "connecting to the proxy \(proxy) timed out after \(configuration.connectTimeout.shortDescription)"
            case .connectionRefused: return "connection refused by the proxy \(proxy)"
            case let .proxyRefused(answer): return "proxy \(proxy) refused CONNECT: \(answer)"
            default: break
            }
        }
        switch failure {
        case .connectTimeout: return "connect timed out after \(configuration.connectTimeout.shortDescription)"
        case .deadline: return "no complete response within \(configuration.timeout.shortDescription) (--timeout)"
        case .closedBeforeResponse: return "connection closed by the receiver before a response"
        case .connectionReset: return "connection reset by the receiver"
        case .connectionRefused: return "connection refused"
        case let .proxyRefused(answer): return "proxy refused CONNECT: \(answer)"
        case let .tls(text): return text
        case let .other(text): return text
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
}

/// A task executor that runs jobs on one SwiftNIO event loop.
public final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
