import Foundation
import HookRelayAdmin
@testable import HookRelayServer
import Logging
import NIOCore
import Synchronization
import Testing

/// The rules behind serve's backoff on wrong tokens and its connection timeouts, in process with
/// time passed in (issue 12): nothing here sleeps.
@Suite struct ServeLimitsTests {
    /// A log handler keeping the messages, to count lines per burst.
    final class Lines: LogHandler, @unchecked Sendable {
        let messages = Mutex<[String]>([])
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { messages.withLock { $0.append("\(event.message)") } }
    }

    /// A clock the test moves.
    final class ManualClock: Sendable {
        private let offset = Mutex(Duration.zero)
        let start = ContinuousClock.now
        var now: ContinuousClock.Instant { start + offset.withLock { $0 } }
        func advance(_ duration: Duration) { offset.withLock { $0 += duration } }
    }

    @Test func wrongTokensEarnAWaitThatDoublesUpToTheLimitAndOneLogLinePerBurst() {
        let clock = ManualClock()
        let lines = Lines()
        let throttle = AuthThrottle(limits: ServeLimits(), logger: Logger(label: "t") { _ in lines }, now: { clock.now })
        for _ in 0..<4 { throttle.failed("192.0.2.1") }
        #expect(throttle.check("192.0.2.1") == .allowed, "four failures are allowed")
        throttle.failed("192.0.2.1")
        #expect(throttle.check("192.0.2.1") == .wait(seconds: 1))
        #expect(throttle.check("192.0.2.2") == .allowed, "another client is not held off")
        var waits: [Int] = []
        for _ in 0..<12 {
            guard case .wait(let seconds) = throttle.check("192.0.2.1") else { Issue.record("not held off"); return }
            waits.append(seconds)
            clock.advance(.seconds(seconds))
            #expect(throttle.check("192.0.2.1") == .allowed)
            throttle.failed("192.0.2.1")
        }
        #expect(waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300], "\(waits)")
        #expect(lines.messages.withLock { $0.count } == 1, "\(lines.messages.withLock { $0 })")

        // A right token clears the count: four more failures are allowed again.
        clock.advance(.seconds(300))
        throttle.succeeded("192.0.2.1")
        for _ in 0..<4 { throttle.failed("192.0.2.1") }
        #expect(throttle.check("192.0.2.1") == .allowed)
        // A new burst is reported again.
        throttle.failed("192.0.2.1")
        #expect(throttle.check("192.0.2.1") == .wait(seconds: 1))
        #expect(lines.messages.withLock { $0.count } == 2)
    }

    @Test func aQuietClientStartsAfresh() {
        let clock = ManualClock()
        let throttle = AuthThrottle(limits: ServeLimits(), logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() }, now: { clock.now })
        for _ in 0..<4 { throttle.failed("198.51.100.7") }
        clock.advance(.seconds(301))
        throttle.failed("198.51.100.7")
        #expect(throttle.check("198.51.100.7") == .allowed, "failures of an earlier burst counted")
    }

    @Test func theHeaderTimeoutRunsFromTheStartAndFromTheFirstByteOfTheNextRequest() {
        var limits = ServeLimits()
        limits.headerTimeout = .seconds(10)
        let start = NIODeadline.now()
        var state = ConnectionWatchState(limits: limits, now: start)
        #expect(!state.expired(now: start + .seconds(9)))
        #expect(state.expired(now: start + .seconds(10)), "a silent new connection is closed after the header timeout")
        state.headerRead(now: start + .seconds(1))
        state.endRead()
        let lingers = state.answerEnded(now: start + .seconds(2))
        #expect(!lingers)
        #expect(!state.expired(now: start + .seconds(100)), "between requests, only the idle timeout applies")
        let firstByte = state.bytesRead(10, now: start + .seconds(100))
        #expect(firstByte == .forward)
        #expect(state.expired(now: start + .seconds(110)), "a header started and stopped")
    }

    @Test func aBodyMustKeepComingAndAverageTheMinimumRate() {
        var limits = ServeLimits()
        limits.bodyTimeout = .seconds(10)
        limits.bodyMinimumRate = 1000
        let start = NIODeadline.now()
        var state = ConnectionWatchState(limits: limits, now: start)
        state.headerRead(now: start)
        // 9 s of silence is allowed, 10 s is not.
        #expect(!state.expired(now: start + .seconds(9)))
        #expect(state.expired(now: start + .seconds(10)))
        // 1,000 bytes a second after the grace keep it going; less ends it.
        _ = state.bytesRead(5000, now: start + .seconds(9))
        _ = state.bytesRead(5000, now: start + .seconds(18))
        #expect(!state.expired(now: start + .seconds(20)), "10,000 bytes in 20 s is the minimum rate")
        _ = state.bytesRead(100, now: start + .seconds(25))
        #expect(state.expired(now: start + .seconds(26)), "10,100 bytes in 26 s is under it")
    }

    @Test func aRefusalBeforeTheBodyEndsLingersWithinItsBounds() {
        var limits = ServeLimits()
        limits.lingerTime = .seconds(5)
        limits.lingerBytes = 1000
        limits.lingerBytesUnauthenticated = 100
        let start = NIODeadline.now()
        var state = ConnectionWatchState(limits: limits, now: start)
        state.headerRead(now: start)
        let closes = state.answerStarted(status: 413)
        #expect(closes, "Connection: close on a 413 before the body ended")
        let lingers = state.answerEnded(now: start)
        #expect(lingers)
        let first = state.bytesRead(600, now: start)
        let second = state.bytesRead(600, now: start)
        #expect(first == .discard)
        #expect(second == .close, "more than lingerBytes")

        var unauthenticated = ConnectionWatchState(limits: limits, now: start)
        unauthenticated.headerRead(now: start)
        let closesToo = unauthenticated.answerStarted(status: 401)
        let lingersToo = unauthenticated.answerEnded(now: start)
        let read = unauthenticated.bytesRead(200, now: start)
        #expect(closesToo && lingersToo)
        #expect(read == .close, "an unauthenticated body is not read on")

        var slow = ConnectionWatchState(limits: limits, now: start)
        slow.headerRead(now: start)
        _ = slow.answerStarted(status: 503)
        _ = slow.answerEnded(now: start)
        #expect(!slow.expired(now: start + .seconds(4)))
        #expect(slow.expired(now: start + .seconds(5)), "lingering ends after lingerTime")

        var whole = ConnectionWatchState(limits: limits, now: start)
        whole.headerRead(now: start)
        whole.endRead()
        let closesAfterWhole = whole.answerStarted(status: 413)
        #expect(!closesAfterWhole, "a refusal after the whole body keeps the connection")
    }

    @Test func theConnectionCapLeavesRoomForTheRest() {
        var limits = ServeLimits()
        #expect(limits.connectionCap(concurrency: 32, descriptorLimit: 1024) == (896, false))
        limits.maxConnections = 100
        #expect(limits.connectionCap(concurrency: 32, descriptorLimit: 1024) == (100, false))
        limits.maxConnections = 5000
        #expect(limits.connectionCap(concurrency: 32, descriptorLimit: 1024) == (896, true))
    }

    @Test func reachingTheCapIsLoggedOncePerBurst() {
        let clock = ManualClock()
        let lines = Lines()
        var cap = ConnectionCap(cap: 10, logger: Logger(label: "t") { _ in lines }, now: { clock.now })
        for _ in 0..<10 { cap.connectionOpened() }
        #expect(!cap.isAcceptingNewConnections())
        // Flapping at the cap is one burst.
        for _ in 0..<50 {
            cap.connectionClosed()
            #expect(cap.isAcceptingNewConnections())
            cap.connectionOpened()
        }
        #expect(lines.messages.withLock { $0.count } == 1, "\(lines.messages.withLock { $0 })")
        // Half free, but within the minute: still the same burst.
        for _ in 0..<5 { cap.connectionClosed() }
        for _ in 0..<5 { cap.connectionOpened() }
        #expect(lines.messages.withLock { $0.count } == 1)
        // Half free after the minute: the burst ended; the next one is reported.
        clock.advance(.seconds(61))
        for _ in 0..<5 { cap.connectionClosed() }
        #expect(lines.messages.withLock { $0.last?.hasPrefix("connections below the cap again") ?? false })
        for _ in 0..<5 { cap.connectionOpened() }
        #expect(lines.messages.withLock { $0.count } == 3, "\(lines.messages.withLock { $0 })")
    }
}
