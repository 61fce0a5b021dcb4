import HookRelayAdmin
import HookRelayStore
import ServiceLifecycle

/// Hears what other instances and admin commands commit (PostgreSQL's `LISTEN`, the store's
/// ``StoreChangeFeed``): new or re-queued deliveries wake the dispatcher, webhook changes reload
/// the webhooks, and listening again after a lost connection does both (something may have been
/// missed meanwhile).
struct ChangeListener: Service {
    let state: ServerState
    let feed: any StoreChangeFeed

    func run() async throws {
        let state = state
        await cancelWhenGracefulShutdown { [feed] in
            await feed.listen { change in await state.heard(change) }
        }
    }
}

/// Ends the connections the stores share (PostgreSQL's client) when the services stopped: first
/// in the `ServiceGroup`, so it stops last, after the dispatcher recorded the attempts in flight.
struct DatabaseService: Service {
    let database: ServeDatabase

    func run() async throws {
        try? await gracefulShutdown()
        await database.close()
    }
}

extension ServerState {
    /// The services that bring other processes' changes in: the webhook watcher (a poll of the
    /// webhooks' version) and, when the store announces changes, the listener.
    var watchers: [any Service] {
        [WebhookWatcher(state: self)] + (database.changes.map { [ChangeListener(state: self, feed: $0)] } ?? [])
    }

    /// Acts on a change another process (or this one) announced.
    func heard(_ change: StoreChange) async {
        if change != .webhooks { wakeDispatcher() }
        guard change != .deliveries else { return }
        do {
            if try await reloadWebhooks() { logger.info("webhooks reloaded: changed by another process") }
        } catch {
            logger.error("cannot read the webhooks", metadata: ["error": "\(error)"])
        }
    }
}
