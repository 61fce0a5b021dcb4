import HookRelayCore
import HookRelayStore

/// The webhooks as this `serve` process knows them, and what ingest and the dispatcher derive
/// from them (the matchers, the paused set): one versioned value, replaced whole under one lock
/// (``ServerState``), so a reader never sees the webhooks of one version with the matchers of
/// another. Every change goes through it: a change this process made (``refreshed(_:to:at:)``),
/// a reload after another process's change (``replaced(by:at:)``), a health transition
/// (``healthChanged(_:to:)``). An older snapshot never replaces a newer one.
struct WebhookDirectory: Sendable {
    private(set) var webhooks: [String: Webhook]
    /// The store's change counters this directory reflects.
    private(set) var version: WebhooksVersion
    /// What ingest needs of each webhook: its filter and whether it is disabled.
    private(set) var matchers: IngestMatchers
    /// Webhooks whose deliveries wait.
    private(set) var paused: Set<String>
    /// Webhooks with a rate limit or an ordering (``DeliveryRules``).
    private(set) var ruled: [String: DeliveryRules]

    init(_ webhooks: [Webhook] = [], version: WebhooksVersion = WebhooksVersion(settings: 0, health: 0)) {
        self.webhooks = Dictionary(uniqueKeysWithValues: webhooks.map { ($0.id, $0) })
        self.version = version
        matchers = IngestMatchers(webhooks)
        paused = Set(webhooks.filter(\.paused).map(\.id))
        ruled = webhooks.reduce(into: [:]) { ruled, webhook in ruled[webhook.id] = webhook.rules }
    }

    /// Every webhook as read at `version`; nil when this directory is as new or newer (reloads
    /// may end out of order).
    func replaced(by all: [Webhook], at version: WebhooksVersion) -> WebhookDirectory? {
        version > self.version ? WebhookDirectory(all, version: version) : nil
    }

    /// One webhook as stored after this process changed it (nil: deleted), read with the
    /// counters at `version`; nil when this directory is already as new. It moves to `version`
    /// only when that is the next settings change (else another change came between, which the
    /// watcher's reload brings in).
    func refreshed(_ id: String, to webhook: Webhook?, at version: WebhooksVersion) -> WebhookDirectory? {
        guard version > self.version else { return nil }
        var webhooks = self.webhooks
        webhooks[id] = webhook
        let next = version.settings == self.version.settings + 1 && version.health == self.version.health
        return WebhookDirectory(Array(webhooks.values), version: next ? version : self.version)
    }

    /// A health transition this process committed: the webhook's state, and whether ingest
    /// skips its deliveries. The filters are not built again.
    func healthChanged(_ id: String, to health: WebhookHealth) -> WebhookDirectory {
        var next = self
        next.webhooks[id]?.state = health
        next.matchers.healthChanged(id, to: health)
        return next
    }
}
