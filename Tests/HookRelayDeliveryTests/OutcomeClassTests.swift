import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import HookRelayDelivery

/// The `outcome` label of `serve`'s attempt counter: by status class, else by why an attempt got
/// no status, as the sender really reports it.
@Suite struct OutcomeClassTests {
    typealias OutcomeClass = SendResult.OutcomeClass

    @Test(arguments: [
        (200, OutcomeClass.success), (204, .success), (299, .success),
        (301, .redirect), (304, .redirect), (399, .redirect),
        (400, .clientError), (404, .clientError), (410, .clientError), (429, .clientError), (499, .clientError),
        (500, .serverError), (503, .serverError), (599, .serverError),
        (101, .error), (600, .error), (999, .error),
    ])
    func byStatus(_ status: Int, _ expected: OutcomeClass) {
        // The verdict and the timeout flag do not matter once there is a status.
        #expect(OutcomeClass(httpStatus: status, verdict: .retry, timedOut: false) == expected)
        #expect(OutcomeClass(httpStatus: status, verdict: .permanent, timedOut: true) == expected)
    }

    @Test func withoutAStatus() {
        #expect(OutcomeClass(httpStatus: nil, verdict: .permanent, timedOut: false) == .blocked)
        #expect(OutcomeClass(httpStatus: nil, verdict: .retry, timedOut: true) == .timeout)
        #expect(OutcomeClass(httpStatus: nil, verdict: .retry, timedOut: false) == .error)
    }

    @Test func labelsAreTheDocumentedWords() {
        #expect(OutcomeClass.allCases.map(\.rawValue) == ["2xx", "3xx", "4xx", "5xx", "timeout", "blocked", "error"])
    }

    static let loopback = AddressGuard(allowed: [CIDR("127.0.0.1/32")!])

    @Test func anAddressTheGuardRefusesIsBlocked() async throws {
        let sender = HTTPSender(configuration: SenderConfiguration(allowHTTP: true))
        let endpoint = try Endpoint("http://127.0.0.1:9/hook", allowHTTP: true)
        let result = await sender.send(Array("{}".utf8), to: endpoint, headers: [])
        #expect(result.outcomeClass == .blocked, "\(result.error ?? "-")")
    }

    @Test func aReceiverThatNeverAnswersIsATimeout() async throws {
        // Accepts connections and reads nothing back.
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { silent.close(promise: nil) }
        let sender = HTTPSender(configuration: SenderConfiguration(
            timeout: .milliseconds(300), allowHTTP: true, addressGuard: Self.loopback))
        let endpoint = try Endpoint("http://127.0.0.1:\(silent.localAddress?.port ?? 0)/hook", allowHTTP: true)
        let result = await sender.send(Array("{}".utf8), to: endpoint, headers: [])
        sender.shutdown()
        #expect(result.timedOut)
        #expect(result.outcomeClass == .timeout, "\(result.error ?? "-")")
    }

    @Test func aRefusedConnectionIsAnError() async throws {
        // A port held by a socket that never listens: connecting is refused. (A port closed just
        // before could be taken by another process's server meanwhile, which once held the
        // connection open until the timeout.)
        let held = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(held >= 0)
        defer { close(held) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(held, $0, length) == 0 && getsockname(held, $0, &length) == 0 }
        }
        #expect(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let sender = HTTPSender(configuration: SenderConfiguration(allowHTTP: true, addressGuard: Self.loopback))
        let result = await sender.send(Array("{}".utf8), to: try Endpoint("http://127.0.0.1:\(port)/hook", allowHTTP: true), headers: [])
        #expect(result.httpStatus == nil)
        #expect(!result.timedOut)
        #expect(result.outcomeClass == .error, "\(result.error ?? "-")")
    }
}
