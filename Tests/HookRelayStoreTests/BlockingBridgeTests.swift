import Testing
@testable import HookRelayPostgres

/// The bridge between the stores' synchronous calls and postgres-nio's tasks.
@Suite struct BlockingBridgeTests {
    /// A task that does not heed its cancellation (once, something ingest awaited during an
    /// outage did not) does not hold its caller for good: past the limit and a grace, the call
    /// throws and the task is left to end by itself.
    @Test func aCallWhoseTaskIgnoresItsCancellationStillEnds() throws {
        let bridge = BlockingBridge(cancellationGrace: .milliseconds(50))
        #expect(throws: TimedOut.self) {
            try bridge.run(timeout: .milliseconds(20)) {
                await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in }
            }
        }
        // A call that ends in time is unchanged.
        #expect(try bridge.run(timeout: .seconds(5)) { 42 } == 42)
    }
}
