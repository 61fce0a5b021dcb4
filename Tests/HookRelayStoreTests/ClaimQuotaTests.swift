import Foundation
import Testing
@testable import HookRelayStore

/// Claims under a per-endpoint quota (issue 14): with few deliveries due, the endpoints visited
/// are those of the due ones, however many endpoints wait for a later retry; with many due
/// (more than `dueScanLimit`), every endpoint with pending work is visited, so an endpoint whose
/// deliveries are newer than another's backlog is not starved. Same results either way.
@Suite struct ClaimQuotaTests {
    /// `count` messages to `endpoint`, due at `due`.
    func add(_ spool: SQLiteSpool, _ count: Int, to endpoint: String, prefix: String, due: Int64) throws {
        _ = try spool.append((0..<count).map { message("\(prefix)-\($0)", [endpoint]) }, now: due)
    }

    @Test func fewDueAmongManyWaitingClaimsJustTheDueOnes() throws {
        let spool = try SQLiteSpool(path: temporarySpool())
        // 500 endpoints, each with one delivery due only much later.
        for index in 0..<500 { try add(spool, 1, to: "wh_later_\(index)", prefix: "later\(index)", due: 10_000_000) }
        try add(spool, 3, to: "wh_now", prefix: "now", due: 1_000)
        let quota = TargetQuota(limit: 2, held: [:])
        let claimed = try spool.claim(limit: 100, now: 2_000, lease: 60_000, quota: quota)
        #expect(claimed.map(\.target) == ["wh_now", "wh_now"], "the quota of 2 holds")
        #expect(Set(claimed.map(\.messageID)) == ["now-0", "now-1"])
        // At the later time, every endpoint has one due.
        let later = try spool.claim(limit: 1_000, now: 10_000_000, lease: 60_000, quota: TargetQuota(limit: 2, held: ["wh_now": 2]))
        #expect(later.count == 500)
    }

    @Test func aBacklogBeyondTheScanLimitDoesNotStarveANewerEndpoint() throws {
        let spool = try SQLiteSpool(path: temporarySpool())
        try add(spool, SQLiteSpool.dueScanLimit + 100, to: "wh_backlog", prefix: "old", due: 1_000)
        try add(spool, 1, to: "wh_newer", prefix: "new", due: 1_500)
        let claimed = try spool.claim(limit: 10, now: 2_000, lease: 60_000, quota: TargetQuota(limit: 3, held: [:]))
        #expect(claimed.count { $0.target == "wh_backlog" } == 3)
        #expect(claimed.map(\.messageID).contains("new-0"), "the newer endpoint was starved")
    }
}
