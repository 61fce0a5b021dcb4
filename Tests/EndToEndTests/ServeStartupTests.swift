import Foundation
import Testing

/// Issue 13: an address in use and a database in use stop `serve` at once with a message that
/// says what to do, exit status 69 (not the database's 74), and nothing created.
@Suite struct ServeStartupTests {
    @Test func anAddressInUseCreatesNothingAndExits69() throws {
        let holder = try Receiver()
        defer { holder.stop() }
        let scratch = try ScratchDirectory()
        let database = scratch.path("fresh.db")
        let result = try HookRelayProcess.run(
            ["serve", "--db", database, "--listen", "127.0.0.1:\(holder.port)"], environment: HookRelayProcess.environment(), timeout: 30)
        #expect(result.status == 69, "\(result.stderr)")
        #expect(result.stderr.contains("cannot listen on 127.0.0.1:\(holder.port): another program listens there"), "\(result.stderr)")
        #expect(result.stderr.contains("another --listen address"), "\(result.stderr)")
        let created = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path)
        #expect(created.isEmpty, "created \(created)")
    }

    @Test func aSecondServeOnTheDatabaseIsRefusedNamingTheFirst() async throws {
        let first = try await ServeProcess.started()
        defer { first.abandon() }
        let pid = try #require(first.pid as Int32?)
        let second = try HookRelayProcess.run(
            ["serve", "--db", first.database, "--listen", "127.0.0.1:0"],
            environment: HookRelayProcess.environment(adding: ["HOOKRELAY_TOKEN": "hrt_second_" + UUID().uuidString]), timeout: 30)
        #expect(second.status == 69, "\(second.stderr)")
        #expect(second.stderr.contains("another hookrelay serve (pid \(pid)) is using \(first.database)"), "\(second.stderr)")
        #expect(second.stderr.contains("PostgreSQL"), "\(second.stderr)")
        // The first one is untouched, and once it stopped the database is free again.
        #expect(try await first.get("/healthz").status == 200)
        #expect(await first.stop().status == 0)
        try await first.start()
        #expect(await first.stop().status == 0)
    }
}
