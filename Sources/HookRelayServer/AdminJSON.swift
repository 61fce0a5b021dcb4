import Foundation
import HookRelayStore

/// The API's JSON bodies, built once for the routes and the admin commands' `--json` alike:
/// keys sorted, no spaces, slashes unescaped.
public enum AdminJSON {
    /// How many deliveries a page of the log may hold, and holds when no limit is given.
    public static let pageLimits = 1...1000
    public static let defaultPageLimit = 50

    /// A webhook; its whole secret only when `revealSecret` (at creation and rotation).
    public static func webhook(_ webhook: Webhook, revealSecret: Bool = false) -> Data {
        Routes.encode(WebhookView(webhook, revealSecret: revealSecret))
    }

    /// `{"webhooks":[…]}`, without secrets.
    public static func webhooks(_ webhooks: [Webhook]) -> Data {
        Routes.encode(["webhooks": webhooks.map { WebhookView($0) }])
    }

    /// `{"deleted":ID,"discarded_deliveries":N}`.
    public static func deleted(_ id: String, discardedDeliveries: Int) -> Data {
        Routes.encode(Routes.Deleted(deleted: id, discardedDeliveries: discardedDeliveries))
    }

    /// `{"requeued":N}`.
    public static func requeued(_ count: Int) -> Data {
        Routes.encode(["requeued": count])
    }

    /// The cursor of the page after `page`, which was asked for with `limit`; nil after the last page.
    public static func nextCursor(_ page: [DeliveryRecord], limit: Int) -> String? {
        page.count == limit ? page.last.map { String($0.state.id) } : nil
    }

    /// `{"deliveries":[…],"next_cursor":…}`: a page of the delivery log.
    public static func deliveries(_ page: [DeliveryRecord], limit: Int) -> Data {
        Routes.encode(Routes.Page(deliveries: page.map(DeliveryView.init), nextCursor: nextCursor(page, limit: limit)))
    }

    /// `{"delivery":…,"attempts":[…],"event":…}`.
    public static func delivery(_ detail: DeliveryDetail) -> Data {
        Routes.detailJSON(detail)
    }

    /// The outcome of a test event or a retry.
    public static func report(_ report: AttemptReport) -> Data {
        Routes.encode(report)
    }

    /// `{"webhooks":[…]}`: where an event would go.
    public static func match(_ reports: [MatchReport]) -> Data {
        Routes.encode(["webhooks": reports])
    }
}
