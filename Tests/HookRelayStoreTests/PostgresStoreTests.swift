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
                return !text.contains(secret) && text.contains("127.0.0.1:1")
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
        #expect(PostgresLocation.isURL("POSTGRES://h/db"))
    }
}
