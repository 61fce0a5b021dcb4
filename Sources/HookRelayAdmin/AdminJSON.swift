import Foundation
import HookRelayStore

/// The API's JSON bodies, built once for the routes and the admin commands' `--json` alike:
/// keys sorted, no spaces, slashes unescaped.
public enum AdminJSON {
    /// Keys sorted, no spaces, slashes unescaped.
    public static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// How many deliveries a page of the log may hold, and holds when no limit is given.
    public static let pageLimits = 1...1000
    public static let defaultPageLimit = 50

    /// A webhook; its whole secret only when `revealSecret` (at creation and rotation).
    public static func webhook(_ webhook: Webhook, revealSecret: Bool = false) -> Data {
        encode(WebhookView(webhook, revealSecret: revealSecret))
    }

    /// `{"webhooks":[…]}`, without secrets.
    public static func webhooks(_ webhooks: [Webhook]) -> Data {
        encode(["webhooks": webhooks.map { WebhookView($0) }])
    }

    /// `{"deleted":ID,"discarded_deliveries":N}`.
    public static func deleted(_ id: String, discardedDeliveries: Int) -> Data {
        encode(Deleted(deleted: id, discardedDeliveries: discardedDeliveries))
    }

    /// `{"requeued":N}`.
    public static func requeued(_ count: Int) -> Data {
        encode(["requeued": count])
    }

    /// The cursor of the page after `page`, which was asked for with `limit`; nil after the last page.
    public static func nextCursor(_ page: [DeliveryRecord], limit: Int) -> String? {
        page.count == limit ? page.last.map { String($0.state.id) } : nil
    }

    /// `{"deliveries":[…],"next_cursor":…}`: a page of the delivery log.
    public static func deliveries(_ page: [DeliveryRecord], limit: Int) -> Data {
        encode(Page(deliveries: page.map(DeliveryView.init), nextCursor: nextCursor(page, limit: limit)))
    }

    /// `{"delivery":…,"attempts":[…],"event":…}`.
    public static func delivery(_ detail: DeliveryDetail) -> Data {
        var data = encode(Detail(delivery: DeliveryView(detail.record), attempts: detail.attempts.map(AttemptView.init)))
        // The event is stored valid JSON: embed it as it is rather than as a string.
        data.removeLast()
        data.append(contentsOf: Array(#","event":"#.utf8) + detail.event + [UInt8(ascii: "}")])
        return data
    }

    /// The outcome of a test event or a retry.
    public static func report(_ report: AttemptReport) -> Data {
        encode(report)
    }

    /// `{"webhooks":[…]}`: where an event would go.
    public static func match(_ reports: [MatchReport]) -> Data {
        encode(["webhooks": reports])
    }
}

extension AdminJSON {
    struct Deleted: Encodable {
        var deleted: String
        var discardedDeliveries: Int

        enum CodingKeys: String, CodingKey {
            case deleted, discardedDeliveries = "discarded_deliveries"
        }
    }

    struct Page: Encodable {
        var deliveries: [DeliveryView]
        var nextCursor: String?

        enum CodingKeys: String, CodingKey { case deliveries, nextCursor = "next_cursor" }
    }

    struct Detail: Encodable {
        var delivery: DeliveryView
        var attempts: [AttemptView]
    }

}
