import HookRelayCore
import Testing

/// Inputs the fuzzer (contrib/fuzz) found to crash, each with the answer now expected.
@Suite struct FuzzRegressionTests {
    /// crash-a968d365…: Unix seconds too large for milliseconds overflowed (a `?since=` of the
    /// API, an admin command's `--since`).
    @Test(arguments: ["31312312312312312", "9223372036854775807", "253402300800", "-1"])
    func unixSecondsBeyondYear9999AreNotATime(_ text: String) {
        #expect(TimeSpec.parse(text, now: 0) == nil)
    }

    @Test func theLastSecondOfYear9999IsATime() {
        #expect(TimeSpec.parse("253402300799", now: 0) == 253_402_300_799_000)
    }
}
