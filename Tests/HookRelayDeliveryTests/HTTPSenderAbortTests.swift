import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import HookRelayDelivery

/// ``HTTPSender/abortInFlight()`` ends the attempts it cuts off: the closed kept-alive
/// connection is not taken for a stale one and the request sent again on a new connection.
@Suite struct HTTPSenderAbortTests {
    /// Answers its first request with 204 (keeping the connection) and holds every later one;
    /// counts the requests it receives.
    final class HoldingReceiver: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let requests = Atomic<Int>(0)

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let text = String(buffer: unwrapInboundIn(data))
            let seen = text.components(separatedBy: "POST /").count - 1
            guard seen > 0 else { return }
            let before = requests.wrappingAdd(seen, ordering: .relaxed).oldValue
            if before == 0 {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 204 No Content\r\n\r\n")), promise: nil)
            }
        }
    }

    /// On the sender's event loop: with the whole suite running, the cooperative pool can be held
    /// for longer than the send's timeout by other tests' blocking calls (one such wait between
    /// connecting and sending made the first send time out).
    @Test func anAbortedAttemptOnAKeptAliveConnectionIsNotSentAgain() async throws {
        try await withTaskExecutorPreference(HTTPSender.taskExecutor) { try await abortedAttempt() }
    }

    func abortedAttempt() async throws {
        let receiver = HoldingReceiver()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.pipeline.addHandler(receiver) }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let sender = HTTPSender(configuration: SenderConfiguration(
            timeout: .seconds(30), allowHTTP: true, addressGuard: AddressGuard(allowed: [CIDR("127.0.0.1/32")!])))
        let endpoint = try Endpoint("http://127.0.0.1:\(server.localAddress?.port ?? 0)/hook", allowHTTP: true)
        let first = await sender.send(Array("{}".utf8), to: endpoint, headers: [])
        #expect(first.httpStatus == 204)
        let started = ContinuousClock.now
        async let second = sender.send(Array("{}".utf8), to: endpoint, headers: [])
        // Once the held request has arrived on the kept-alive connection, stop.
        while receiver.requests.load(ordering: .relaxed) < 2, ContinuousClock.now - started < .seconds(10) {
            try await Task.sleep(for: .milliseconds(5))
        }
        sender.abortInFlight()
        let cut = await second
        sender.shutdown()
        #expect(cut.httpStatus == nil && sender.abortedInFlight)
        #expect(ContinuousClock.now - started < .seconds(10), "ended by the abort, not the 30 s timeout")
        // Give a resend (the bug) time to arrive before counting.
        try await Task.sleep(for: .milliseconds(200))
        #expect(receiver.requests.load(ordering: .relaxed) == 2, "the cut-off request was not sent again")
        // A send after the abort goes nowhere.
        let after = await sender.send(Array("{}".utf8), to: endpoint, headers: [])
        #expect(after.httpStatus == nil)
        #expect(receiver.requests.load(ordering: .relaxed) == 2)
    }
}
