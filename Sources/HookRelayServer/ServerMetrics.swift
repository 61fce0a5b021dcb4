import HookRelayAdmin
import HookRelayDelivery
import HookRelayStore
import Metrics
import Prometheus

/// The daemon's metrics for `GET /metrics`, in one Prometheus registry of its own.
///
/// Instrumented through swift-metrics, with swift-prometheus's factory over this registry
/// passed explicitly, so nothing is bootstrapped globally and each server (and test) has its
/// own. Counters and the latency histogram are updated as work happens; the gauges are set
/// from the database at each scrape (``render(_:now:)``), from counts the store keeps as it
/// writes: a scrape reads a few rows, never counts the deliveries, so its read snapshot lasts
/// well under a millisecond and cannot keep the WAL from being checkpointed. Labels hold fixed
/// words only, never a webhook id, URL, header, secret or event content.
public final class ServerMetrics: AttemptCounting {
    let registry = PrometheusCollectorRegistry()

    /// Events accepted by `POST /v1/events` (committed, duplicates not counted).
    private let eventsIngested: CoreMetrics.Counter
    private let attempts: [SendResult.OutcomeClass: CoreMetrics.Counter]
    private let attemptDuration: CoreMetrics.Timer
    private let deliveries: [DeliveryStatus: Meter]
    private let queueDepth: Meter
    private let oldestDueAge: Meter
    private let webhooks: [Webhook.Health: Meter]

    static let deliveryStates: [DeliveryStatus] = [.pending, .delivered, .failed, .skipped]
    static let healthStates: [Webhook.Health] = [.healthy, .unhealthy, .disabled]

    /// From 5 ms to the longest attempt the `timeout` setting allows by default (15 s), and twice that.
    static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        .seconds(15), .seconds(30),
    ]

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = ["hookrelay_attempt_duration_seconds": Self.latencyBuckets]
        eventsIngested = CoreMetrics.Counter(label: "hookrelay_events_ingested_total", factory: factory)
        // Every series exists from the start, at zero, so rates and alerts work before the first event.
        attempts = Dictionary(uniqueKeysWithValues: SendResult.OutcomeClass.allCases.map {
            ($0, CoreMetrics.Counter(label: "hookrelay_attempts_total", dimensions: [("outcome", $0.rawValue)], factory: factory))
        })
        attemptDuration = CoreMetrics.Timer(label: "hookrelay_attempt_duration_seconds", factory: factory)
        deliveries = Dictionary(uniqueKeysWithValues: Self.deliveryStates.map {
            ($0, Meter(label: "hookrelay_deliveries", dimensions: [("state", $0.rawValue)], factory: factory))
        })
        queueDepth = Meter(label: "hookrelay_queue_depth", factory: factory)
        oldestDueAge = Meter(label: "hookrelay_oldest_due_delivery_age_seconds", factory: factory)
        webhooks = Dictionary(uniqueKeysWithValues: Self.healthStates.map {
            ($0, Meter(label: "hookrelay_webhooks", dimensions: [("state", $0.rawValue)], factory: factory))
        })
    }

    /// Counts the events one ingest request had accepted.
    func ingested(_ accepted: Int) {
        if accepted > 0 { eventsIngested.increment(by: accepted) }
    }

    /// Counts an attempt that was sent, or refused by the address guard, and its duration.
    public func attempted(_ result: SendResult) {
        attempts[result.outcomeClass]?.increment()
        attemptDuration.recordMilliseconds(result.latencyMilliseconds)
    }

    /// Counts a delivery attempt that could not be made (its webhook deleted, disabled, or its URL invalid).
    public func notAttempted() {
        attempts[.error]?.increment()
    }

    /// Sets the gauges from `statistics` and renders every metric in the Prometheus text format.
    /// `now` is Unix milliseconds.
    func render(_ statistics: StoreStatistics, now: Int64) -> [UInt8] {
        for (status, meter) in deliveries { meter.set(statistics.deliveries[status] ?? 0) }
        queueDepth.set(statistics.deliveries[.pending] ?? 0)
        oldestDueAge.set(statistics.oldestDueAt.map { Double(max(0, now - $0)) / 1000 } ?? 0)
        for (state, meter) in webhooks { meter.set(statistics.webhooks[state] ?? 0) }
        return registry.emitToBuffer()
    }
}
