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

/// Issue 14: what changes a webhook's health in another process (an admin command's attempt)
/// reaches the running daemon, which then treats the webhook by its new state.
@Suite struct ServeDirectoryTests {
    @Test func aWebhookDisabledByAnAdminCommandsAttemptIsSkippedByTheDaemon() async throws {
        let gone = Setting(false)
        let receiver = try Receiver { _, _ in Receiver.Response(status: gone.get() ? 410 : 204) }
        defer { receiver.stop() }
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        let webhook = try await server.createWebhook(receiver)
        gone.set(true)
        let test = try await AdminCommandTests.run(
            ["webhooks", "test", webhook.id, "--allow-http", "--allow-cidr", "127.0.0.1/32"], db: server.database)
        #expect(test.status == 69, "\(test.stderr)")
        #expect(try await server.webhook(webhook.id).string("state") == "disabled")
        let sent = receiver.requests.count

        // The daemon's watcher sees the health change within a second: new events are skipped.
        var skipped = false
        for attempt in 0..<40 where !skipped {
            #expect(try await server.postEvent(#"{"event_type":"finding","id":"after-disable-\#(attempt)"}"#).status == 202)
            let list = try await server.get("/v1/deliveries?status=skipped")["deliveries"] as? [[String: Any]] ?? []
            skipped = !list.isEmpty
            if !skipped { try await Serve.pause(0.1) }
        }
        #expect(skipped, "\(server.log)")
        // Events posted before it noticed may have been sent; none after.
        let whenSkipped = receiver.requests.count
        #expect(try await server.postEvent(#"{"event_type":"finding","id":"after-disable-last"}"#).status == 202)
        try await Serve.pause(0.5)
        #expect(receiver.requests.count == whenSkipped, "sent to a disabled webhook")
        #expect(whenSkipped >= sent)
    }
}
