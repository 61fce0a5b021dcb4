import Foundation
@testable import HookRelayServer
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// The database restarted under load (issue 15): `serve` on a private PostgreSQL cluster takes
/// events one per request while the cluster is stopped (`-m fast`) and started again. Every
/// answer is 202 or 503, and everything answered 202 is delivered.
@Suite struct ServeRestartTests {
    /// What the load saw: the events answered 202, the answers by status, the restart done.
    final class Load: Sendable {
        let acknowledged = Mutex<[String]>([])
        let answers = Mutex<[Int: Int]>([:])
        let restarted = Mutex(false)
        /// Counts the cluster's stops and starts.
        let changes = Mutex(0)
        /// Requests that met the cluster down: sent while it was, or answered after it changed.
        let metDown = Mutex(0)
    }

    @Test(.enabled(if: PrivatePostgres.runs, Comment(rawValue: PrivatePostgres.skipNote)))
    func aRestartUnderLoadLosesNothingAcknowledgedAndAnswersNo500() async throws {
        let cluster = try PrivatePostgres()
        let serve = try ServeHarness { $0.database = cluster.url }
        _ = try await serve.webhook()
        let load = Load()
        try await serve.run { client in
            var restarter: Task<Void, any Error>?
            var next = 0
            // Until as many events were accepted after the restart as before it.
            var before = 0
            while !(load.restarted.withLock { $0 } && load.acknowledged.withLock { $0.count } >= 2 * before) {
                let id = "r-\(next)"
                next += 1
                let changesBefore = load.changes.withLock { $0 }
                let response = try await client.execute(
                    uri: "/v1/events", method: .post,
                    headers: [.authorization: "Bearer \(ServeHarness.token)", .contentType: "application/json"],
                    body: ByteBuffer(string: ServeOutageTests.event(id)))
                load.answers.withLock { $0[response.status.code, default: 0] += 1 }
                if changesBefore % 2 == 1 || load.changes.withLock({ $0 }) != changesBefore { load.metDown.withLock { $0 += 1 } }
                if response.status == .accepted { load.acknowledged.withLock { $0.append(id) } }
                if restarter == nil, load.acknowledged.withLock({ $0.count }) >= 20 {
                    before = load.acknowledged.withLock { $0.count }
                    restarter = Task.detached {
                        try cluster.stop()
                        load.changes.withLock { $0 += 1 }
                        // Down for a second, so that requests meet it down (a bare restart is quicker
                        // than the 2 s a request waits for a connection).
                        try await Task.sleep(for: .seconds(1))
                        try cluster.start()
                        load.changes.withLock { $0 += 1 }
                        load.restarted.withLock { $0 = true }
                    }
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            try await restarter?.value
            let expected = Set(load.acknowledged.withLock { $0 })
            try await eventually("every acknowledged event delivered", within: .seconds(90)) {
                expected.isSubset(of: serve.sender.tally().keys)
            }
        }
        let answers = load.answers.withLock { $0 }
        #expect(Set(answers.keys).isSubset(of: [202, 503]), "answers \(answers)")
        #expect(load.metDown.withLock { $0 } > 0, "no request met the database down: \(answers)")
        #expect(!serve.log.all.contains { $0.message == "request failed" }, "no 500")
        // (An event answered 503 may still be sent: its commit may have been made as the connection broke.)
        #expect(serve.sender.tally().keys.allSatisfy { $0.hasPrefix("r-") })
    }
}
