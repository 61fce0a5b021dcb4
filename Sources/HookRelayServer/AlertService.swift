import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayStore
import Logging
import ServiceLifecycle
import Synchronization

/// Raises the alerts of HookRelayAdmin's Alerts.swift: one per health transition (on the
/// instance whose attempt made it), and `delivery.failed` at most once a minute per webhook,
/// the failures in between counted into the next one (per instance; a stop loses a count not
/// yet sent). An alert is ingested like an event, for the webhook's destinations only.
final class Alerter: Sendable {
    /// The shortest time between two `delivery.failed` alerts about one webhook.
    static let failureWindow: Int64 = 60_000

    struct FailureWindow {
        var lastSent: Int64
        var waiting = 0
        var lastError: String?
    }

    private let windows = Mutex<[String: FailureWindow]>([:])

    /// The `delivery.failed` alert to raise now for a final failure of `delivery`, or nil when
    /// one went out within the window (the failure is counted into the next).
    func failed(_ delivery: DeliveryState, now: Int64) -> (count: Int, lastError: String?)? {
        windows.withLock { windows in
            if let window = windows[delivery.target], now - window.lastSent < Self.failureWindow {
                windows[delivery.target]?.waiting += 1
                windows[delivery.target]?.lastError = delivery.lastError
                return nil
            }
            windows[delivery.target] = FailureWindow(lastSent: now)
            return (1, delivery.lastError)
        }
    }

    /// The counted failures whose window has passed: one alert each, now.
    func due(now: Int64) -> [(webhook: String, count: Int, lastError: String?)] {
        windows.withLock { windows in
            var due: [(String, Int, String?)] = []
            for (webhook, window) in windows where now - window.lastSent >= Self.failureWindow {
                if window.waiting > 0 {
                    due.append((webhook, window.waiting, window.lastError))
                    windows[webhook] = FailureWindow(lastSent: now)
                } else {
                    windows[webhook] = nil
                }
            }
            return due.sorted { $0.0 < $1.0 }
        }
    }
}

/// Sends the failures counted within a window once it has passed (every 5 s).
struct AlertService: Service {
    let state: ServerState

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) }
            await state.raiseCountedFailures()
        }
    }
}

extension ServerState {
    /// A health transition the store committed (``healthChanged(_:from:to:)``).
    func raiseTransition(_ id: String, from: Webhook.Health, to: Webhook.Health) {
        guard let webhook = webhook(id), !webhook.isAlertDestination else { return }
        let unhealthyAfter = configuration.unhealthyAfter
        let disableAfter = configuration.disableAfter.shortDescription
        Task {
            // The last error, from the newest delivery: the transition itself does not carry it.
            let last = try? await read { try $0.deliveries(webhook: id, status: nil, since: nil, before: nil, limit: 1) }.first
            let (type, severity, reason): (String, String, String) = switch to {
            case .unhealthy: ("webhook.unhealthy", "high", "\(unhealthyAfter) consecutive attempts failed")
            case .disabled: ("webhook.disabled", "critical", last?.state.lastHTTPStatus == 410
                ? "the receiver answered 410 Gone" : "failing for longer than disable_after (\(disableAfter))")
            case .healthy: ("webhook.recovered", "info", "an attempt succeeded after it was \(from.rawValue)")
            }
            await raise(AlertEvent(
                type: type, severity: severity, title: "Webhook \(id) \(to == .healthy ? "recovered" : "is \(to.rawValue)") (\(webhook.urlHost))",
                description: reason + (to == .healthy ? "" : last?.state.lastError.map { "; last error: \($0)" } ?? ""),
                fields: Self.facts(webhook, reason: reason, lastError: to == .healthy ? nil : last?.state.lastError, extra: [
                    "previous_state": .text(from.rawValue), "state": .text(to.rawValue),
                ])), about: webhook)
        }
    }

    /// A delivery the dispatcher failed for good.
    func raiseFailure(_ delivery: DeliveryState) {
        guard let webhook = webhook(delivery.target), !webhook.isAlertDestination,
              let (count, lastError) = alerter.failed(delivery, now: now()) else { return }
        Task { await raise(Self.failureAlert(webhook, count: count, lastError: lastError, delivery: delivery.id), about: webhook) }
    }

    /// The failures counted since the last `delivery.failed` alert, once its window has passed.
    func raiseCountedFailures() async {
        for (id, count, lastError) in alerter.due(now: now()) {
            guard let webhook = webhook(id) else { continue }
            await raise(Self.failureAlert(webhook, count: count, lastError: lastError, delivery: nil), about: webhook)
        }
    }

    private static func failureAlert(_ webhook: Webhook, count: Int, lastError: String?, delivery: Int64?) -> AlertEvent {
        let what = count == 1 ? "A delivery" : "\(count) deliveries"
        let reason = "\(what) failed after the last retry"
        return AlertEvent(
            type: "delivery.failed", severity: "high", title: "\(what) to webhook \(webhook.id) failed (\(webhook.urlHost))",
            description: reason + (lastError.map { "; last error: \($0)" } ?? ""),
            fields: facts(webhook, reason: reason, lastError: lastError, extra: [
                "failed_deliveries": .number(Int64(count)), "delivery_id": delivery.map { .number($0) } ?? .none,
            ]))
    }

    private static func facts(_ webhook: Webhook, reason: String, lastError: String?, extra: [String: AlertEvent.Value]) -> [String: AlertEvent.Value] {
        [
            "webhook_id": .text(webhook.id), "url_host": .text(webhook.urlHost), "team": .text(webhook.team),
            "reason": .text(reason), "last_error": lastError.map { .text($0) } ?? .none,
            "consecutive_failures": .number(Int64(webhook.consecutiveFailures)),
        ].merging(extra) { $1 }
    }

    /// Stores `alert` for the destinations of `webhook`'s team and the config's, except one at
    /// the webhook's own URL; logged when it cannot be.
    func raise(_ alert: AlertEvent, about webhook: Webhook) async {
        let destinations = alertDestinations(for: webhook)
        logger.notice("alert", metadata: [
            "type": "\(alert.type)", "webhook": "\(webhook.id)", "destinations": "\(destinations.count)",
        ])
        guard !destinations.isEmpty else { return }
        let (id, body) = alert.encoded(now: now())
        let event = IngestedEvent(id: id, body: body, targets: destinations.map { ($0.id, $0.state == .disabled) })
        do {
            _ = try await ingest(IngestBatch([event]))
        } catch {
            logger.error("cannot store an alert", metadata: ["type": "\(alert.type)", "webhook": "\(webhook.id)", "error": "\(error)"])
        }
    }
}
