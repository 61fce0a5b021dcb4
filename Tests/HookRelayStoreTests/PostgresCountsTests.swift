import Dispatch
import Foundation
import Synchronization
import Testing
@testable import HookRelayPostgres
@testable import HookRelayStore

/// The counts the triggers keep on PostgreSQL (by webhook and status, split over slots) and
/// pruning's clean-up of those that came to zero, against another transaction changing them.
@Suite(.enabled(if: PostgresTestServer.runs, PostgresTestServer.note))
struct PostgresCountsTests {
    /// A webhook's pending deliveries sum to zero over two slots; another transaction adds one to
    /// a slot and commits while pruning waits for that row: the count is kept, not deleted with
    /// the group that summed to zero before it.
    @Test func pruningKeepsACountAnotherTransactionRaisedMeanwhile() throws {
        let url = try PostgresTestServer.freshURL()
        let store = try PostgresStore.open(url, role: .writer)
        try PostgresStore.execute(
            ["INSERT INTO delivery_counts (endpoint, status, slot, n) VALUES ('w', 'pending', 0, 1), ('w', 'pending', 1, -1)"],
            at: PostgresLocation(url))
        let raised = DispatchSemaphore(value: 0)
        let committed = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
        DispatchQueue.global().async {
            do {
                let other = try PostgresStore.open(url, role: .writer)
                try other.run("raising a count") { session in
                    try await session.transaction(durable: false) { session in
                        try await session.execute("UPDATE delivery_counts SET n = n + 1 WHERE endpoint = 'w' AND status = 'pending' AND slot = 0")
                        raised.signal()
                        // Long enough for pruning to reach the row and wait for it.
                        try await Task.sleep(for: .milliseconds(500))
                    }
                }
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            committed.signal()
        }
        raised.wait()
        _ = try store.pruneAudit(before: 0, limit: 100)
        committed.wait()
        #expect(failure.withLock { $0 } == nil)
        let pending = try store.run("summing") { session in
            try await session.optionalInt("SELECT sum(n)::bigint FROM delivery_counts WHERE endpoint = 'w' AND status = 'pending'")
        }
        #expect(pending == 1)
        // With nothing changing it any more, a group that sums to zero is removed.
        try PostgresStore.execute(["INSERT INTO delivery_counts (endpoint, status, slot, n) VALUES ('w', 'pending', 2, -1)"], at: PostgresLocation(url))
        _ = try store.pruneAudit(before: 0, limit: 100)
        let rows = try store.run("counting") { session in try await session.count("SELECT count(*) FROM delivery_counts WHERE endpoint = 'w'") }
        #expect(rows == 0)
    }
}
