import Foundation
@testable import HookRelayServer
import HookRelayStore
import Testing

/// `serve`'s one writer connection: the dispatcher's calls commit with `synchronous=NORMAL`,
/// everything else on the queue with `FULL` (issue 14).
@Suite struct SharedWriterQueueTests {
    private static func synchronous(_ store: any ServeStore) throws -> Int64 {
        let pragma = try (store as! SQLiteSpool).connection.statement("PRAGMA synchronous")
        _ = try pragma.step()
        defer { _ = try? pragma.run() }
        return pragma.int(0)
    }

    @Test func theDispatchersCallsRelaxDurabilityAndEveryOtherUseRestoresIt() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-\(UUID().uuidString).db").path
        let spool = try SQLiteSpool.open(path: path, role: .writer)
        let writer = SerialStore(spool)
        let dispatcher = SharedWriterQueue(writer)
        let full: Int64 = 2, normal: Int64 = 1
        #expect(try writer.queue.sync { try Self.synchronous(writer.spool) } == full)
        _ = try dispatcher.nextDue(excluding: [])
        #expect(try writer.queue.sync { try Self.synchronous(writer.spool) } == normal)
        _ = try dispatcher.claim(limit: 1, now: 0, lease: 1, quota: nil)
        #expect(try writer.queue.sync { try Self.synchronous(writer.spool) } == normal, "left relaxed between the dispatcher's calls")
        let level = try await writer.withStore { try Self.synchronous($0) }
        #expect(level == full, "an API or ingest call commits durably")
    }
}
