import Foundation
import Testing
@testable import HookRelayStore

/// A spool file in a fresh temporary directory.
func temporarySpool() -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-store-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("spool.db").path
}

func message(_ id: String, _ endpoints: [String] = ["https://a.example/hook"]) -> NewMessage {
    NewMessage(messageID: id, body: Array(#"{"id":"\#(id)"}"#.utf8), targets: endpoints)
}

func outcome(_ delivery: ClaimedDelivery, _ next: DeliveryOutcome.Next, status: Int? = 204, at time: Int64 = 1000) -> DeliveryOutcome {
    DeliveryOutcome(
        delivery: delivery,
        attempt: AttemptRecord(startedAt: time, httpStatus: status, latencyMilliseconds: 3, error: status == 204 ? nil : "HTTP \(status ?? 0)", responseBody: Array("ok".utf8)),
        next: next)
}

/// What only the SQLite spool does: de-duplication, durability, the attempt log, orphans.
@Suite struct SQLiteSpoolTests {
    @Test func spoolDoesNotAddTheSamePairTwice() throws {
        let store = try SQLiteSpool(path: temporarySpool())
        #expect(try store.append([message("a", ["u1"])], now: 0) == 1)
        #expect(try store.append([message("a", ["u1", "u2"])], now: 0) == 1)
        #expect(try store.counts() == [.pending: 2])
        // The same within one append, past a multi-row statement's worth of rows.
        let many = (0..<SQLiteSpool.deliveryRowsPerStatement).map { "m\($0)" }
        #expect(try store.append([message("b", many + ["u1"]), message("b", ["u1", "u3"] + many)], now: 0) == many.count + 2)
        #expect(try store.counts() == [.pending: many.count + 4])
    }

    @Test func aTestEventsIDMustBeNew() throws {
        let store = try SQLiteSpool(path: temporarySpool())
        #expect(try store.appendClaimed("t1", body: [], endpoint: "w", now: 0, lease: 10).messageID == "t1")
        #expect(throws: SQLiteError.self) { try store.appendClaimed("t1", body: [], endpoint: "w", now: 0, lease: 10) }
        #expect(try store.counts() == [.pending: 1])
    }

    @Test func spoolSurvivesReopeningAndRequeuesFailed() throws {
        let path = temporarySpool()
        do {
            let store = try SQLiteSpool(path: path)
            _ = try store.append([message("a"), message("b")], now: 0)
            let claimed = try store.claim(limit: 2, now: 0, lease: 100)
            _ = try store.complete([outcome(claimed[0], .failed, status: 500), outcome(claimed[1], .delivered)], now: 1)
        }
        let reopened = try SQLiteSpool(path: path)
        #expect(try reopened.counts() == [.failed: 1, .delivered: 1])
        #expect(try reopened.requeueFailed(now: 10) == 1)
        let again = try reopened.claim(limit: 5, now: 10, lease: 100)
        #expect(again.map(\.messageID) == ["a"])
        #expect(again.first?.attempts == 0)
    }

    @Test func attemptsAreLogged() throws {
        let store = try SQLiteSpool(path: temporarySpool())
        _ = try store.append([message("a")], now: 0)
        let claimed = try store.claim(limit: 1, now: 0, lease: 100)
        _ = try store.complete([outcome(claimed[0], .retry(at: 5), status: 503)], now: 1)
        let rows = try store.connection.statement("SELECT http_status, latency_ms, error, response_body FROM attempts")
        #expect(try rows.step())
        #expect(rows.int(0) == 503)
        #expect(rows.text(2) == "HTTP 503")
        #expect(rows.blob(3) == Array("ok".utf8))
    }

    @Test func orphanedClaimsOfDeadProcessesAreReleased() throws {
        let store = try SQLiteSpool(path: temporarySpool())
        _ = try store.append([message("a"), message("b")], now: 0)
        _ = try store.claim(limit: 2, now: 0, lease: 1_000_000)
        // Pretend the claims belong to a process that has exited (pid 2^22+1 is above pid_max here).
        try store.connection.execute("UPDATE deliveries SET lease_owner = 'pid:4194305'")
        #expect(try store.claim(limit: 2, now: 1, lease: 100).isEmpty)
        #expect(try store.recoverOrphans(now: 1) == 2)
        #expect(try store.claim(limit: 2, now: 1, lease: 100).count == 2)
        // Claims of a live process (the parent of this one) are left alone.
        try store.connection.execute("UPDATE deliveries SET lease_owner = 'pid:\(getppid())'")
        #expect(try store.recoverOrphans(now: 1) == 0)
    }

    @Test func concurrentClaimersNeverShareADelivery() async throws {
        let path = temporarySpool()
        let writer = try SQLiteSpool(path: path)
        _ = try writer.append((0..<2000).map { message("m\($0)") }, now: 0)
        let claims = await withTaskGroup(of: [Int64].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    guard let store = try? SQLiteSpool(path: path, durableWrites: false) else { return [] }
                    var ids: [Int64] = []
                    while let batch = try? store.claim(limit: 37, now: 0, lease: 1_000_000), !batch.isEmpty {
                        ids += batch.map(\.id)
                    }
                    return ids
                }
            }
            var all: [Int64] = []
            for await ids in group { all += ids }
            return all
        }
        #expect(claims.count == 2000)
        #expect(Set(claims).count == 2000)
    }

    @Test func refusesANewerSchema() throws {
        let path = temporarySpool()
        _ = try SQLiteSpool(path: path)
        try SQLiteConnection(path: path).execute("PRAGMA user_version = 99")
        #expect(throws: SQLiteError.self) { _ = try SQLiteSpool(path: path) }
    }
}
