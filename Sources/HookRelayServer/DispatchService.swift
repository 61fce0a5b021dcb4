import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayDelivery
import HookRelayStore
import Logging
import ServiceLifecycle
import Synchronization

/// Sends what the database holds for the webhooks, for as long as the daemon runs: the same
/// dispatcher and sender as `deliver --spool`, with the store updating each webhook's health.
struct DispatchService: Service {
    let state: ServerState

    /// The longest the idle store thread sleeps without being woken: what an admin command in
    /// another process re-queued is claimed within it.
    static let idleWait = Duration.seconds(1)
    /// While the database cannot be reached, a failed round is run again after 100 ms, doubling up to 5 s.
    static let storeRetry = (first: Duration.milliseconds(100), cap: Duration.seconds(5))
    /// The same when changes are heard (PostgreSQL's `LISTEN`): a safety net for what nothing
    /// announces (the leases of an instance that died).
    static let heardIdleWait = Duration.seconds(30)

    func run() async throws {
        let configuration = state.configuration
        let state = self.state
        let dispatcher = Dispatcher(
            store: try await Self.openQueue(state), claimBatch: configuration.concurrency * 2,
            lease: .milliseconds(state.admin.attempts.lease),
            waitUntil: nil, maxPerEndpoint: configuration.perWebhookConcurrency, heldEndpoints: { state.pausedWebhooks },
            ruledEndpoints: { state.ruledWebhooks },
            idleWait: state.idleWait,
            now: state.now,
            report: { delivery in
                if delivery.status == .failed { state.raiseFailure(delivery) }
                var metadata: Logger.Metadata = [
                    "webhook": "\(delivery.target)", "webhook_id": "\(delivery.messageID)", "attempts": .stringConvertible(delivery.attempts),
                    "http_status": delivery.lastHTTPStatus.map { .stringConvertible($0) } ?? "-", "error": "\(delivery.lastError ?? "-")",
                ]
                // A suppressed or digested delivery: the one it refers to.
                if let ref = delivery.ref { metadata["ref"] = .stringConvertible(ref) }
                state.logger.info("delivery \(delivery.status.rawValue)", metadata: metadata)
            },
            storeRetry: Self.storeRetry, gatherOutcomes: state.database.outcomeGathering,
            longestAttempt: configuration.longestAttempt,
            storeTrouble: { trouble in
                switch trouble {
                case let .unavailable(error):
                    state.logger.error(
                        "the database is unavailable: keeping the outcomes of attempts in flight and claiming nothing until it is back",
                        metadata: ["error": "\(error)"])
                case .recovered:
                    state.logger.notice("the database is back: outcomes written, claiming again")
                }
            })
        state.setDispatcherWake { dispatcher.inputArrived() }
        defer { state.setDispatcherWake(nil) }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await dispatcher.run(reportingPending: false) }
                    for _ in 0..<configuration.concurrency {
                        group.addTask(executorPreference: HTTPSender.taskExecutor) {
                            while let job = await dispatcher.next() {
                                let (outcome, gone) = await attempt(job)
                                dispatcher.finish(outcome, targetGone: gone)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            } onGracefulShutdown: {
                let grace = configuration.shutdownGrace
                state.logger.info("stopping: finishing the attempts in flight", metadata: ["grace": "\(grace.shortDescription)"])
                dispatcher.stop()
                // Attempts still running after the grace period are cut off and sent again after
                // the next start.
                DispatchQueue.global().asyncAfter(deadline: .now() + grace.seconds) { state.sender.abortInFlight() }
            }
        } onCancel: {
            // Another service failed (the HTTP server could not bind, say): stop at once.
            dispatcher.stop()
            state.sender.abortInFlight()
        }
        state.sender.shutdown()
    }

    /// The dispatcher's queue, once what processes that ended left in flight is released.
    private static func openQueue(_ state: ServerState) async throws -> sending any DeliveryQueue {
        // The config's alert destinations, as every instance's config says (Alerts.swift).
        try await state.admin.syncConfiguredAlerts(state.configuration.alerts)
        try await state.reloadWebhooks()
        let now = state.now()
        let released = try await state.withStore { try $0.recoverOrphans(now: now) }
        if released > 0 { state.logger.notice("resending deliveries left in flight by a process that ended", metadata: ["count": "\(released)"]) }
        return try state.dispatcherQueue()
    }

    private func attempt(_ job: ClaimedDelivery) async -> (DeliveryOutcome, gone: Bool) {
        await state.admin.attempts.run(job, webhook: state.webhook(job.target))
    }
}
