import HookRelayAdmin
import HookRelayCore
import HookRelayDelivery
import HookRelayStore
import Prometheus

/// The daemon's metrics for `GET /metrics`, in one Prometheus registry of its own, each with its
/// `# HELP` line and its unit in its name (`promtool check metrics` passes).
///
/// Made on swift-prometheus's registry directly (not through swift-metrics, whose factory gives
/// no help text), so nothing is bootstrapped globally and each server (and test) has its own.
/// Counters and the latency histogram are updated as work happens; the gauges are set from the
/// database at each scrape (``render(_:now:existing:)``), from counts the store keeps as it writes: a
/// scrape reads a few rows, never counts the deliveries, so its read snapshot lasts well under a
/// millisecond and cannot keep the WAL from being checkpointed. Labels hold fixed words only,
/// never a URL, header, secret or event content; a webhook's id only when per-webhook metrics
/// are asked for (``WebhookMetrics``, a bounded number of them).
public final class ServerMetrics: AttemptCounting {
    let registry: PrometheusCollectorRegistry

    private let eventsIngested: Counter
    private let attempts: [SendResult.OutcomeClass: Counter]
    private let attemptDuration: DurationHistogram
    private let deliveries: [DeliveryStatus: Gauge]
    private let queueDepth: Gauge
    private let oldestDueAge: Gauge
    private let webhooks: [Webhook.Health: Gauge]
    private let databaseSize: Gauge
    private let pruned: [String: Counter]
    private let process: ProcessMetrics
    /// Per-webhook attempts and latency (`metrics_per_webhook`); nil when not asked for.
    let perWebhook: WebhookMetrics?

    static let deliveryStates = DeliveryStatus.allCases
    static let healthStates: [Webhook.Health] = [.healthy, .unhealthy, .disabled]

    /// From 5 ms to the longest attempt the `timeout` setting allows by default (15 s), and twice that.
    static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        .seconds(15), .seconds(30),
    ]

    /// With `perWebhook`, attempts and latency per webhook too, for at most that many webhooks.
    init(perWebhook: Int? = nil) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        eventsIngested = registry.makeCounter(
            descriptor: .named("hookrelay_events_ingested_total", "Events accepted by POST /v1/events and committed (duplicates not counted)."))
        // Every series exists from the start, at zero, so rates and alerts work before the first event.
        attempts = Dictionary(uniqueKeysWithValues: SendResult.OutcomeClass.allCases.map {
            ($0, registry.makeCounter(
                descriptor: .named("hookrelay_attempts_total", "Delivery attempts by outcome: 2xx, 3xx, 4xx, 5xx, timeout, blocked (address guard), error."),
                labels: [("outcome", $0.rawValue)]))
        })
        attemptDuration = registry.makeDurationHistogram(
            descriptor: .named("hookrelay_attempt_duration_seconds", "How long delivery attempts took, from connecting to the end of the answer."),
            buckets: Self.latencyBuckets)
        deliveries = Dictionary(uniqueKeysWithValues: Self.deliveryStates.map {
            ($0, registry.makeGauge(
                descriptor: .named("hookrelay_deliveries", "Deliveries stored, by state, read at the scrape."), labels: [("state", $0.rawValue)]))
        })
        queueDepth = registry.makeGauge(descriptor: .named("hookrelay_queue_depth", "Deliveries waiting to be sent (pending), read at the scrape."))
        oldestDueAge = registry.makeGauge(
            descriptor: .named("hookrelay_oldest_due_delivery_age_seconds", "How long the oldest due delivery has waited; 0 when none is due."))
        webhooks = Dictionary(uniqueKeysWithValues: Self.healthStates.map {
            ($0, registry.makeGauge(descriptor: .named("hookrelay_webhooks", "Webhooks by health, read at the scrape."), labels: [("state", $0.rawValue)]))
        })
        databaseSize = registry.makeGauge(
            descriptor: .named(
                "hookrelay_database_size_bytes",
                "Bytes the database takes on disk: SQLite's file and its WAL, or PostgreSQL's whole database; read at the scrape."))
        pruned = Dictionary(uniqueKeysWithValues: ["events", "deliveries", "attempts", "audit"].map {
            ($0, registry.makeCounter(
                descriptor: .named("hookrelay_pruned_rows_total", "Rows deleted for being older than the retention, by table: events, deliveries, attempts, audit."),
                labels: [("table", $0)]))
        })
        registry.makeGauge(
            descriptor: .named("hookrelay_build_info", "Always 1; the running hookrelay's version is its label."),
            labels: [("version", HookRelayVersion.string)]
        ).set(to: 1)
        process = ProcessMetrics(registry: registry)
        self.perWebhook = perWebhook.map { WebhookMetrics(registry: registry, limit: $0) }
    }

    /// Counts the events one ingest request had accepted.
    func ingested(_ accepted: Int) {
        if accepted > 0 { eventsIngested.increment(by: Int64(accepted)) }
    }

    /// Counts what a pass of pruning deleted.
    func pruned(_ deleted: PruneCounts) {
        for (table, count) in [("events", deleted.events), ("deliveries", deleted.deliveries), ("attempts", deleted.attempts), ("audit", deleted.audit)]
        where count > 0 {
            pruned[table]?.increment(by: Int64(count))
        }
    }

    /// Counts an attempt that was sent, or refused by the address guard, and its duration.
    public func attempted(_ result: SendResult, webhook: String) {
        attempts[result.outcomeClass]?.increment()
        attemptDuration.record(.milliseconds(result.latencyMilliseconds))
        perWebhook?.attempted(result, webhook: webhook)
    }

    /// Counts a delivery attempt that could not be made (its webhook deleted, disabled, or its URL invalid).
    public func notAttempted(webhook: String?) {
        attempts[.error]?.increment()
        if let webhook { perWebhook?.notAttempted(webhook: webhook) }
    }

    /// Sets the gauges from `statistics` and the process, and renders every metric in the
    /// Prometheus text format. `now` is Unix milliseconds; the per-webhook series of webhooks
    /// not in `existing` (deleted) are dropped first.
    func render(_ statistics: StoreStatistics, now: Int64, existing: Set<String>) -> [UInt8] {
        perWebhook?.keep(existing)
        for (status, gauge) in deliveries { gauge.set(Int64(statistics.deliveries[status] ?? 0)) }
        queueDepth.set(Int64(statistics.deliveries[.pending] ?? 0))
        oldestDueAge.set(statistics.oldestDueAt.map { Double(max(0, now - $0)) / 1000 } ?? 0)
        for (state, gauge) in webhooks { gauge.set(Int64(statistics.webhooks[state] ?? 0)) }
        if let bytes = statistics.databaseBytes { databaseSize.set(bytes) }
        process.update()
        return registry.emitToBuffer()
    }
}
