import Foundation
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

    func run() async throws {
        let configuration = state.configuration
        let spool = try SQLiteSpool(path: configuration.database, durableWrites: false)
        spool.healthPolicy = HealthPolicy(
            unhealthyAfter: configuration.unhealthyAfter, disableAfter: configuration.disableAfter.milliseconds)
        let state = self.state
        spool.onHealthChange = { state.healthChanged($0, from: $1, to: $2) }
        let released = try spool.recoverOrphans(now: ServerState.now())
        if released > 0 { state.logger.notice("resending deliveries left in flight by a process that ended", metadata: ["count": "\(released)"]) }
        let dispatcher = Dispatcher(
            store: spool, claimBatch: configuration.concurrency * 2,
            lease: configuration.sender.timeout + configuration.sender.connectTimeout + .seconds(30),
            waitUntil: nil, maxPerEndpoint: configuration.perWebhookConcurrency,
            now: { ServerState.now() },
            report: { delivery in
                state.logger.info("delivery \(delivery.status.rawValue)", metadata: [
                    "webhook": "\(delivery.endpoint)", "webhook_id": "\(delivery.webhookID)", "attempts": "\(delivery.attempts)",
                    "http_status": "\(delivery.lastHTTPStatus.map(String.init) ?? "-")", "error": "\(delivery.lastError ?? "-")",
                ])
            })
        let signers = SignerCache()
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await dispatcher.run(reportingPending: false) }
                    for _ in 0..<configuration.concurrency {
                        group.addTask(executorPreference: HTTPSender.taskExecutor) {
                            var random = SystemRandomNumberGenerator()
                            while let job = await dispatcher.next() {
                                let (outcome, gone) = await attempt(job, signers: signers, random: &random)
                                dispatcher.finish(outcome, endpointGone: gone)
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

    private func attempt(
        _ job: ClaimedDelivery, signers: SignerCache, random: inout SystemRandomNumberGenerator
    ) async -> (DeliveryOutcome, gone: Bool) {
        func failed(_ error: String) -> (DeliveryOutcome, gone: Bool) {
            state.metrics.notAttempted()
            return (Attempt.failed(job, error: error), false)
        }
        guard let webhook = state.webhook(job.endpoint) else { return failed("the webhook was deleted") }
        guard webhook.state != .disabled else { return failed("the webhook is disabled") }
        let endpoint: Endpoint
        do {
            endpoint = try Endpoint(webhook.url, allowHTTP: state.configuration.sender.allowHTTP)
        } catch {
            return failed(error.description)
        }
        let sent = await Attempt.run(
            job, to: endpoint, signer: signers.signer(for: webhook), headers: webhook.headers.sorted { $0.key < $1.key },
            sender: state.sender, retry: state.configuration.retry, random: &random)
        state.metrics.attempted(sent.result)
        var outcome = sent.outcome
        let verdict = sent.result.verdict
        if verdict != .success, state.sender.abortedInFlight {
            // Cut off at shutdown: logged as an attempt, due again at once after the next start,
            // and not held against the webhook's health.
            outcome.attempt.error = "cut off: hookrelay was shutting down"
            outcome.next = .retry(at: ServerState.now())
            outcome.interrupted = true
            return (outcome, false)
        }
        return (outcome, verdict == .gone)
    }
}

/// Signers by webhook, rebuilt when the webhook changes (keyed HMAC states are worth keeping).
final class SignerCache: Sendable {
    private let cache = Mutex<[String: (updatedAt: Int64, signer: Signer)]>([:])

    func signer(for webhook: Webhook) -> Signer {
        if let cached = cache.withLock({ $0[webhook.id] }), cached.updatedAt == webhook.updatedAt { return cached.signer }
        let signer = Signer(secrets: webhook.secrets.compactMap { try? WebhookSecret($0) })
        cache.withLock { $0[webhook.id] = (webhook.updatedAt, signer) }
        return signer
    }
}
