import Foundation
import Testing

/// The load of the kill tests (`TortureCrashTests`, `TortureSharedDatabaseTests`): random events
/// in NDJSON batches of 1–40 to `serve` while processes are killed, what was acknowledged, and
/// the check that all of it arrived, each request with its own event's `webhook-id`.
final class TortureLoad: Sendable {
    let prefix: String
    /// Every event sent, by id.
    let bodies = Shared<[String: String]>([:])
    /// Events answered 202: id → whether it goes to the `high` webhook too.
    let acknowledged = Shared<[String: Bool]>([:])
    let stop = Setting(false)

    init(prefix: String) { self.prefix = prefix }

    /// Posts batches until ``stop``, the n-th batch to `server(n)`. A request refused or cut by
    /// a kill is not acknowledged; its events may still arrive.
    func run(pause: ClosedRange<Int>, server: @Sendable (Int) -> ServeProcess) async throws {
        var random = SystemRandomNumberGenerator()
        var next = 0
        var batches = 0
        while !stop.get() {
            let batch = (0..<Int.random(in: 1...40, using: &random)).map { _ in
                defer { next += 1 }
                return TortureSuite.TortureCrashTests.event("\(prefix)\(next)", random: &random)
            }
            let ids = (next - batch.count..<next).map { "\(prefix)\($0)" }
            bodies.update { for (id, event) in zip(ids, batch) { $0[id] = event.body } }
            if let response = try? await server(batches).postEvents(batch.map(\.body)), response.status == 202 {
                acknowledged.update { for (id, event) in zip(ids, batch) { $0[id] = event.high } }
            }
            batches += 1
            try await Task.sleep(for: .milliseconds(Int.random(in: pause, using: &random)))
        }
    }

    /// The acknowledged events each receiver must get: every one to `all`, the high ones to `high`.
    var expected: (all: Set<String>, high: Set<String>) {
        let acked = acknowledged.value
        return (Set(acked.keys), Set(acked.filter(\.value).keys))
    }

    /// Waits until everything acknowledged has arrived (or `timeout`); whether it did.
    func waitForArrivals(all: Receiver, high: Receiver, timeout: TimeInterval) async throws -> Bool {
        let (expectedAll, expectedHigh) = expected
        return try await Serve.waitUntil(timeout: timeout) {
            expectedAll.isSubset(of: Deliver.ids(all.requests)) && expectedHigh.isSubset(of: Deliver.ids(high.requests))
        }
    }

    /// Expects every acknowledged event at its receivers, each request (first or repeated) with
    /// the `webhook-id` of its own body; returns how many were lost and repeated.
    func checkArrivals(all: Receiver, high: Receiver) -> (lost: Int, duplicates: Int) {
        let sent = bodies.value
        let (expectedAll, expectedHigh) = expected
        var duplicates = 0
        var lost = 0
        for (receiver, expected) in [(all, expectedAll), (high, expectedHigh)] {
            let requests = receiver.requests
            let tally = Deliver.tally(requests)
            duplicates += requests.count - tally.count
            let missing = expected.subtracting(tally.keys)
            lost += missing.count
            #expect(missing.isEmpty, "\(missing.count) acknowledged events never reached \(receiver.url): \(missing.sorted().prefix(10))")
            let mismatched = requests.filter { sent[$0.headers["webhook-id"] ?? ""] != $0.text }
            #expect(mismatched.isEmpty, "\(mismatched.count) requests carried another event's webhook-id or body")
        }
        return (lost, duplicates)
    }
}
