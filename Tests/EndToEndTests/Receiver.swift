import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A webhook receiver on 127.0.0.1 with a port of its own, recording every request and
/// answering as `respond` says.
final class Receiver: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [String: String]
        var body: [UInt8]
        var receivedAt: Date
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    struct Response: Sendable {
        var status: Int = 204
        var headers: [(String, String)] = []
        var body: String = ""
        /// Never answer (the connection stays open).
        var hang = false
        /// Answer this long after the request arrived (without blocking the event loop).
        var delay: TimeAmount? = nil
    }

    /// Decides the answer to the `count`-th request (1-based).
    typealias Respond = @Sendable (_ request: Request, _ count: Int) -> Response

    final class Log: Sendable {
        let state = Mutex<(requests: [Request], connections: Int)>(([], 0))
        /// Requests received and not yet answered (nor their connection closed), and the most at once.
        let inFlight = Mutex<(now: Int, most: Int)>((0, 0))

        func began() { inFlight.withLock { $0.now += 1; $0.most = max($0.most, $0.now) } }
        func ended() { inFlight.withLock { $0.now -= 1 } }
    }

    private let channel: any Channel
    private let log = Log()
    let port: Int
    /// The loopback address listened on (127.0.0.1 unless another is asked for).
    let host: String

    var url: String { "http://\(host):\(port)/hook" }
    var requests: [Request] { log.state.withLock { $0.requests } }
    var connections: Int { log.state.withLock { $0.connections } }
    /// The most requests it held at once (received, not yet answered).
    var mostInFlight: Int { log.inFlight.withLock { $0.most } }

    init(host: String = "127.0.0.1", respond: @escaping Respond = { _, _ in Response() }) throws {
        self.host = host
        let log = self.log
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                log.state.withLock { $0.connections += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(log: log, respond: respond))
                }
            }
        channel = try bootstrap.bind(host: host, port: 0).wait()
        port = channel.localAddress?.port ?? 0
    }

    func stop() {
        try? channel.close().wait()
    }

    /// Waits until `count` requests arrived or `timeout` passed, and returns them all.
    @discardableResult
    func waitFor(_ count: Int, timeout: TimeInterval = 20) -> [Request] {
        let deadline = Date().addingTimeInterval(timeout)
        while requests.count < count, Date() < deadline { usleep(10_000) }
        return requests
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let log: Log
        let respond: Respond
        var head: HTTPRequestHead?
        var body: [UInt8] = []
        /// A request of this connection waits for its answer.
        var answering = false

        init(log: Log, respond: @escaping Respond) {
            self.log = log
            self.respond = respond
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case let .head(head):
                self.head = head
                body = []
            case var .body(buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                guard let head else { return }
                var headers: [String: String] = [:]
                for (name, value) in head.headers { headers[name.lowercased()] = value }
                let request = Request(method: "\(head.method)", path: head.uri, headers: headers, body: body, receivedAt: Date())
                let count = log.state.withLock { state in
                    state.requests.append(request)
                    return state.requests.count
                }
                let response = respond(request, count)
                log.began()
                answering = true
                if response.hang { return }
                if let delay = response.delay {
                    context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                        // The client may have gone away (or been killed) meanwhile.
                        guard context.channel.isActive else { return }
                        self.write(response, version: head.version, context: context)
                    }
                } else {
                    write(response, version: head.version, context: context)
                }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if answering {
                answering = false
                log.ended()
            }
            context.fireChannelInactive()
        }

        private func write(_ response: Response, version: HTTPVersion, context: ChannelHandlerContext) {
            if answering {
                answering = false
                log.ended()
            }
            var responseHeaders = HTTPHeaders(response.headers)
            responseHeaders.add(name: "content-length", value: "\(response.body.utf8.count)")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(
                version: version, status: HTTPResponseStatus(statusCode: response.status), headers: responseHeaders))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
