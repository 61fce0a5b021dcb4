import HookRelayCore
import NIOCore
import NIOSSL
import NIOTLS

/// Where a connection goes through a proxy: the proxy's address, and for an https target the
/// tunnel to ask for (`CONNECT 203.0.113.5:443`: the target's vetted address, never its name).
struct ProxyHop: Sendable {
    let address: SocketAddress
    let server: ProxyServer
    /// `address:port` to `CONNECT` to; nil for an http target (sent in absolute form instead).
    let tunnel: String?
}

/// Asks the proxy for a tunnel as soon as the connection is up, and completes `done` when the
/// proxy answers 2xx (the tunnel is open: TLS to the receiver starts next) or fails it with
/// the proxy's refusal.
final class ProxyTunnel: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    let done: EventLoopPromise<Void>
    private let request: String
    private var received = ByteBuffer()
    private var finished = false

    /// The most bytes of a proxy's answer to CONNECT read before giving up on it.
    static let maxAnswer = 16 << 10

    static let name = "hookrelay.proxy-tunnel"

    init(target: String, server: ProxyServer, done: EventLoopPromise<Void>) {
        self.done = done
        var request = "CONNECT \(target) HTTP/1.1\r\nhost: \(target)\r\n"
        if let authorization = server.authorization { request += "proxy-authorization: \(authorization)\r\n" }
        self.request = request + "\r\n"
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { ask(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        ask(context)
        context.fireChannelActive()
    }

    private func ask(_ context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received.writeBuffer(&buffer)
        let view = received.readableBytesView
        guard let end = view.firstRange(of: Array("\r\n\r\n".utf8)) else {
            if received.readableBytes > Self.maxAnswer { finish(.failure(HTTP1Failure.proxyRefused("an answer to CONNECT longer than 16 KiB"))) }
            return
        }
        let head = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
        let statusLine = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            finish(.failure(HTTP1Failure.proxyRefused("not an HTTP answer to CONNECT")))
            return
        }
        if (200..<300).contains(status) {
            finish(.success(()))
        } else {
            let reason = parts.count > 2 ? " " + JSONString.printable(String(parts[2].prefix(200))) : ""
            finish(.failure(HTTP1Failure.proxyRefused("\(status)\(reason)")))
        }
    }

    /// A promise must not outlive its handler unfulfilled (a connect that failed, a close).
    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.ioOnClosedChannel))
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(HTTP1Failure.proxyRefused("the proxy closed the connection without answering CONNECT")))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(HTTP1Connection.classify(error)))
        context.close(promise: nil)
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard !finished else { return }
        finished = true
        done.completeWith(result)
    }
}

/// Completes `done` when the TLS handshake with the receiver is over (or failed), so that a
/// connection is handed out only after it, and a handshake failure is reported as one.
final class HandshakeWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    let done: EventLoopPromise<Void>
    private var finished = false

    init(done: EventLoopPromise<Void>) {
        self.done = done
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event { finish(.success(())) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.eof))
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard !finished else { return }
        finished = true
        done.completeWith(result)
    }

    /// What a failed handshake with `host` means, and what to do about it.
    static func describe(_ error: any Error, host: String) -> String {
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "TLS: the certificate of \(host) is not issued for that name; check the URL's host"
        }
        if case ChannelError.eof = error {
            return "TLS: \(host) closed the connection during the handshake"
        }
        let reason = TLSOptions.reason(error)
        switch reason {
        case "CERTIFICATE_VERIFY_FAILED":
            return "TLS: the certificate of \(host) is not trusted (certificate verify failed); "
                + "for a receiver with a private CA give that CA (the webhook's \"ca\", config ca_file, or --ca-file)"
        case let alert where alert.contains("ALERT"):
            return "TLS: \(host) refused the handshake (\(alert)); it may require a client certificate "
                + "(the webhook's client_cert and client_key, or --client-cert and --client-key) or not accept the one given"
        default:
            return "TLS handshake with \(host) failed (\(reason))"
        }
    }
}
