import Foundation
import HookRelayAdmin
import HookRelayPostgres
@testable import HookRelayServer
import HookRelayStore
import Testing

/// Two `serve` instances on one PostgreSQL database (issue 15): what one commits, the other hears
/// through `LISTEN`/`NOTIFY` at once, without its idle timer (60 s here) or its webhook poll
/// (30 s); after its listening connection is killed it listens again; `notify = false` polls.
@Suite(.enabled(if: PostgresTestDatabase.runs, "\(PostgresTestDatabase.skipNote)"))
struct ServeNotifyTests {
    static let event = #"{"event_type":"finding","id":"evt_1"}"#
    /// Far below the 60 s idle wait and the 30 s webhook poll: what comes within it was heard.
    static let heard = Duration.seconds(5)

    /// An instance (API only: it delivers nothing itself) and a second one on its database,
    /// whose listening connection is told apart by `tag` in `pg_stat_activity`.
    static func instances(
        tag: String, _ configure: (inout ServeConfiguration) -> Void = { _ in }
    ) throws -> (ServeHarness, ServeHarness) {
        let first = try ServeHarness(on: .postgres, idleWait: .seconds(60)) { configuration in
            configuration.database += "&application_name=\(tag)"
            configure(&configuration)
        }
        return (first, try ServeHarness(reopening: first, idleWait: .seconds(60)))
    }

    static func feed(of serve: ServeHarness) throws -> PostgresChangeFeed {
        try #require(serve.state.database.changes as? PostgresChangeFeed)
    }

    @Test func anEventIngestedOnOneInstanceIsClaimedByTheOtherWithoutItsIdleTimer() async throws {
        let (ingesting, delivering) = try Self.instances(tag: "notify_claim")
        let id = try await ingesting.webhook()
        try await delivering.state.reloadWebhooks()
        try await delivering.run(watching: true) { _ in
            try await eventually("the second instance listens") { try Self.feed(of: delivering).connectionsMade == 1 }
            try await Self.deliverTwo(through: ingesting, by: delivering, to: id)
        }
        #expect(ingesting.sender.sent == 0)
    }

    /// Ingests two events through `ingesting` and sees `delivering` send each soon. The first
    /// one's round may still be the one that starting (or listening again) woke; after it is
    /// recorded the dispatcher sleeps (60 s), and only the announcement wakes it for the second.
    static func deliverTwo(through ingesting: ServeHarness, by delivering: ServeHarness, to webhook: String) async throws {
        try await ingesting.run(dispatching: false) { client in
            for (n, event) in [#"{"event_type":"finding","id":"evt_1"}"#, #"{"event_type":"finding","id":"evt_2"}"#].enumerated() {
                #expect(try await client.postEvent(event) == .accepted)
                let request = try await next(delivering.sender.requests, within: Self.heard)
                #expect(request.body == Array(event.utf8))
                try await eventually("delivered") {
                    try await delivering.admin.deliveries(webhook: webhook, status: .delivered, since: nil, before: nil, limit: 10).count == n + 1
                }
            }
        }
    }

    @Test func aWebhookCreatedOrPausedOnOneInstanceReachesTheOthersDirectory() async throws {
        let (changing, watching) = try Self.instances(tag: "notify_webhooks")
        try await watching.run(watching: true) { _ in
            try await eventually("the second instance listens") { try Self.feed(of: watching).connectionsMade == 1 }
            let id = try await changing.webhook()
            try await eventually("the new webhook known", within: Self.heard) { watching.state.webhook(id) != nil }
            _ = try await changing.admin.setPaused(id, true)
            try await eventually("the pause known", within: Self.heard) { watching.state.pausedWebhooks.contains(id) }
            _ = try await changing.admin.setPaused(id, false)
            try await eventually("the resume known", within: Self.heard) { !watching.state.pausedWebhooks.contains(id) }
        }
    }

    @Test func aKilledListeningConnectionIsMadeAgainAndHearsTheNextChange() async throws {
        let tag = "notify_killed"
        let (ingesting, delivering) = try Self.instances(tag: tag)
        let id = try await ingesting.webhook()
        try await delivering.state.reloadWebhooks()
        try await delivering.run(watching: true) { _ in
            let feed = try Self.feed(of: delivering)
            try await eventually("the second instance listens") { feed.connectionsMade == 1 }
            let url = try PostgresLocation(delivering.configuration.database)
            try PostgresStore.execute(
                ["SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '\(tag) listener'"], at: url)
            try await eventually("listening again") { feed.connectionsMade == 2 }
            #expect(delivering.log.all.filter { $0.message.hasPrefix("the connection listening for changes was lost") }.count == 1)
            try await Self.deliverTwo(through: ingesting, by: delivering, to: id)
        }
    }

    @Test func withoutNotifyTheOtherInstancePolls() async throws {
        let first = try ServeHarness(on: .postgres) { $0.notify = false }
        let second = try ServeHarness(reopening: first)
        #expect(second.state.database.changes == nil)
        #expect(second.state.idleWait == .seconds(1))
        try await second.run(watching: true) { _ in
            let id = try await first.webhook()
            try await eventually("the new webhook known by polling") { second.state.webhook(id) != nil }
            try await first.run(dispatching: false) { client in
                #expect(try await client.postEvent(Self.event) == .accepted)
                _ = try await next(second.sender.requests)
            }
            try await eventually("delivered") { try await second.delivery(of: id).state.status == .delivered }
        }
    }

    /// The shared pool is opened with the password file's password: one that others may read is
    /// refused as the admin commands refuse it.
    @Test func theSharedPoolReadsThePasswordFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-password-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data("secret\n".utf8), attributes: [.posixPermissions: 0o644]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ServeConfiguration.Problem.self) { try ServeHarness(on: .postgres) { $0.passwordFile = path } }
    }
}
