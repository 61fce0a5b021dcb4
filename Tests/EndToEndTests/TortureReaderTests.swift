import Foundation
import Testing

extension TortureSuite {
    /// A long reader (issue 7, 3): another process holds a read transaction open on the database
    /// (as a backup or a report would) while `serve` ingests events one request each. Every request
    /// is answered 202; "database is locked" reaches no client and no log line.
    @Suite struct TortureReaderTests {
        /// Opens the database, starts a read transaction, prints the message count, and keeps the
        /// transaction until the file named by the second argument exists; then prints the count
        /// again (the same, if the snapshot was held) and ends it.
        static let reader = """
            import os, sqlite3, sys, time
            con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
            con.execute("BEGIN")
            print(con.execute("SELECT count(*) FROM messages").fetchone()[0], flush=True)
            while not os.path.exists(sys.argv[2]):
                time.sleep(0.05)
            print(con.execute("SELECT count(*) FROM messages").fetchone()[0], flush=True)
            con.execute("COMMIT")
            con.close()
            """

        @Test func aLongReadTransactionHoldsUpNoIngest() async throws {
            let count = Torture.scale(10_000, long: 50_000)
            let lanes = 16
            let receiver = try Receiver()
            defer { receiver.stop() }
            let server = try await ServeProcess.started()
            defer { server.abandon() }
            _ = try await server.createWebhook(receiver)
            #expect(try await server.postEvent(#"{"event_type":"finding","id":"before-reader"}"#).status == 202)

            let release = server.scratch.path("release-reader")
            let reader = try WatchedProcess.python(Self.reader, [server.database, release])
            try await Serve.waitUntil(timeout: 20) { reader.stdoutSoFar.hasSuffix("\n") || !reader.isRunning }
            let snapshot = reader.stdoutSoFar.trimmingCharacters(in: .whitespacesAndNewlines)
            try #require(snapshot == "1", "the reader did not start its transaction: \(snapshot) \(reader.stderrSoFar)")

            let walPeak = Shared(0)
            let done = Setting(false)
            let started = Date()
            let token = try #require(server.token)
            let (answered, failures) = try await withThrowingTaskGroup(of: ([Int: Int], [String])?.self) { group in
                group.addTask {
                    await RawHTTP.postMany(
                        port: server.port, path: "/v1/events", headers: ["Authorization: Bearer \(token)", "Content-Type: application/json"],
                        count: count, lanes: lanes
                    ) { #"{"event_type":"finding","id":"r-\#($0)","finding":{"severity":"low"}}"# }
                }
                group.addTask {
                    // The WAL cannot be reset while the reader's snapshot needs it: it only grows.
                    let wal = server.database + "-wal"
                    while !done.get() {
                        let size = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? nil
                        walPeak.update { $0 = max($0, size ?? 0) }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    return nil
                }
                let result = try await group.next()!!
                done.set(true)
                try await group.waitForAll()
                return result
            }
            let seconds = Date().timeIntervalSince(started)
            #expect(reader.isRunning, "the reader ended early: \(reader.stderrSoFar)")
            _ = FileManager.default.createFile(atPath: release, contents: nil)
            let ended = try await reader.wait(timeout: 20)
            #expect(ended.status == 0, "\(ended.stderr)")
            #expect(ended.lines == ["1", "1"], "the reader's snapshot was not held: \(ended.lines)")

            #expect(answered == [202: count], "\(answered); first failures: \(failures.prefix(3))")
            let locked = failures.filter { $0.contains("locked") || $0.contains("busy") }
            #expect(locked.isEmpty, "\(locked.prefix(3))")
            let delivered = try await Serve.waitFor(receiver, count + 1, timeout: Torture.scale(60, long: 240))
            #expect(Set(Deliver.ids(delivered)).count == count + 1)
            let exit = await server.stop()
            #expect(exit.status == 0)
            let problems = server.allLogs.split(separator: "\n").filter {
                $0.contains("locked") || $0.contains("busy") || $0.contains(" error ") || $0.contains("ingest failed")
            }
            #expect(problems.isEmpty, "\(problems.prefix(3))")
            let integrity = try await SQLiteCheck.integrity(server.database)
            #expect(integrity == "ok")
            Torture.report(
                "long reader: \(count) single-event ingests on \(lanes) connections in \(String(format: "%.1f", seconds)) s "
                    + "(\(Int(Double(count) / seconds))/s) beside an open read transaction, 202 \(answered[202] ?? 0), "
                    + "other \(count - (answered[202] ?? 0)), locked or busy: \(locked.count) responses, \(problems.count) log lines, "
                    + "WAL peak \(Torture.megabytes(kilobytes: walPeak.value / 1024)), all \(count) delivered: \(Set(Deliver.ids(delivered)).count == count + 1)")
        }
    }
}
