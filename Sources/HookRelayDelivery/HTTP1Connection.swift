import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// What came back for one request.
struct HTTP1Response: Sendable {
    var status: Int
    var headers: HTTPHeaders
    /// The first bytes of the body (at most the collector's `keep` bytes).
    var body: [UInt8]
    /// The connection can carry another request.
    var reusable: Bool
}

/// Why an attempt produced no response.
enum HTTP1Failure: Error, Sendable {
    case connectTimeout
    case deadline
    case closedBeforeResponse
    case connectionReset
    case connectionRefused
    /// The proxy would not open a tunnel: its status line, or what went wrong.
    case proxyRefused(String)
    /// The TLS handshake with the receiver failed: what it means.
    case tls(String)
    case other(String)
}

/// One keep-alive HTTP/1.1 connection to a vetted address, carrying one request at a time.
final class HTTP1Connection: Sendable {
    let channel: any Channel
    private let collector: NIOLoopBound<ResponseCollector>

    private init(channel: any Channel, collector: NIOLoopBound<ResponseCollector>) {
        self.channel = channel
        self.collector = collector
    }

    var isActive: Bool { channel.isActive }

    /// Connects to `address` (already checked by the guard) and sets up HTTP/1.1, over TLS
    /// when `tls` is given (SNI and certificate checks use `host`, or the address for IP literals).
    /// Through `proxy`, the socket goes to the proxy; for TLS it first asks the proxy for a
    /// tunnel to `address`, then runs the handshake with the receiver inside it. Returns once
    /// the TLS handshake (if any) is over; the tunnel and the handshake fail at `deadline`.
    static func connect(
        to address: SocketAddress, host: String, tls: NIOSSLContext?, proxy: ProxyHop?, group: any EventLoopGroup,
        connectTimeout: TimeAmount, deadline: NIODeadline, keep: Int, maxBody: Int
    ) async throws -> HTTP1Connection {
        let isIPLiteral = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        let eventLoop = group.next()
        // Made here, so a test of them needs no look-up in a pipeline that may be gone already.
        let tunnelOpened = eventLoop.makePromise(of: Void.self)
        let handshakeDone = eventLoop.makePromise(of: Void.self)
        // Whatever happens, neither promise outlives this call unfulfilled (a second completion is ignored).
        defer {
            tunnelOpened.fail(ChannelError.alreadyClosed)
            handshakeDone.fail(ChannelError.alreadyClosed)
        }
        let tunnel = proxy.flatMap { proxy in proxy.tunnel.map { (target: $0, server: proxy.server) } }
        @Sendable func addHandlers(_ channel: any Channel) throws {
            let pipeline = channel.pipeline.syncOperations
            if let tls {
                try pipeline.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: isIPLiteral ? nil : host))
                try pipeline.addHandler(HandshakeWatch(done: handshakeDone))
            }
            try pipeline.addHandler(RawRequestWriter())
            try pipeline.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .fireError)))
            try pipeline.addHandler(ResponseCollector(keep: keep, maxBody: maxBody))
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tunnel {
                        try channel.pipeline.syncOperations.addHandler(
                            ProxyTunnel(target: tunnel.target, server: tunnel.server, done: tunnelOpened), name: ProxyTunnel.name)
                    } else {
                        try addHandlers(channel)
                    }
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(to: proxy?.address ?? address).get()
        } catch {
            throw classify(error)
        }
        // A proxy or receiver that accepts the connection and then says nothing.
        let timer = eventLoop.scheduleTask(deadline: deadline) {
            tunnelOpened.fail(HTTP1Failure.deadline)
            handshakeDone.fail(HTTP1Failure.deadline)
        }
        defer { timer.cancel() }
        do {
            if tunnel != nil {
                try await tunnelOpened.futureResult.get()
                try await channel.eventLoop.submit {
                    channel.pipeline.syncOperations.removeHandler(name: ProxyTunnel.name, promise: nil)
                    try addHandlers(channel)
                }.get()
            }
            if tls != nil {
                do {
                    try await handshakeDone.futureResult.get()
                } catch HTTP1Failure.deadline {
                    throw HTTP1Failure.deadline
                } catch {
                    throw HTTP1Failure.tls(HandshakeWatch.describe(error, host: host))
                }
            }
        } catch {
            channel.close(promise: nil)
            throw classify(error)
        }
        let collector = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ResponseCollector.self), eventLoop: channel.eventLoop)
        }.get()
        return HTTP1Connection(channel: channel, collector: collector)
    }

    /// The head the response decoder is shown, so it knows a POST is outstanding.
    private static let postHead = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")

    /// Sends one request, `wire` being its complete HTTP/1.1 bytes (head and body), and waits
    /// for the response, failing at `deadline`.
    func send(wire: ByteBuffer, deadline: NIODeadline) async throws -> HTTP1Response {
        let channel = self.channel
        let collector = self.collector
        let future: EventLoopFuture<HTTP1Response> = channel.eventLoop.flatSubmit {
            let promise = channel.eventLoop.makePromise(of: HTTP1Response.self)
            collector.value.expect(promise, deadline: deadline, context: channel)
            channel.write(HTTPClientRequestPart.head(Self.postHead), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(wire))).whenFailure { error in
                collector.value.fail(HTTP1Connection.classify(error))
            }
            return promise.futureResult
        }
        return try await future.get()
    }

    func close() {
        channel.close(promise: nil)
    }

    static func classify(_ error: any Error) -> HTTP1Failure {
        if let failure = error as? HTTP1Failure { return failure }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return .connectionRefused
            case ECONNRESET, EPIPE: return .connectionReset
            default: break
            }
        }
        if let error = error as? NIOConnectionError {
            if error.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }) {
                return .connectionRefused
            }
            if error.connectionErrors.contains(where: { ($0.error as? ChannelError).map { if case .connectTimeout = $0 { true } else { false } } ?? false }) {
                return .connectTimeout
            }
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return .connectTimeout
            case .ioOnClosedChannel, .outputClosed, .alreadyClosed, .eof: return .closedBeforeResponse
            default: break
            }
        }
        return .other(String(describing: error))
    }
}

/// Passes requests that were serialized whole (`.body`) to the socket as they are. The `.head`
/// part only told the response decoder above that a request is outstanding, and stops here.
/// Skips the generic encoder and its header validation: hookrelay builds every request itself
/// from validated parts.
final class RawRequestWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case let .body(.byteBuffer(buffer)):
            context.write(wrapOutboundOut(buffer), promise: promise)
        case .head, .body(.fileRegion), .end:
            promise?.succeed()
        }
    }
}

/// Collects the response to the request in flight: status, headers, the first `keep` bytes of
/// the body. Reads past `maxBody` bytes, or past the deadline, end the connection.
final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let keep: Int
    private let maxBody: Int
    private var promise: EventLoopPromise<HTTP1Response>?
    private var timer: Scheduled<Void>?
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private var total = 0
    private var channel: (any Channel)?

    init(keep: Int, maxBody: Int) {
        self.keep = keep
        self.maxBody = maxBody
    }

    func expect(_ promise: EventLoopPromise<HTTP1Response>, deadline: NIODeadline, context channel: any Channel) {
        self.promise = promise
        self.channel = channel
        head = nil
        body.removeAll(keepingCapacity: true)
        total = 0
        // The timer holds the collector until it fires or the response cancels it.
        let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            bound.value.fail(.deadline)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            self.head = head
        case var .body(buffer):
            total += buffer.readableBytes
            if body.count < keep, let bytes = buffer.readBytes(length: min(buffer.readableBytes, keep - body.count)) {
                body += bytes
            }
            if total > maxBody { succeed(reusable: false) }
        case .end:
            succeed(reusable: promise != nil && head?.isKeepAlive ?? false)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(head == nil ? .closedBeforeResponse : .connectionReset)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(HTTP1Connection.classify(error))
    }

    private func succeed(reusable: Bool) {
        guard let promise, let head else { return }
        finish(close: !reusable)
        promise.succeed(HTTP1Response(status: Int(head.status.code), headers: head.headers, body: body, reusable: reusable))
    }

    func fail(_ failure: HTTP1Failure) {
        guard let promise else { return }
        // A connection that failed mid-request cannot be reused.
        finish(close: true)
        promise.fail(failure)
    }

    private func finish(close: Bool) {
        timer?.cancel()
        timer = nil
        promise = nil
        if close { channel?.close(promise: nil) }
    }
}
