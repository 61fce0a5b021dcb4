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
    NewMessage(messageID: id, body: Array(#"{"id":"\#(id)"}"#.utf8), endpoints: endpoints)
}

func outcome(_ delivery: ClaimedDelivery, _ next: DeliveryOutcome.Next, status: Int? = 204, at time: Int64 = 1000) -> DeliveryOutcome {
    DeliveryOutcome(
        delivery: delivery,
        attempt: AttemptRecord(startedAt: time, httpStatus: status, latencyMilliseconds: 3, error: status == 204 ? nil : "HTTP \(status ?? 0)", responseBody: Array("ok".utf8)),
        next: next)
}

/// The same queue semantics hold for the SQLite spool and the in-memory store.
@Suite struct DeliveryStoreTests {
    static let stores: [String] = ["sqlite", "memory"]

    func make(_ kind: String) throws -> any DeliveryStore {
        kind == "sqlite" ? try SQLiteSpool(path: temporarySpool()) : MemoryStore()
    }

    @Test(arguments: stores)
    func appendClaimComplete(_ kind: String) throws {
        let store = try make(kind)
        #expect(try store.append([message("a", ["u1", "u2"]), message("b")], now: 1000) == 3)
        let claimed = try store.claim(limit: 10, now: 1000, lease: 60_000)
        #expect(claimed.map(\.messageID) == ["a", "a", "b"])
        #expect(claimed.map(\.endpoint) == ["u1", "u2", "https://a.example/hook"])
        #expect(claimed[0].body == Array(#"{"id":"a"}"#.utf8))
        // Claimed deliveries are not handed out again while leased.
        #expect(try store.claim(limit: 10, now: 1001, lease: 60_000).isEmpty)
        let states = try store.complete([outcome(claimed[0], .delivered), outcome(claimed[1], .retry(at: 5000), status: 500), outcome(claimed[2], .failed, status: 400)], now: 1002)
        #expect(states.map { $0?.status } == [.delivered, .pending, .failed])
        #expect(states[1]?.attempts == 1)
        #expect(states[1]?.lastHTTPStatus == 500)
        #expect(try store.nextDue() == 5000)
        #expect(try store.claim(limit: 10, now: 4999, lease: 60_000).isEmpty)
        let retried = try store.claim(limit: 10, now: 5000, lease: 60_000)
        #expect(retried.map(\.endpoint) == ["u2"])
        #expect(retried[0].attempts == 1)
    }

    @Test(arguments: stores)
    func expiredLeaseIsClaimedAgainAndTheLateCompletionLoses(_ kind: String) throws {
        let store = try make(kind)
        _ = try store.append([message("a")], now: 0)
        let first = try store.claim(limit: 1, now: 0, lease: 100)
        #expect(try store.nextDue() == 100)
        // The first worker froze past its lease: another claims the same delivery.
        let second = try store.claim(limit: 1, now: 150, lease: 100)
        #expect(second.map(\.id) == first.map(\.id))
        #expect(try store.complete([outcome(second[0], .delivered)], now: 160).first??.status == .delivered)
        // The frozen worker wakes and reports a failure: it must not overwrite the newer state.
        #expect(try store.complete([outcome(first[0], .retry(at: 999), status: 500)], now: 170).map { $0 == nil } == [true])
    }

    @Test(arguments: stores)
    func goneEndpointFailsItsPendingDeliveries(_ kind: String) throws {
        let store = try make(kind)
        _ = try store.append([message("a", ["gone", "ok"]), message("b", ["gone"])], now: 0)
        let failed = try store.failPending(endpoint: "gone", error: "410 Gone", now: 1)
        #expect(failed.map(\.messageID).sorted() == ["a", "b"])
        #expect(failed.allSatisfy { $0.status == .failed && $0.lastError == "410 Gone" })
        #expect(try store.claim(limit: 10, now: 2, lease: 100).map(\.endpoint) == ["ok"])
    }

    @Test func spoolDoesNotAddTheSamePairTwice() throws {
        let store = try SQLiteSpool(path: temporarySpool())
        #expect(try store.append([message("a", ["u1"])], now: 0) == 1)
        #expect(try store.append([message("a", ["u1", "u2"])], now: 0) == 1)
        #expect(try store.counts() == [.pending: 2])
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
