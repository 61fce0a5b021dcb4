import Foundation
import HookRelayCore
import Testing

/// `UnixTime.iso8601` writes by arithmetic what Foundation's ISO8601DateFormatter writes.
@Suite struct UnixTimeTests {
    static func foundation(_ ms: Int64, fractional: Bool) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = fractional ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    @Test func itWritesWhatISO8601DateFormatterWrites() {
        // Edges (the epoch, leap days, month and year ends, far years) and a random spread.
        var times: [Int64] = [0, 999, 1000, 86_399_999, 951_782_400_000, 951_868_799_999, 1_709_164_800_000,
                              1_735_689_599_999, 1_764_411_420_250, 4_102_444_800_000, 253_402_300_799_999]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 { times.append(Int64.random(in: 0...253_402_300_799_999, using: &generator)) }
        for ms in times {
            #expect(UnixTime.iso8601(ms) == Self.foundation(ms, fractional: false), "\(ms)")
            #expect(UnixTime.iso8601(ms, fractional: true) == Self.foundation(ms, fractional: true), "\(ms)")
        }
        #expect(UnixTime.iso8601(1_764_411_420_000) == "2025-11-29T10:17:00Z")
        #expect(UnixTime.iso8601(1_764_411_420_005, fractional: true) == "2025-11-29T10:17:00.005Z")
    }
}
