import HookRelayDelivery
import Prometheus
import Synchronization

/// Attempts and their latency per webhook (`metrics_per_webhook = true`), with a hard cap on
/// the label's values: the first ``limit`` webhooks attempted have series of their own, labelled
/// with their id (`wh_…`, never a URL, a secret or event content); the others share
/// `webhook="other"`. A webhook that no longer exists loses its series at the next scrape
/// (``keep(_:)``), and its place goes to the next webhook attempted.
final class WebhookMetrics: Sendable {
    static let other = "other"
    static let attemptsName = "hookrelay_webhook_attempts_total"
    static let durationName = "hookrelay_webhook_attempt_duration_seconds"

    /// A webhook's series: a counter per outcome (all made at once, at zero) and the histogram.
    private struct Series {
        var attempts: [SendResult.OutcomeClass: Counter]
        var duration: DurationHistogram
    }

    let limit: Int
    private let registry: PrometheusCollectorRegistry
    private let other: Series
    private let series = Mutex<[String: Series]>([:])

    init(registry: PrometheusCollectorRegistry, limit: Int) {
        self.registry = registry
        self.limit = limit
        other = Self.make(registry, Self.other)
    }

    private static func make(_ registry: PrometheusCollectorRegistry, _ label: String) -> Series {
        Series(
            attempts: Dictionary(uniqueKeysWithValues: SendResult.OutcomeClass.allCases.map {
                ($0, registry.makeCounter(
                    descriptor: .named(attemptsName, "Delivery attempts per webhook (the first metrics_webhooks webhooks; the rest as \"other\") by outcome, as hookrelay_attempts_total."),
                    labels: [("webhook", label), ("outcome", $0.rawValue)]))
            }),
            duration: registry.makeDurationHistogram(
                descriptor: .named(durationName, "How long delivery attempts took per webhook (the first metrics_webhooks webhooks; the rest as \"other\")."),
                labels: [("webhook", label)], buckets: ServerMetrics.latencyBuckets))
    }

    /// The series of `webhook`: its own while there is room, else `other`'s.
    private func series(of webhook: String) -> Series {
        series.withLock { all in
            if let own = all[webhook] { return own }
            guard all.count < limit else { return other }
            let made = Self.make(registry, webhook)
            all[webhook] = made
            return made
        }
    }

    func attempted(_ result: SendResult, webhook: String) {
        let series = series(of: webhook)
        series.attempts[result.outcomeClass]?.increment()
        series.duration.record(.milliseconds(result.latencyMilliseconds))
    }

    /// A delivery of an existing webhook failed without an attempt (disabled, an invalid URL).
    func notAttempted(webhook: String) {
        series(of: webhook).attempts[.error]?.increment()
    }

    /// Drops the series of the webhooks not in `existing` (deleted).
    func keep(_ existing: Set<String>) {
        let gone = series.withLock { all -> [Series] in
            let ids = all.keys.filter { !existing.contains($0) }
            return ids.compactMap { all.removeValue(forKey: $0) }
        }
        for series in gone {
            for counter in series.attempts.values { registry.unregisterCounter(counter) }
            registry.unregisterDurationHistogram(series.duration)
        }
    }
}
