import HookRelayCore
import HookRelayStore
import Logging
import ServiceLifecycle

/// Deletes what is older than `retention` (HookRelayStore's Retention.swift), a pass every
/// ``Retention/passInterval(_:)``: each batch is one short transaction on the writer's queue, so
/// ingest's group commits and the dispatcher's rounds take their turns between two batches.
struct RetentionService: Service {
    let state: ServerState
    let retention: Int64

    func run() async throws {
        var failing = false
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let deleted = try await state.prune(retention: retention)
                if deleted.total > 0 {
                    state.logger.info("pruned what is older than the retention", metadata: [
                        "retention": "\(Duration.milliseconds(retention).shortDescription)", "events": "\(deleted.events)",
                        "deliveries": "\(deleted.deliveries)", "attempts": "\(deleted.attempts)", "audit": "\(deleted.audit)",
                    ])
                }
                failing = false
            } catch {
                // Once per outage; the next pass tries again.
                if !failing { state.logger.error("cannot prune the delivery log; trying again at the next pass", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Retention.passInterval(retention))) }
        }
    }
}

extension ServerState {
    /// One pass of pruning at the time of ``now``: events from the oldest on, the audit log,
    /// then the space freed. Counts what it deleted in the metrics.
    func prune(retention: Int64) async throws -> PruneCounts {
        let cutoff = now() - retention
        var deleted = PruneCounts()
        defer { metrics.pruned(deleted) }
        var cursor: PruneCursor?
        repeat {
            let from = cursor
            let batch = try await withStore { try $0.pruneEvents(before: cutoff, after: from, limit: Retention.batch) }
            deleted += batch.deleted
            // Another instance of a shared database prunes: it does the rest.
            if batch.busy { return deleted }
            cursor = batch.next
        } while cursor != nil
        while true {
            let audit = try await withStore { try $0.pruneAudit(before: cutoff, limit: Retention.batch) }
            deleted.audit += audit
            if audit < Retention.batch { break }
        }
        while try await withStore({ try $0.reclaimSpace(pages: Retention.reclaimPages) }) > 0 {}
        return deleted
    }

    /// The services that run beside the API and the dispatcher: the watchers, the alerts'
    /// counted failures, and pruning when a retention is set.
    var backgroundServices: [any Service] {
        watchers + [AlertService(state: self)] + (configuration.retention.map { [RetentionService(state: self, retention: $0.milliseconds)] } ?? [])
    }
}
