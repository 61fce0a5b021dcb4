import HTTPTypes
import HookRelayAdmin
import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// Hummingbird's HTTP/1 channel with ``ConnectionWatch`` in front of its HTTP decoder and
/// ``RequestWatch`` after it: header and body timeouts, and lingering close after a refusal.
/// The keep-alive idle timeout is Hummingbird's own.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let limits: ServeLimits

    init(responder: @escaping HTTPChannelHandler.Responder, limits: ServeLimits) {
        self.limits = limits
        base = HTTP1Channel(
            responder: responder,
            configuration: .init(additionalChannelHandlers: [RequestWatch()], idleTimeout: TimeAmount(limits.idleTimeout)))
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let limits = limits
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ConnectionWatch(limits: limits), position: .first)
        }.flatMap { base.setup(channel: channel, logger: logger) }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with the timeouts and lingering close of ``GuardedHTTP1Channel``.
    static func guardedHTTP1(limits: ServeLimits) -> HTTPServerBuilder {
        .init { responder in GuardedHTTP1Channel(responder: responder, limits: limits) }
    }
}

extension NIOAsyncChannel {
    /// The element types by name, so the HTTP parts can be named through Hummingbird's own channel type.
    typealias InboundElement = Inbound
    typealias OutboundElement = Outbound
}

/// Request and response parts as Hummingbird's HTTP/1 channel carries them.
typealias RequestPart = HTTP1Channel.Value.InboundElement
typealias ResponsePart = HTTP1Channel.Value.OutboundElement

/// What one connection is doing, as far as its timeouts go. Time is passed in, so the rules can
/// be checked without a clock.
struct ConnectionWatchState {
    enum Phase: Equatable {
        /// Waiting for a request header, until `deadline` (nil: idle between requests, which
        /// Hummingbird's idle timeout bounds, until a first byte arrives).
        case header(deadline: NIODeadline?)
        /// A body arrives: `bytes` since its header at `started`, the last at `lastRead`.
        case body(started: NIODeadline, lastRead: NIODeadline, bytes: Int)
        /// The request is read; the application answers it, which takes what it takes.
        case answering
        /// A refusal was sent before its body was read: the rest is thrown away, `bytesLeft`
        /// more at most, until `until`; then the connection is closed.
        case lingering(until: NIODeadline, bytesLeft: Int)
    }

    enum ReadAction: Equatable { case forward, discard, close }

    let limits: ServeLimits
    private(set) var phase: Phase
    /// The current request's answer is complete (it may be before its body is).
    private var answered = false
    /// Bytes to throw away once the refusal being written is complete.
    private var lingerAfterAnswer: Int?

    init(limits: ServeLimits, now: NIODeadline) {
        self.limits = limits
        phase = .header(deadline: now + TimeAmount(limits.headerTimeout))
    }

    mutating func bytesRead(_ count: Int, now: NIODeadline) -> ReadAction {
        switch phase {
        case .header(deadline: nil):
            phase = .header(deadline: now + TimeAmount(limits.headerTimeout))
        case .body(let started, _, let bytes):
            phase = .body(started: started, lastRead: now, bytes: bytes + count)
        case .lingering(let until, let bytesLeft):
            guard bytesLeft > count else { return .close }
            phase = .lingering(until: until, bytesLeft: bytesLeft - count)
            return .discard
        case .header, .answering:
            break
        }
        return .forward
    }

    mutating func headerRead(now: NIODeadline) {
        guard case .header = phase else { return }
        answered = false
        phase = .body(started: now, lastRead: now, bytes: 0)
    }

    mutating func endRead() {
        guard case .body = phase else { return }
        phase = answered ? .header(deadline: nil) : .answering
    }

    /// Whether the answer must carry `Connection: close`: a refusal written while its body still
    /// arrives ends the connection.
    mutating func answerStarted(status: Int) -> Bool {
        guard case .body = phase, status >= 400 else { return false }
        lingerAfterAnswer = [401, 403, 429].contains(status) ? limits.lingerBytesUnauthenticated : limits.lingerBytes
        return true
    }

    /// Whether to stop sending and linger now that an answer is complete.
    mutating func answerEnded(now: NIODeadline) -> Bool {
        if let bytes = lingerAfterAnswer {
            lingerAfterAnswer = nil
            phase = .lingering(until: now + TimeAmount(limits.lingerTime), bytesLeft: bytes)
            return true
        }
        switch phase {
        case .answering: phase = .header(deadline: nil)
        case .body: answered = true
        default: break
        }
        return false
    }

    /// Whether the connection has run out of time.
    func expired(now: NIODeadline) -> Bool {
        switch phase {
        case .header(let deadline?): return now >= deadline
        case .header(nil), .answering: return false
        case .lingering(let until, _): return now >= until
        case .body(let started, let lastRead, let bytes):
            let grace = TimeAmount(limits.bodyTimeout)
            if now - lastRead >= grace { return true }
            let rated = now - started - grace
            guard rated > .zero else { return false }
            return Double(bytes) < Double(limits.bodyMinimumRate) * Double(rated.nanoseconds) / 1e9
        }
    }
}

/// First in a connection's pipeline, on its bytes: closes it when ``ConnectionWatchState``
/// says time is up, and throws away what a lingering close reads.
final class ConnectionWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    var state: ConnectionWatchState
    /// Whether the client is still there, for work done off the event loop.
    let presence = ClientPresence()
    private var timer: Scheduled<Void>?
    private let tick: TimeAmount

    init(limits: ServeLimits) {
        state = ConnectionWatchState(limits: limits, now: .now())
        let shortest = min(limits.headerTimeout, limits.bodyTimeout, limits.lingerTime)
        tick = .nanoseconds(max(50_000_000, min(1_000_000_000, TimeAmount(shortest).nanoseconds / 5)))
    }

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        schedule(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    /// Reads on while lingering, whatever the handlers behind want: they have stopped asking
    /// (the body was not going to be read), and the client must get its body out to see the answer.
    func lingerStarted() {
        context?.read()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .lingering = state.phase { context.read() }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        presence.leave()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Hummingbird allows half-closure: a client that went away only ends the input.
        if case .inputClosed = event as? ChannelEvent { presence.leave() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = unwrapInboundIn(data).readableBytes
        switch state.bytesRead(count, now: .now()) {
        case .forward: context.fireChannelRead(data)
        case .discard: break
        case .close: context.close(promise: nil)
        }
    }

    private func schedule(_ context: ChannelHandlerContext) {
        let loop = context.eventLoop.assumeIsolated()
        timer = loop.scheduleTask(in: tick) { [self] in
            timer = nil
            guard context.channel.isActive else { return }
            if state.expired(now: .now()) {
                context.close(promise: nil)
            } else {
                schedule(context)
            }
        }
    }
}

/// Whether a connection's client is still there: it is not once it closed its side (sending a
/// request and then ending the input counts as leaving; HTTP clients keep it open for the answer).
final class ClientPresence: Sendable {
    private let gone = Atomic(false)

    var isGone: Bool { gone.load(ordering: .relaxed) }

    func leave() { gone.store(true, ordering: .relaxed) }

    /// The presence of the client of `channel`, as its ``ConnectionWatch`` keeps it; nil on a
    /// channel without one.
    static func of(_ channel: any Channel) async -> ClientPresence? {
        try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: ConnectionWatch.self).presence
        }.get()
    }
}

/// After the HTTP decoder: tells ``ConnectionWatch`` where requests and answers begin and end,
/// and ends with a lingering close a connection whose request was refused before its body was read.
final class RequestWatch: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = RequestPart
    typealias InboundOut = RequestPart
    typealias OutboundIn = ResponsePart
    typealias OutboundOut = ResponsePart

    private var watch: ConnectionWatch?

    func handlerAdded(context: ChannelHandlerContext) {
        watch = try? context.pipeline.syncOperations.handler(type: ConnectionWatch.self)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: watch?.state.headerRead(now: .now())
        case .body: break
        case .end: watch?.state.endRead()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard let watch else { return context.write(data, promise: promise) }
        switch unwrapOutboundIn(data) {
        case .head(var head):
            if watch.state.answerStarted(status: head.status.code) {
                head.headerFields[.connection] = "close"
                return context.write(wrapOutboundOut(.head(head)), promise: promise)
            }
        case .body:
            break
        case .end:
            if watch.state.answerEnded(now: .now()) {
                // Half-close: the client reads the answer, then sees the end; what it still sends
                // is read and thrown away by ConnectionWatch until it stops or the linger ends.
                context.writeAndFlush(data, promise: promise)
                context.close(mode: .output, promise: nil)
                watch.lingerStarted()
                return
            }
        }
        context.write(data, promise: promise)
    }
}

/// The connection cap (Hummingbird stops accepting while it is reached: further connections
/// wait in the listen backlog), with one log line per burst, not one per connection: a burst
/// ends once half the cap is free and a minute has passed since it was reported.
struct ConnectionCap: AvailableConnectionsDelegate {
    let cap: Int
    let logger: Logger
    let now: @Sendable () -> ContinuousClock.Instant
    private var open = 0
    private var reportedAt: ContinuousClock.Instant?

    init(cap: Int, logger: Logger, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.cap = cap
        self.logger = logger
        self.now = now
    }

    mutating func connectionOpened() {
        open += 1
        if open >= cap, reportedAt == nil {
            reportedAt = now()
            logger.warning(
                "connection cap reached: new connections wait until some close; raise max_connections and LimitNOFILE if this is load, not an attack",
                metadata: ["max_connections": "\(cap)"])
        }
    }

    mutating func connectionClosed() {
        open -= 1
        if let reportedAt, open <= cap / 2, now() - reportedAt >= .seconds(60) {
            self.reportedAt = nil
            logger.notice("connections below the cap again", metadata: ["open": "\(open)", "max_connections": "\(cap)"])
        }
    }

    func isAcceptingNewConnections() -> Bool { open < cap }
}
