@testable import HookRelayServer
import HookRelayStore

extension ServeHarness {
    /// The deliveries of `webhook`, by their event id.
    func deliveries(_ webhook: String) async throws -> [String: DeliveryState] {
        let records = try await admin.deliveries(webhook: webhook, status: nil, since: nil, before: nil, limit: 100)
        return Dictionary(uniqueKeysWithValues: records.map { ($0.state.messageID, $0.state) })
    }

    /// How many deliveries of `webhook` are in `status`.
    func count(_ webhook: String, _ status: DeliveryStatus) async throws -> Int {
        try await deliveries(webhook).values.filter { $0.status == status }.count
    }

    /// Waits until no delivery is pending or in flight: whatever the dispatcher was to send, it sent.
    func settled() async throws {
        try await eventually("nothing pending") { try await state.read { try $0.statistics(now: 0).deliveries[.pending] } == nil }
    }
}
