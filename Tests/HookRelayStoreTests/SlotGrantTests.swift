import Dispatch
import Foundation
import Synchronization
import Testing
@testable import HookRelayPostgres
@testable import HookRelayStore

/// How a process's share of a webhook's limit is worked out (``SlotShare``).
@Suite struct SlotShareTests {
    func share(_ limit: Int, inFlight: Int = 0, wanting: Bool = true, _ others: [Int] = []) -> [Int] {
        let share = SlotShare.slots(limit: limit, inFlight: inFlight, wanting: wanting, others: others)
        return [share.grant, share.usable]
    }

    @Test func aLoneProcessGetsTheLimitAndGivesItBackWhenDone() {
        #expect(share(8) == [8, 8])
        #expect(share(8, wanting: false) == [0, 0], "nothing wanted, nothing in flight: given back")
        #expect(share(8, inFlight: 3, wanting: false) == [3, 0], "attempts in flight keep their slots, and no more start")
    }

    @Test func theLimitIsSharedAndNeverExceeded() {
        // A second process asks (a grant of none): the first may use its share, and its grant
        // shrinks to it as the attempts beyond it end.
        #expect(share(8, inFlight: 2, [0]) == [4, 4])
        #expect(share(8, inFlight: 7, [0]) == [7, 4])
        // The one asking gets what the others leave, up to its share.
        #expect(share(8, [7]) == [1, 1])
        #expect(share(8, [4]) == [4, 4])
        #expect(share(8, [8]) == [0, 0])
        // Three processes: shares of 3, 3 and 2 at most.
        #expect(share(8, [3, 3]) == [2, 2])
        #expect(share(8, [0, 0]) == [3, 3])
        for limit in 1...9 {
            for a in 0...limit {
                for b in 0...(limit - a) {
                    for inFlight in 0...(limit - a - b) {
                        let mine = SlotShare.slots(limit: limit, inFlight: inFlight, wanting: true, others: [a, b])
                        #expect(a + b + mine.grant <= limit && mine.usable <= mine.grant && mine.grant >= inFlight)
                    }
                }
            }
        }
    }
}

/// Slot grants on PostgreSQL (``SlotGrants``): what instances renewing together get.
@Suite(.enabled(if: PostgresTestServer.runs, PostgresTestServer.note))
struct PostgresSlotGrantTests {
    func renew(
        _ store: PostgresStore, limit: Int = 8, inFlight: [String: Int] = [:], holding: Set<String> = [], excluded: Set<String> = [],
        asking: Bool = true, now: Int64 = 10, lease: Int64 = 60_000
    ) throws -> [String: Int]? {
        try store.renewGrants(limit: limit, inFlight: inFlight, holding: holding, excluded: excluded, asking: asking, now: now, lease: lease)
    }

    /// The grants in the table, by endpoint.
    func grants(_ store: PostgresStore) throws -> [String: Int] {
        try store.run("reading grants") { session in
            try await session.rows("SELECT endpoint, sum(slots)::bigint FROM claim_grants GROUP BY endpoint").map { try $0.decode((String, Int64).self) }
        }.reduce(into: [:]) { $0[$1.0] = Int($1.1) }
    }

    @Test func instancesShareAWebhooksSlotsAsTheirAttemptsEnd() throws {
        let url = try PostgresTestServer.freshURL()
        let (a, b) = (try PostgresStore.open(url, role: .writer), try PostgresStore.open(url, role: .writer))
        _ = try a.append((0..<40).map { message("m\($0)", ["w", "v"]) }, now: 0)
        #expect(try renew(a) == ["w": 8, "v": 8], "alone: every slot")
        #expect(try renew(b) == ["w": 0, "v": 0], "nothing is left; asked for a share")
        // The first shrinks to its share, but not below what it has in flight.
        #expect(try renew(a, inFlight: ["w": 6, "v": 2], holding: ["w", "v"]) == ["w": 4, "v": 4], "grants of 6 and 4")
        #expect(try renew(b) == ["w": 2, "v": 4])
        #expect(try renew(a, inFlight: ["w": 3], holding: ["w", "v"]) == ["w": 4, "v": 4])
        #expect(try renew(b, inFlight: ["w": 2, "v": 4], holding: ["w", "v"]) == ["w": 4, "v": 4])
        // Done with v and nothing due there any more (all claimed elsewhere): its grant is given back.
        _ = try a.claim(limit: 100, now: 10, lease: 60_000)
        #expect(try renew(a, inFlight: ["w": 1], holding: ["w"]) == ["w": 4])
        #expect(try renew(b, holding: ["w", "v"]) == ["w": 4, "v": 8])
    }

    @Test func anExpiredGrantIsNotCountedAndAReleasedOneIsGone() throws {
        let url = try PostgresTestServer.freshURL()
        let (a, b) = (try PostgresStore.open(url, role: .writer), try PostgresStore.open(url, role: .writer))
        _ = try a.append((0..<20).map { message("m\($0)", ["w"]) }, now: 0)
        #expect(try renew(a, lease: 1_000) == ["w": 8])
        #expect(try renew(b, now: 500) == ["w": 0])
        // The first instance stopped renewing (it died): its grant ends with its lease.
        #expect(try renew(b, now: 1_010) == ["w": 8])
        try b.releaseGrants()
        #expect(try renew(a, now: 1_020) == ["w": 8], "given back: all free again")
        let rows = try a.run("counting") { session in try await session.count("SELECT count(*) FROM claim_grants") }
        #expect(rows == 1, "the expired and released rows are gone")
    }

    @Test func pausedExcludedAndIdleWebhooksGetNoGrant() throws {
        let url = try PostgresTestServer.freshURL()
        let store = try PostgresStore.open(url, role: .writer)
        for id in ["w", "p", "r"] { try store.save(Webhook(id: id, url: "https://\(id).example/hook", secrets: ["whsec_x"], now: 0)) }
        _ = try store.setPaused(id: "p", true, now: 0)
        _ = try store.append((0..<5).map { message("m\($0)", ["w", "p", "r"]) }, now: 0)
        #expect(try renew(store, excluded: ["r"]) == ["w": 8])
        // An excluded (ruled) endpoint with attempts in flight keeps them counted, and no more.
        #expect(try renew(store, inFlight: ["r": 2], excluded: ["r"]) == ["w": 8, "r": 0])
        #expect(try grants(store) == ["w": 8, "r": 2])
        // Stopping: nothing asked for, only what is in flight kept.
        #expect(try renew(store, inFlight: ["w": 1], asking: false) == ["w": 0])
        #expect(try grants(store) == ["w": 1])
        // Nothing due (all in the future): no grant.
        _ = try store.claim(limit: 100, now: 10, lease: 60_000)
        #expect(try renew(store, excluded: ["r"]) == [:])
    }

    /// Instances renewing at once, each from its own thread, never hold more than the limit together.
    @Test func grantsRenewedAtOnceNeverSumPastTheLimit() throws {
        let url = try PostgresTestServer.freshURL()
        _ = try PostgresStore.open(url, role: .writer).append((0..<50).map { message("m\($0)", ["a", "b", "c"]) }, now: 0)
        // Each thread uses its own store only.
        nonisolated(unsafe) let stores = try (0..<3).map { _ in try PostgresStore.open(url, role: .writer) }
        let worst = Mutex<[String: Int]>([:])
        let failures = Mutex<[String]>([])
        for round in 0..<10 {
            DispatchQueue.concurrentPerform(iterations: 3) { index in
                do {
                    _ = try renew(stores[index], limit: 5, inFlight: round % 2 == 0 ? [:] : ["a": index], now: Int64(10 + round))
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            let sums = try stores[0].run("summing") { session in
                try await session.rows("SELECT endpoint, sum(slots)::bigint FROM claim_grants GROUP BY endpoint").map {
                    try $0.decode((String, Int64).self)
                }
            }
            worst.withLock { for (endpoint, sum) in sums { $0[endpoint] = max($0[endpoint, default: 0], Int(sum)) } }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(worst.withLock { $0 }.values.allSatisfy { $0 <= 5 }, "\(worst.withLock { $0 })")
        #expect(worst.withLock { $0 }.count == 3)
    }

    /// Under grants a claim takes only from the granted endpoints, up to what each may claim, and
    /// counts no leases (the grants hold the limit).
    @Test func aGrantedClaimTakesWhatEachEndpointMayClaim() throws {
        let store = try PostgresStore.open(PostgresTestServer.freshURL(), role: .writer)
        _ = try store.append((0..<20).map { message("m\($0)", ["a", "b", "c"]) }, now: 0)
        let quota = TargetQuota(limit: 2, held: [:], paused: ["c"], granted: [("a", 3), ("b", 5), ("c", 4)])
        let first = try store.claim(limit: 100, now: 1, lease: 60_000, quota: quota)
        #expect(Dictionary(grouping: first, by: \.target).mapValues(\.count) == ["a": 3, "b": 5])
        // Leases held do not count: the same allowance again takes as many.
        let again = try store.completeAndClaim(
            [outcome(first[0], .delivered)], limit: 100, now: 2, lease: 60_000, quota: TargetQuota(limit: 2, held: [:], granted: [("a", 3)]))
        #expect(again.claimed.map(\.target) == ["a", "a", "a"])
        #expect(Set(again.claimed.map(\.id)).isDisjoint(with: first.map(\.id)))
        #expect(try store.claim(limit: 100, now: 3, lease: 60_000, quota: TargetQuota(limit: 2, held: [:], granted: [])).isEmpty)
    }

    /// A renewal does not wait long for an endpoint's lock another transaction holds (a bulk
    /// change, a ruled claim waiting on its rows): it gives up after a second, and the grants
    /// held stand.
    @Test func aRenewalGivesUpOnALockHeldLong() throws {
        let url = try PostgresTestServer.freshURL()
        let store = try PostgresStore.open(url, role: .writer)
        // Used by the other thread only.
        nonisolated(unsafe) let other = try PostgresStore.open(url, role: .writer)
        _ = try store.append([message("m1", ["w"])], now: 0)
        let holding = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? other.transaction("holding a lock") { session in
                try await session.execute("SELECT 1 FROM claim_turns WHERE endpoint = 'w' FOR UPDATE")
                holding.signal()
                try await session.execute("SELECT pg_sleep(2)")
            }
            done.signal()
        }
        holding.wait()
        #expect(try renew(store) == nil)
        done.wait()
        #expect(try renew(store) == ["w": 8])
    }

    /// A restarted instance does not wait for the lease of the grants a process of its host
    /// that died left (`recoverOrphans`).
    @Test func theGrantsOfAStoppedProcessOfThisHostAreGivenBackAtStart() throws {
        let url = try PostgresTestServer.freshURL()
        let store = try PostgresStore.open(url, role: .writer)
        _ = try store.append([message("m1", ["w"])], now: 0)
        let host = store.owner[store.owner.firstIndex(of: "@")!...]
        let dead = "pid:\(Int32.max)\(host)/x", elsewhere = "pid:\(Int32.max)@elsewhere.example/x"
        try store.transaction("a dead process's grants") { session in
            try await session.execute("""
                INSERT INTO claim_grants (endpoint, holder, slots, until) VALUES ('w', \(dead), 3, 60000), ('w', \(elsewhere), 3, 60000)
                """)
        }
        #expect(try renew(store) == ["w": 2])
        try store.recoverOrphans(now: 20)
        #expect(try renew(store, now: 20) == ["w": 4], "the other host's grant stands until it ends")
    }
}
