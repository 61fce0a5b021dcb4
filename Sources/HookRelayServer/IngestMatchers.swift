import HookRelayCore
import HookRelayStore

/// What ingest needs of the webhooks: each one's filter, and whether it is disabled (its
/// deliveries are then `skipped`). Built again when webhooks' settings change; a health change
/// only sets ``disabled`` for its webhook, and the filters stay as they were (shared with the
/// copies that requests being parsed hold).
struct IngestMatchers: Sendable {
    /// The webhooks' ids, in order; ``filters`` and ``disabled`` follow it.
    private(set) var webhooks: [String] = []
    private(set) var filters: [Filter] = []
    private(set) var disabled: [Bool] = []
    private var positions: [String: Int] = [:]
    /// Each team's webhooks, as positions in ``webhooks``: an event reaches its team's only.
    private var teams: [String: [Int]] = [:]
    private static let layout = EventLayout()

    init() {}

    init(_ all: some Sequence<Webhook>) {
        let sorted = all.sorted { $0.id < $1.id }
        webhooks = sorted.map(\.id)
        filters = sorted.map(\.filter)
        disabled = sorted.map { $0.state == .disabled }
        positions = Dictionary(uniqueKeysWithValues: webhooks.enumerated().map { ($1, $0) })
        // No event matches an alert destination: it gets alerts only (Alerts.swift).
        teams = Dictionary(grouping: sorted.indices.filter { !sorted[$0].isAlertDestination }, by: { sorted[$0].team })
    }

    /// The positions of `team`'s webhooks.
    func indices(of team: String) -> [Int] { teams[team] ?? [] }

    /// Notes a webhook's new health: of that, only whether it is disabled matters here.
    mutating func healthChanged(_ id: String, to health: Webhook.Health) {
        guard let position = positions[id] else { return }
        disabled[position] = health == .disabled
    }

    /// Adds to `batch` the deliveries an event gets: one per webhook of `candidates` (a team's,
    /// ``indices(of:)``) whose filter it matches (`batch` must have been made with ``webhooks``).
    func addTargets(for record: RecordView, among candidates: [Int], to batch: inout IngestBatch) {
        for index in candidates where filters[index].evaluate(record, layout: Self.layout).matches {
            batch.addTarget(index, skipped: disabled[index])
        }
    }
}
