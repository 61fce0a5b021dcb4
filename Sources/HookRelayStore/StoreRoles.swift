import HookRelayCore

/// The webhooks of `serve`: their settings, health and deletion.
///
/// Implementations are used from one thread at a time; times are Unix milliseconds.
public protocol WebhookRepository: AnyObject {
    func webhooks() throws -> [Webhook]
    func webhook(id: String) throws -> Webhook?
    /// Adds a webhook (its id is new).
    func save(_ webhook: Webhook) throws
    /// Replaces a webhook's settings, leaving its health as it is; nil when it does not exist.
    func updateSettings(_ webhook: Webhook) throws -> Webhook?
    func setPaused(id: String, _ paused: Bool, now: Int64) throws -> Webhook?
    /// Makes `secret` the signing secret; the one it replaces signs beside it for `overlap` ms.
    func rotateSecret(id: String, to secret: String, now: Int64, overlap: Int64) throws -> Webhook?
    /// Makes a disabled webhook `healthy` again (only an operator does); false when it does not exist.
    func enableWebhook(id: String, now: Int64) throws -> Bool
    /// The change counters: a running daemon compares them to see what another process changed.
    func webhooksVersion() throws -> WebhooksVersion
    /// Removes the webhook at once and marks its pending deliveries for discarding (never
    /// claimed from then on); false when it does not exist.
    func beginDeletingWebhook(id: String) throws -> Bool
    /// Discards one short batch of a deleted webhook's pending deliveries.
    func discardPending(of webhook: String) throws -> (discarded: Int, done: Bool)
}

/// What `serve`'s queue adds to a ``DeliveryQueue``: events ingested for webhooks, each
/// attempt's effect on its webhook's health, an operator's single attempts and re-queues.
public protocol WebhookQueue: DeliveryQueue {
    /// With a policy, each completion updates its webhook's health in the same transaction.
    var healthPolicy: HealthPolicy? { get set }
    /// Hears each webhook health change once its transaction has committed.
    var onHealthChange: (@Sendable (_ webhook: String, _ from: WebhookHealth, _ to: WebhookHealth) -> Void)? { get set }

    /// Stores the events of several requests and their deliveries (`skipped` for a disabled
    /// webhook, none for one being deleted) in one transaction (group commit). Returns, per batch
    /// and event, whether it was a duplicate (its id was stored before: nothing was added).
    func ingest(_ batches: [IngestBatch], now: Int64) throws -> [[Bool]]
    /// Claims one delivery for an operator's attempt, whatever its state.
    func claimDelivery(id: Int64, now: Int64, lease: Int64) throws -> ManualClaim
    /// Stores a message with one delivery, already claimed: a test event.
    func appendClaimed(_ messageID: String, body: [UInt8], endpoint: String, now: Int64, lease: Int64) throws -> ClaimedDelivery
    /// Puts the webhook's failed deliveries back to pending, due now. Returns how many.
    func requeueFailed(webhook: String, now: Int64) throws -> Int
    /// One short batch of re-sending what the webhook's stored events since `since` were.
    func recoverBatch(webhook: String, since: Int64, now: Int64, progress: RecoverProgress) throws -> RecoverProgress
    /// Releases the claims of processes that no longer run and finishes interrupted deletions;
    /// returns how many deliveries were released.
    @discardableResult func recoverOrphans(now: Int64) throws -> Int
    /// Whether a write can be made now (`/readyz`).
    func isWritable() -> Bool
}

/// The delivery log, read by operators: lists, one delivery with its attempts, a webhook's
/// recent activity.
public protocol DeliveryLog: AnyObject {
    /// Newest first; `endpoint` is a webhook id.
    func deliveries(webhook: String?, status: DeliveryStatus?, since: Int64?, before: Int64?, limit: Int) throws -> [DeliveryRecord]
    func delivery(id: Int64) throws -> DeliveryDetail?
    func activity(webhook: String, since: Int64) throws -> WebhookActivity
    func hourlyOutcomes(webhook: String, since: Int64) throws -> [(hour: Int64, delivered: Int, failed: Int)]
    /// The id of the webhook's oldest pending delivery (what a fifo webhook's others wait behind).
    func oldestPending(webhook: String) throws -> Int64?
}

/// The counts behind `GET /metrics`, read without holding up writers.
public protocol StatisticsSource: AnyObject {
    func statistics(now: Int64) throws -> StoreStatistics
}

/// Everything `serve` keeps, by role: what one backend provides (SQLite: ``SQLiteSpool``).
public typealias ServeStore = WebhookQueue & WebhookRepository & AccessRepository & DeliveryLog & StatisticsSource & RetentionStore & RuledClaims
    & DedupeLedger
    & DigestStore
    & TicketLedger

/// What a connection is opened for; a backend tunes each (durability, read-only, checkpoints).
public enum ConnectionRole: Sendable {
    /// Ingest, the API's and web page's changes, the dispatcher's claims and completions (which
    /// relax durability, ``DeliveryQueue/setDurableCommits(_:)``), admin commands: `serve` has one.
    case writer
    /// Reads for the API, the web page and metrics: refuses writes, never waits for them.
    case reader
}
