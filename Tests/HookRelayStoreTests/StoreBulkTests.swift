import Foundation
import Synchronization
import Testing
@testable import HookRelayStore

/// Deleting a webhook and recovering its deliveries in short transactions (issue 12): bounded by
/// rows per transaction, counted with a commit hook rather than timed.
@Suite struct StoreBulkTests {
    /// Rows one bulk transaction may change: the batch, the counts the triggers change for each
    /// row (two when a status changes, and one hour's count when a finished delivery's changes:
    /// schema 11), and a few bookkeeping rows.
    static func bound(_ batch: Int) -> Int { 4 * batch + 4 }

    func store(batch: Int = 500) throws -> SQLiteSpool {
        let store = try SQLiteSpool(path: temporarySpool())
        store.bulkBatch = batch
        for id in ["a", "b"] {
            try store.save(Webhook(id: id, url: "https://\(id).example/hook", secrets: ["whsec_x"], now: 0))
        }
        return store
    }

    func ingest(_ store: SQLiteSpool, _ count: Int, first: Int = 0, targets: [String] = ["a"], now: Int64 = 1) throws {
        _ = try store.ingest((first..<(first + count)).map {
            IngestedEvent(id: "e\($0)", body: [0x7B, 0x7D], targets: targets.map { ($0, false) })
        }, now: now)
    }

    /// The rows each committed transaction changed.
    final class Commits: Sendable {
        private let sizes = Mutex<[Int]>([])
        var all: [Int] { sizes.withLock { $0 } }
        func append(_ size: Int) { sizes.withLock { $0.append(size) } }
    }

    func recordCommits(_ store: SQLiteSpool) -> Commits {
        let commits = Commits()
        store.connection.onCommit = { commits.append($0) }
        return commits
    }

    func pending(_ store: SQLiteSpool, _ endpoint: String) throws -> Int {
        let statement = try store.connection.statement("SELECT count(*) FROM deliveries WHERE endpoint = ?1 AND status = 'pending'")
        statement.bind(1, endpoint)
        _ = try statement.step()
        let count = Int(statement.int(0))
        try statement.run()
        return count
    }

    @Test func deletingAWebhookDiscardsItsDeliveriesInBoundedTransactions() throws {
        let store = try store()
        try ingest(store, 2_600, targets: ["a", "b"])
        let commits = recordCommits(store)
        #expect(try store.deleteWebhook(id: "a") == 2_600)
        let sizes = commits.all
        // The webhook itself, then 500 + 500 + 500 + 500 + 500 + 100 deliveries.
        #expect(sizes.count == 7, "\(sizes)")
        #expect(sizes.allSatisfy { $0 <= Self.bound(500) }, "\(sizes)")
        #expect(try pending(store, "a") == 0)
        #expect(try pending(store, "b") == 2_600)
        #expect(try store.discardingEndpoints().isEmpty)
        #expect(try store.counts() == [.pending: 2_600])
    }

    @Test func nothingOfADeletedWebhookIsClaimedOrAddedWhileItsDeliveriesAreDiscarded() throws {
        let store = try store()
        try ingest(store, 1_200, targets: ["a", "b"])
        #expect(try store.beginDeletingWebhook(id: "a"))
        #expect(try store.discardPending(of: "a") == (500, false))
        // An ingest that had not heard of the deletion yet adds nothing for it.
        try ingest(store, 10, first: 10_000, targets: ["a", "b"], now: 2)
        #expect(try pending(store, "a") == 700)
        let quota = TargetQuota(limit: 10_000, held: [:])
        #expect(try store.claim(limit: 5_000, now: 3, lease: 100, quota: quota).allSatisfy { $0.target == "b" })
        try store.connection.execute("UPDATE deliveries SET lease_until = NULL")
        let claimed = try store.claim(limit: 5_000, now: 3, lease: 100)
        #expect(claimed.count == 1_210)
        #expect(claimed.allSatisfy { $0.target == "b" })
        #expect(try store.discardPending(of: "a") == (500, false))
        #expect(try store.discardPending(of: "a") == (200, true))
        #expect(try pending(store, "a") == 0)
    }

    /// A crash between batches leaves the mark; the dispatcher's start (``recoverOrphans``)
    /// discards the rest.
    @Test func anInterruptedDeletionIsFinishedAtTheNextStart() throws {
        let path: String
        do {
            let store = try store()
            path = store.connection.path
            try ingest(store, 1_200)
            #expect(try store.beginDeletingWebhook(id: "a"))
            _ = try store.discardPending(of: "a")
        }
        let reopened = try SQLiteSpool(path: path)
        reopened.bulkBatch = 500
        #expect(try reopened.claim(limit: 5_000, now: 3, lease: 100, quota: TargetQuota(limit: 10_000, held: [:])).isEmpty)
        let commits = recordCommits(reopened)
        try reopened.recoverOrphans(now: 3)
        #expect(try pending(reopened, "a") == 0)
        #expect(try reopened.discardingEndpoints().isEmpty)
        #expect(commits.all.count == 2)
        #expect(commits.all.allSatisfy { $0 <= Self.bound(500) })
    }

    @Test func recoveringReQueuesInBoundedTransactions() throws {
        let store = try store()
        try ingest(store, 1_000, now: 1)
        try ingest(store, 1_300, first: 1_000, now: 5)
        try store.connection.execute("UPDATE deliveries SET status = 'delivered' WHERE id % 3 != 0")
        try store.connection.execute("UPDATE deliveries SET status = 'failed' WHERE id % 3 = 0")
        let commits = recordCommits(store)
        // The 1,300 events stored at 5 or later, delivered or failed.
        #expect(try store.recover(webhook: "a", since: 5, now: 10) == 1_300)
        let sizes = commits.all
        #expect(sizes.count >= 5, "\(sizes)")
        #expect(sizes.allSatisfy { $0 <= Self.bound(500) }, "\(sizes)")
        #expect(try pending(store, "a") == 1_300)
        #expect(try store.counts()[.pending] == 1_300)
        // Nothing left to re-queue since 5; everything since 0.
        #expect(try store.recover(webhook: "a", since: 5, now: 11) == 0)
        #expect(try store.recover(webhook: "a", since: 0, now: 12) == 1_000)
    }

    /// A delivery re-queued by an earlier batch that has failed again by the time a later batch
    /// visits its status is not sent a third time.
    @Test func aDeliveryIsReQueuedOncePerRecovery() throws {
        let store = try store(batch: 2)
        try ingest(store, 4)
        try store.connection.execute("UPDATE deliveries SET status = 'delivered'")
        var progress = try store.recoverBatch(webhook: "a", since: 0, now: 10, progress: RecoverProgress())
        #expect(progress.requeued == 2)
        // The two re-queued ones fail at once (their webhook was disabled, say).
        try store.connection.execute("UPDATE deliveries SET status = 'failed', updated_at = 11 WHERE status = 'pending'")
        while !progress.isDone {
            progress = try store.recoverBatch(webhook: "a", since: 0, now: 10, progress: progress)
        }
        #expect(progress.requeued == 4)
        #expect(try pending(store, "a") == 2)
    }
}

/// Database files hold webhook secrets (issue 12).
@Suite struct FileModeTests {
    func mode(_ path: String) -> mode_t {
        var status = stat()
        return stat(path, &status) == 0 ? status.st_mode & 0o777 : 0
    }

    @Test func theDatabaseAndItsWALAndSharedMemoryFilesAreCreatedOwnerOnly() throws {
        let path = temporarySpool()
        let store = try SQLiteSpool(path: path)
        _ = try store.append([message("e1")], now: 1)
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(FileManager.default.fileExists(atPath: file), "\(file)")
            #expect(mode(file) == 0o600, "\(file): \(String(mode(file), radix: 8))")
        }
    }

    @Test func aDatabaseOpenToOthersIsMadeOwnerOnly() throws {
        let path = temporarySpool()
        do { _ = try SQLiteSpool(path: path) }
        #expect(chmod(path, 0o644) == 0)
        _ = try SQLiteSpool(path: path)
        #expect(mode(path) == 0o600)
        _ = try SQLiteSpool.open(path: path, role: .reader)
        #expect(mode(path) == 0o600)
    }
}
