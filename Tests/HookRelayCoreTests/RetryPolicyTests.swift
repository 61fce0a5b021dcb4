import Testing
@testable import HookRelayCore

/// A seeded generator (SplitMix64), so jitter is reproducible in tests.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Always the largest value: shows where the jitter's upper bound lies.
struct MaximalGenerator: RandomNumberGenerator {
    mutating func next() -> UInt64 { .max }
}

@Suite struct RetryPolicyTests {
    @Test func ceilingsDoubleUpToTheCap() {
        let policy = RetryPolicy(maxAttempts: 8, base: .seconds(1), cap: .seconds(5))
        #expect((1...7).map { policy.ceiling(afterAttempt: $0) } == [1, 2, 4, 5, 5, 5, 5].map { Duration.seconds($0) })
    }

    @Test func ceilingsWithTheDefaults() {
        let policy = RetryPolicy()
        #expect(policy.maxAttempts == 8)
        #expect((1...7).map { policy.ceiling(afterAttempt: $0) } == [1, 2, 4, 8, 16, 32, 64].map { Duration.seconds($0) })
        #expect(policy.ceiling(afterAttempt: 20) == .seconds(300))
        // A huge attempt number neither overflows nor passes the cap.
        #expect(policy.ceiling(afterAttempt: 10_000) == .seconds(300))
    }

    @Test func millisecondBase() {
        let policy = RetryPolicy(maxAttempts: 5, base: .milliseconds(20), cap: .seconds(1))
        #expect((1...4).map { policy.ceiling(afterAttempt: $0) } == [20, 40, 80, 160].map { Duration.milliseconds($0) })
    }

    @Test func jitterStaysWithinZeroAndTheCeiling() throws {
        let policy = RetryPolicy(maxAttempts: 10, base: .milliseconds(100), cap: .seconds(3))
        var random = SeededGenerator(seed: 42)
        for attempt in 1..<10 {
            let ceiling = policy.ceiling(afterAttempt: attempt)
            var seen = Set<Duration>()
            for _ in 0..<500 {
                let delay = try #require(policy.delay(afterAttempt: attempt, using: &random))
                #expect(delay >= .zero && delay <= ceiling, "attempt \(attempt): \(delay) outside [0, \(ceiling)]")
                seen.insert(delay)
            }
            // Full jitter: spread over the range, not a fixed value.
            #expect(seen.count > 50, "attempt \(attempt): only \(seen.count) distinct delays")
            #expect(seen.min()! < ceiling / 4 && seen.max()! > ceiling * 3 / 4)
        }
    }

    @Test func jitterReachesTheCeilingExactly() {
        let policy = RetryPolicy(maxAttempts: 4, base: .seconds(1), cap: .seconds(3))
        var random = MaximalGenerator()
        #expect(policy.delay(afterAttempt: 1, using: &random) == .seconds(1))
        #expect(policy.delay(afterAttempt: 2, using: &random) == .seconds(2))
        // 4 s, capped.
        #expect(policy.delay(afterAttempt: 3, using: &random) == .seconds(3))
        #expect(policy.delay(afterAttempt: 4, using: &random) == nil)
    }

    @Test func sameSeedSameDelays() {
        let policy = RetryPolicy(maxAttempts: 8, base: .seconds(1), cap: .seconds(60))
        var first = SeededGenerator(seed: 7)
        var second = SeededGenerator(seed: 7)
        let a = (1..<8).map { policy.delay(afterAttempt: $0, using: &first) }
        let b = (1..<8).map { policy.delay(afterAttempt: $0, using: &second) }
        #expect(a == b)
    }

    @Test func retryAfterRaisesTheDelay() throws {
        let policy = RetryPolicy(maxAttempts: 8, base: .milliseconds(10), cap: .seconds(5))
        var random = SeededGenerator(seed: 1)
        for _ in 0..<100 {
            let delay = try #require(policy.delay(afterAttempt: 1, retryAfter: .seconds(2), using: &random))
            #expect(delay == .seconds(2))
        }
    }

    @Test func retryAfterDoesNotLowerTheDelay() throws {
        let policy = RetryPolicy(maxAttempts: 8, base: .seconds(4), cap: .seconds(10))
        var random = MaximalGenerator()
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(1), using: &random) == .seconds(4))
    }

    @Test func retryAfterIsCappedAtTheMaximum() throws {
        let policy = RetryPolicy(maxAttempts: 8, base: .milliseconds(10), cap: .seconds(5))
        var random = SeededGenerator(seed: 3)
        for attempt in 1..<8 {
            #expect(policy.delay(afterAttempt: attempt, retryAfter: .seconds(3600), using: &random) == .seconds(5))
        }
    }

    @Test func noDelayAfterTheLastAttempt() {
        let policy = RetryPolicy(maxAttempts: 3, base: .seconds(1), cap: .seconds(10))
        var random = SeededGenerator(seed: 9)
        #expect(policy.delay(afterAttempt: 1, using: &random) != nil)
        #expect(policy.delay(afterAttempt: 2, using: &random) != nil)
        #expect(policy.delay(afterAttempt: 3, using: &random) == nil)
        #expect(policy.delay(afterAttempt: 4, retryAfter: .seconds(1), using: &random) == nil)
        let single = RetryPolicy(maxAttempts: 1)
        #expect(single.delay(afterAttempt: 1, using: &random) == nil)
    }

    @Test func scheduleListsTheCeilingsAndTheirSum() {
        let policy = RetryPolicy(maxAttempts: 5, base: .seconds(1), cap: .seconds(5))
        let (delays, worst) = policy.schedule
        #expect(delays == [1, 2, 4, 5].map { Duration.seconds($0) })
        #expect(worst == .seconds(12))
        #expect(RetryPolicy(maxAttempts: 1).schedule.delays.isEmpty)
    }
}

@Suite struct DurationParsingTests {
    @Test(arguments: [
        ("0.5", Duration.milliseconds(500)),
        ("500ms", .milliseconds(500)),
        ("30s", .seconds(30)),
        ("5m", .seconds(300)),
        ("2h", .seconds(7200)),
        ("1", .seconds(1)),
        ("0", .zero),
        ("1.5s", .milliseconds(1500)),
        ("20ms", .milliseconds(20)),
        ("30d", .seconds(30 * 86400)),
    ])
    func parses(_ text: String, _ expected: Duration) {
        #expect(Duration(parsing: text) == expected, "\(text)")
    }

    @Test(arguments: ["", "abc", "-1", "-5s", "5x", "1.2.3", "ms", "s", "5 m", "nan", "inf", "10w", "1e10h", "20000d"])
    func rejects(_ text: String) {
        #expect(Duration(parsing: text) == nil, "\(text)")
    }

    @Test func shortDescriptions() {
        #expect(Duration.milliseconds(500).shortDescription == "500ms")
        #expect(Duration.seconds(30).shortDescription == "30s")
        #expect(Duration.seconds(300).shortDescription == "5m")
        #expect(Duration.seconds(5400).shortDescription == "1h30m")
        #expect(Duration.milliseconds(1500).shortDescription == "1.5s")
        #expect(Duration.seconds(30 * 86400).shortDescription == "30d")
        #expect(Duration.seconds(86400 + 7200).shortDescription == "1d2h")
    }
}
