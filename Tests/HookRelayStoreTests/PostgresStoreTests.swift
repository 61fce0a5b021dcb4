import Dispatch
import Foundation
import HookRelayCore
import Synchronization
import Testing
@testable import HookRelayPostgres
@testable import HookRelayStore

/// What only the PostgreSQL store does, or must hold across instances: migrations under the
/// advisory lock, a newer schema refused, claims of two instances at once, the password kept out
/// of messages; and the `serve` roles the contract suite does not cover, against PostgreSQL.
@Suite(.enabled(if: PostgresTestServer.runs, PostgresTestServer.note))
struct PostgresStoreTests {
    /// The versions recorded in `schema_migrations`.
    func versions(_ store: PostgresStore) throws -> [Int64] {
        try store.run("reading versions") { session in
            try await session.rows("SELECT version FROM schema_migrations ORDER BY version").map { try $0.decode(Int64.self) }
        }
    }

    @Test func migrationsRunOnceWhenOpenedTwiceAndAtOnce() throws {
        let url = try PostgresTestServer.freshURL()
        let first = try PostgresStore.open(url, role: .writer)
        let second = try PostgresStore.open(url, role: .reader)
        #expect(try versions(first) == (1...PostgresSchema.migrations.count).map(Int64.init))
        #expect(try versions(second) == (1...PostgresSchema.migrations.count).map(Int64.init))

        // Three instances starting at once on an empty schema: one migrates, the others wait and find it done.
        let fresh = try PostgresTestServer.freshURL()
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            do { _ = try PostgresStore.open(fresh, role: .writer) } catch { failures.withLock { $0.append("\(error)") } }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(try versions(PostgresStore.open(fresh, role: .writer)) == (1...PostgresSchema.migrations.count).map(Int64.init))
    }

    @Test func aNewerSchemaIsRefused() throws {
        let url = try PostgresTestServer.freshURL()
        _ = try PostgresStore.open(url, role: .writer)
        try PostgresStore.execute(["INSERT INTO schema_migrations (version) VALUES (999)"], at: PostgresLocation(url))
        #expect {
            _ = try PostgresStore.open(url, role: .writer)
        } throws: { error in
            let text = "\(error)"
            return text.contains("schema is version 999") && text.contains("upgrade hookrelay")
        }
    }

    @Test func twoInstancesClaimingAtOnceNeverGetTheSameDelivery() throws {
        let url = try PostgresTestServer.freshURL()
        let writer = try PostgresStore.open(url, role: .writer)
        let messages = (0..<400).map { message("m\($0)", ["a", "b", "c"]) }
        #expect(try writer.append(messages, now: 0) == 1_200)
        let claimed = Mutex<[[Int64]]>([[], []])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { instance in
            do {
                let store = try PostgresStore.open(url, role: .writer)
                let quota = instance == 0 ? nil : TargetQuota(limit: 5, held: [:])
                while true {
                    let batch = try store.claim(limit: 7, now: 1, lease: 60_000, quota: quota)
                    if batch.isEmpty { break }
                    claimed.withLock { $0[instance] += batch.map(\.id) }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        let all = claimed.withLock { $0 }
        #expect(Set(all[0]).isDisjoint(with: all[1]))
        #expect(all[0].count + all[1].count == 1_200)
        #expect(Set(all[0] + all[1]).count == 1_200)
    }

    @Test func thePerWebhookLimitHoldsAcrossInstances() throws {
        let url = try PostgresTestServer.freshURL()
        let first = try PostgresStore.open(url, role: .writer)
        let second = try PostgresStore.open(url, role: .writer)
        // As serve's dispatcher does: commits that need not reach the disk before they return.
        try second.setDurableCommits(false)
        _ = try first.append((0..<10).map { message("m\($0)", ["a", "b"]) }, now: 0)
        let quota = TargetQuota(limit: 3, held: [:])
        let claimed = try first.claim(limit: 100, now: 1, lease: 1_000, quota: quota)
        #expect(claimed.map(\.target).sorted() == ["a", "a", "a", "b", "b", "b"])
        #expect(try second.claim(limit: 100, now: 1, lease: 1_000, quota: quota).isEmpty, "each webhook has its 3 in flight")
        _ = try first.complete([outcome(claimed[0], .delivered)], now: 2)
        #expect(try second.claim(limit: 100, now: 2, lease: 1_000, quota: quota).map(\.target) == [claimed[0].target])
        // An expired lease no longer counts.
        #expect(try second.claim(limit: 100, now: 1_001, lease: 1_000, quota: quota).count == 5)
    }

    /// A round that committed its outcomes and then failed (its claim, or the answer lost in an
    /// outage) is run again whole by the dispatcher: the same outcomes written twice log one
    /// attempt and count once, towards the delivery's attempts and its webhook's health.
    @Test func outcomesWrittenAgainAreRecordedOnce() throws {
        let store = try PostgresStore.open(try PostgresTestServer.freshURL(), role: .writer)
        store.healthPolicy = HealthPolicy(unhealthyAfter: 5)
        try store.save(Webhook(id: "a", url: "https://a.example/hook", secrets: ["whsec_x"], now: 0))
        _ = try store.append([message("m1", ["a"]), message("m2", ["a"])], now: 0)
        let claimed = try store.claim(limit: 2, now: 1, lease: 60_000, quota: nil)
        let failed = claimed.map { outcome($0, .retry(at: 5_000), status: 500, at: 2) }
        let first = try store.complete(failed, now: 3)
        let again = try store.complete(failed, now: 4)
        #expect(first.compactMap { $0?.attempts } == [1, 1])
        #expect(again.allSatisfy { $0 == nil }, "nothing changes the second time")
        let (attempts, counted, failures) = try store.run("reading") { session in
            try await session.rows("""
                SELECT (SELECT count(*) FROM attempts), (SELECT sum(attempts)::bigint FROM deliveries),
                    (SELECT consecutive_failures FROM webhooks WHERE id = 'a')
                """).first!.decode((Int64, Int64, Int64).self)
        }
        #expect(attempts == 2 && counted == 2 && failures == 2)
        // The common round's statement (successes with a claim) as well.
        let retried = try store.claim(limit: 2, now: 6_000, lease: 60_000, quota: nil)
        let delivered = retried.map { outcome($0, .delivered, at: 6_001) }
        let quota = TargetQuota(limit: 8, held: [:])
        let round = try store.completeAndClaim(delivered, limit: 8, now: 6_002, lease: 60_000, quota: quota)
        let repeated = try store.completeAndClaim(delivered, limit: 8, now: 6_003, lease: 60_000, quota: quota)
        #expect(round.states.compactMap { $0?.status } == [.delivered, .delivered])
        #expect(repeated.states.allSatisfy { $0 == nil })
        let total = try store.run("counting") { session in try await session.count("SELECT count(*) FROM attempts") }
        #expect(total == 4)
    }

    @Test func instancesClaimingAtOnceKeepToThePerWebhookLimitTogether() throws {
        let url = try PostgresTestServer.freshURL()
        _ = try PostgresStore.open(url, role: .writer).append((0..<200).map { message("m\($0)", ["a", "b", "c", "d"]) }, now: 0)
        let claimed = Mutex<[String: Int]>([:])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            do {
                let store = try PostgresStore.open(url, role: .writer)
                for _ in 0..<20 {
                    for job in try store.claim(limit: 2, now: 1, lease: 60_000, quota: TargetQuota(limit: 5, held: [:])) {
                        claimed.withLock { $0[job.target, default: 0] += 1 }
                    }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(claimed.withLock { $0 } == ["a": 5, "b": 5, "c": 5, "d": 5])
    }

    @Test func recoverOrphansReleasesTheClaimsOfThisHostsStoppedProcessesOnly() throws {
        let store = try PostgresStore.open(PostgresTestServer.freshURL(), role: .writer)
        _ = try store.append([message("a"), message("b"), message("c")], now: 0)
        let claimed = try store.claim(limit: 3, now: 0, lease: 60_000)
        let host = store.owner[store.owner.firstIndex(of: "@")!...]
        // a: a process of this host that no longer runs; b: another host's; c: this process's.
        let owners = ["pid:\(Int32.max)\(host)", "pid:\(Int32.max)@elsewhere.example", store.owner]
        try store.transaction("test") { [ids = claimed.map(\.id)] session in
            try await session.execute("""
                UPDATE deliveries d SET lease_owner = o.owner FROM unnest(\(ids)::bigint[], \(owners)::text[]) AS o(id, owner)
                WHERE d.id = o.id
                """)
        }
        #expect(try store.recoverOrphans(now: 1) == 1)
        #expect(try store.claim(limit: 3, now: 1, lease: 60_000).map(\.messageID) == ["a"])
    }

    // MARK: Teams (migration 3)

    /// A schema as migrations 1 and 2 left it, with a webhook and one pending delivery for it.
    func schemaBeforeTeams() throws -> String {
        let url = try PostgresTestServer.freshURL()
        let statements = PostgresSchema.migrations.prefix(2).flatMap(PostgresSchema.statements(of:))
        try PostgresStore.execute(
            ["CREATE TABLE schema_migrations (version bigint PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"]
                + statements + [
                    "INSERT INTO schema_migrations (version) VALUES (1), (2)",
                    "INSERT INTO webhooks (id, url, secret, created_at, updated_at) VALUES ('old', 'https://old.example/', 'whsec_x', 1, 1)",
                    "INSERT INTO messages (webhook_id, body, created_at) VALUES ('m1', '\\x7b7d', 1)",
                    "INSERT INTO deliveries (message_id, endpoint, status, next_attempt_at, updated_at) SELECT id, 'old', 'pending', 1, 1 FROM messages",
                    "INSERT INTO claim_turns (endpoint) VALUES ('old')",
                ],
            at: PostgresLocation(url))
        return url
    }

    @Test func migrationThreePutsEveryWebhookInTheDefaultTeam() throws {
        let url = try schemaBeforeTeams()
        let store = try PostgresStore.open(url, role: .writer)
        #expect(try versions(store) == (1...PostgresSchema.migrations.count).map(Int64.init))
        #expect(try store.webhook(id: "old")?.team == Team.defaultID)
        #expect(try store.teams().map(\.id) == [Team.defaultID])
        #expect(try store.team(id: Team.defaultID)?.name == "Default")
        #expect(try store.claim(limit: 10, now: 2, lease: 1_000).map(\.messageID) == ["m1"])
        // A webhook of a team that does not exist is refused.
        #expect(throws: PostgresStoreError.self) {
            try store.save(Webhook(id: "stray", url: "https://s.example/", secrets: ["whsec_x"], team: "nobody", now: 1))
        }
    }

    @Test func aWebhooksTeamIsSavedAndKeptWhenItsSettingsChange() throws {
        let store = try PostgresStore.open(PostgresTestServer.freshURL(), role: .writer)
        #expect(try store.createTeam(Team(id: "red", name: "Red", now: 1)))
        var webhook = Webhook(id: "w", url: "https://w.example/", secrets: ["whsec_x"], team: "red", now: 1)
        try store.save(webhook)
        #expect(try store.webhook(id: "w") == webhook)
        webhook.team = Team.defaultID
        webhook.url = "https://changed.example/"
        let changed = try #require(try store.updateSettings(webhook))
        #expect(changed.team == "red" && changed.url == "https://changed.example/")
        // Saving moves it.
        try store.save(webhook)
        #expect(try store.webhooks().map(\.team) == [Team.defaultID])
    }

    @Test func teamsAreCreatedRenamedAndDeletedWithTheirTokensAndWebhooks() throws {
        let store = try PostgresStore.open(PostgresTestServer.freshURL(), role: .writer)
        #expect(try store.createTeam(Team(id: "red", name: "Red", now: 5)))
        #expect(try !store.createTeam(Team(id: "red", name: "Other", now: 6)))
        #expect(try store.team(id: "red")?.name == "Red")
        let renamed = try #require(try store.renameTeam(id: "red", name: "Crimson", now: 9))
        #expect(renamed.name == "Crimson" && renamed.createdAt == 5 && renamed.updatedAt == 9)
        #expect(try store.renameTeam(id: "nope", name: "x", now: 9) == nil)
        #expect(try store.teams().map(\.id) == [Team.defaultID, "red"])

        try store.save(Webhook(id: "r", url: "https://r.example/", secrets: ["whsec_x"], team: "red", now: 1))
        try store.save(Webhook(id: "d", url: "https://d.example/", secrets: ["whsec_x"], now: 1))
        #expect(try store.append([message("m1", ["r", "d"]), message("m2", ["r"])], now: 0) == 3)
        try store.saveToken(AccessToken(id: "tok_red", digest: "dr", role: .teamAdmin, team: "red", createdAt: 1))
        try store.saveToken(AccessToken(id: "tok_def", digest: "dd", role: .viewer, team: Team.defaultID, createdAt: 1))
        try store.appendAudit(AuditEntry(at: 1, actor: "tok_red", role: "team_admin", team: "red", objectKind: "webhook", objectID: "r", action: "created"))
        let version = try store.webhooksVersion().settings

        #expect(try store.deleteTeam(id: "red"))
        #expect(try !store.deleteTeam(id: "red"))
        #expect(try store.team(id: "red") == nil)
        #expect(try store.webhooks().map(\.id) == ["d"])
        #expect(try store.webhooksVersion().settings > version)
        #expect(try store.tokens(team: nil).map(\.id) == ["tok_def"])
        #expect(try store.token(digest: "dr") == nil)
        #expect(try store.audit(team: "red", before: nil, limit: 10).map(\.objectID) == ["r"])
        // Its webhooks' pending deliveries are never claimed, and are discarded.
        #expect(try store.claim(limit: 10, now: 1, lease: 1_000).map(\.target) == ["d"])
        let discarded = try store.discardPending(of: "r")
        #expect(discarded.discarded == 2 && discarded.done)
        // Its id may be used again, empty.
        #expect(try store.createTeam(Team(id: "red", name: "Red again", now: 10)))
        #expect(try store.tokens(team: "red").isEmpty)
    }

    @Test func tokensAreSavedFoundRevokedAndTouched() throws {
        let store = try PostgresStore.open(PostgresTestServer.freshURL(), role: .writer)
        #expect(try store.createTeam(Team(id: "red", name: "Red", now: 1)))
        let publisher = AccessToken(
            id: "tok_1", digest: AccessToken.digest(of: "hr_secret_1"), role: .publisher, team: "red", anyTeam: true,
            description: "ci", createdAt: 2, expiresAt: 100)
        let viewer = AccessToken(id: "tok_2", digest: AccessToken.digest(of: "hr_secret_2"), role: .viewer, team: Team.defaultID, createdAt: 1)
        try store.saveToken(publisher)
        try store.saveToken(viewer)
        #expect(try store.token(digest: AccessToken.digest(of: "hr_secret_1")) == publisher)
        #expect(try store.token(digest: "unknown") == nil)
        #expect(try store.tokens(team: nil) == [viewer, publisher])
        #expect(try store.tokens(team: "red") == [publisher])
        try store.touchToken(id: "tok_1", now: 50)
        #expect(try store.token(digest: publisher.digest)?.lastUsedAt == 50)
        // Another team's token is not revoked through that team.
        #expect(try !store.revokeToken(id: "tok_1", team: Team.defaultID))
        #expect(try store.revokeToken(id: "tok_1", team: "red"))
        #expect(try !store.revokeToken(id: "tok_1", team: nil))
        #expect(try store.revokeToken(id: "tok_2", team: nil))
        #expect(try store.tokens(team: nil).isEmpty)
        // A token of a team that does not exist is refused.
        #expect(throws: PostgresStoreError.self) {
            try store.saveToken(AccessToken(id: "tok_3", digest: "d3", role: .viewer, team: "nobody", createdAt: 1))
        }
    }

    @Test func theAuditLogPagesNewestFirstByTeam() throws {
        let store = try PostgresStore.open(PostgresTestServer.freshURL(), role: .writer)
        for n in 1...5 {
            try store.appendAudit(AuditEntry(
                at: Int64(n), actor: "a\(n)", role: "admin", team: n % 2 == 0 ? "even" : "odd", objectKind: "webhook",
                objectID: "w\(n)", action: "updated", detail: #"{"n":\#(n)}"#))
        }
        let first = try store.audit(team: nil, before: nil, limit: 3)
        #expect(first.map(\.actor) == ["a5", "a4", "a3"])
        #expect(first[0].detail == #"{"n":5}"# && first[0].team == "odd" && first[0].at == 5)
        let rest = try store.audit(team: nil, before: first.last?.id, limit: 3)
        #expect(rest.map(\.actor) == ["a2", "a1"])
        #expect(try store.audit(team: "odd", before: nil, limit: 10).map(\.actor) == ["a5", "a3", "a1"])
        #expect(try store.audit(team: "odd", before: first[0].id, limit: 1).map(\.actor) == ["a3"])
        #expect(try store.audit(team: "none", before: nil, limit: 10).isEmpty)
    }

    /// Sessions plan without sequential scans (a young table's statistics), which prices a scan
    /// of a small table over the JIT's threshold: with the JIT on, listing four webhooks took
    /// 90–130 ms of compiling. Sessions turn it off, and such a plan is not compiled.
    @Test func sessionsNeverCompileTheirPlans() throws {
        let store = try PostgresStore.open(try PostgresTestServer.freshURL(), role: .reader)
        let plan = try store.run("explaining") { session in
            try await session.rows("EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM webhooks ORDER BY created_at, id").map { try $0.decode(String.self) }
        }.joined()
        #expect(plan.contains("\"Total Cost\": 1") && !plan.contains("\"JIT\""), "\(plan)")
    }

    /// A server that refuses says why at once (postgres-nio's pool would keep retrying, and the
    /// caller hear only that no connection came in time).
    @Test func aDatabaseThatDoesNotExistIsNamedWithTheServersMessage() throws {
        let url = try PostgresTestDatabase.url(database: "hookrelay_missing_\(UInt32.random(in: 0 ... .max))")
        let started = ContinuousClock.now
        #expect {
            _ = try PostgresStore.open(url, role: .writer)
        } throws: { error in
            let text = "\(error)"
            return text.contains("opening the database") && text.contains("does not exist") && text.contains("SQLSTATE 3D000")
        }
        #expect(ContinuousClock.now - started < .seconds(5), "the server's answer, not the connection timeout")
    }

    @Test func thePasswordIsNeverInAMessage() throws {
        let secret = "s3cret-Pa55"
        for url in [
            "postgres://hookrelay:\(secret)@127.0.0.1:1/hookrelay?sslmode=disable&connect_timeout=1",
            "postgresql://hookrelay@127.0.0.1:1/hookrelay?password=\(secret)&sslmode=disable&connect_timeout=1",
        ] {
            let location = try PostgresLocation(url)
            #expect(location.configuration.password == secret)
            #expect(!location.description.contains(secret))
            #expect(location.description.contains("hookrelay@127.0.0.1:1/hookrelay"))
            #expect {
                _ = try PostgresStore.open(url, role: .writer)
            } throws: { error in
                let text = "\(error)"
                return !text.contains(secret) && text.contains("127.0.0.1:1") && text.contains("is the server running")
            }
        }
        #expect {
            _ = try PostgresLocation("postgres://u:\(secret)@h/db?sslmode=maybe")
        } throws: { error in
            "\(error)".contains("sslmode 'maybe'") && !"\(error)".contains(secret)
        }
    }
}

/// Reading the URLs (no server needed).
@Suite struct PostgresLocationTests {
    @Test func urlsNameSocketsHostsAndSettings() throws {
        let socket = try PostgresLocation("postgres:///db?host=/tmp/pg&port=5433&user=u", environment: [:])
        #expect(socket.configuration.unixSocketPath == "/tmp/pg/.s.PGSQL.5433")
        #expect(socket.configuration.database == "db")
        #expect(socket.configuration.username == "u")
        let encoded = try PostgresLocation("postgresql://u@%2Fvar%2Frun%2Fpostgresql/db", environment: [:])
        #expect(encoded.configuration.unixSocketPath == "/var/run/postgresql/.s.PGSQL.5432")
        let tcp = try PostgresLocation("postgres://u@db.example:6543/app?sslmode=require", environment: ["PGPASSWORD": "p"])
        #expect(tcp.configuration.host == "db.example")
        #expect(tcp.configuration.port == 6543)
        #expect(tcp.configuration.password == "p")
        // The password: the URL's, else a password file's (given), else PGPASSWORD.
        let given = try PostgresLocation("postgres://u@h/app", password: "from-file", environment: ["PGPASSWORD": "p"])
        #expect(given.configuration.password == "from-file")
        let inURL = try PostgresLocation("postgres://u:in-url@h/app", password: "from-file", environment: ["PGPASSWORD": "p"])
        #expect(inURL.configuration.password == "in-url" && !inURL.redacted.contains("in-url"))
        let options = try PostgresLocation.settings("-c search_path=s1 -cstatement_timeout=5s", location: "")
        #expect(options.map { "\($0.0)=\($0.1)" } == ["search_path=s1", "statement_timeout=5s"])
        #expect(!PostgresLocation.isURL("/var/lib/hookrelay/hookrelay.db"))
    }

    /// Parameters hookrelay does not read are refused by name, their values never shown: libpq's
    /// `sslpassword`, or a password under another spelling.
    @Test func anUnknownParametersValueIsNeverInAMessage() {
        let secret = "s3cret-Pa55"
        for url in ["postgres://u@h/db?sslcert=/c.pem&sslpassword=\(secret)", "postgres://u@h/db?Password=\(secret)"] {
            #expect {
                _ = try PostgresLocation(url, environment: [:])
            } throws: { error in
                "\(error)".contains("unknown URL parameter") && !"\(error)".contains(secret) && "\(error)".contains("***")
            }
            #expect(!PostgresLocation.redact(url).contains(secret))
        }
        #expect(PostgresLocation.redact("postgres://u:p@h/db?sslmode=require&password=p") == "postgres://u@h/db?sslmode=require")
        #expect(PostgresLocation.isURL("POSTGRES://h/db"))
    }
}
