import Foundation
import HookRelayCore

/// What one digest holds: its message's body, the JSON object a `raw` webhook receives, and
/// what the chat templates render (DigestTemplates.swift). Each event folded in adds to
/// the counts and may enter the top list; the object stays the same size whatever the count.
///
/// `{"type":"digest","webhook":…,"window":{"start","end"},"total":N,"counts":{"high":2,…},
/// "by_type":{"finding":3,…},"top":[{"title","severity","type","id","link","at"},…],"more":M,
/// "link":…}`: times in ISO 8601 UTC with milliseconds; `counts` by severity name (`none` for
/// an event without one); `top` most severe first, then earliest; `more` = total − top's length;
/// `link` the first event's URL that had one (absent when none had).
public struct DigestContent: Codable, Sendable, Equatable {
    public var type = "digest"
    public var webhook: String
    public var window: Window
    public var total = 0
    public var counts: [String: Int] = [:]
    public var byType: [String: Int] = [:]
    public var top: [Entry] = []
    public var more = 0
    public var link: String?

    public struct Window: Codable, Sendable, Equatable {
        public var start: String
        public var end: String
    }

    /// One listed event.
    public struct Entry: Codable, Sendable, Equatable {
        public var title: String
        public var severity: String
        public var type: String
        public var id: String?
        public var link: String?
        /// When it was stored (ISO 8601): the earlier of two of one severity is listed first.
        public var at: String

        var rank: Int { Severity(severity)?.rawValue ?? -1 }
    }

    enum CodingKeys: String, CodingKey {
        case type, webhook, window, total, counts, byType = "by_type", top, more, link
    }

    public init(webhook: String, windowStart: Int64, windowEnd: Int64) {
        self.webhook = webhook
        window = Window(start: Self.time(windowStart), end: Self.time(windowEnd))
    }

    /// Reads a stored digest body.
    public init(json: [UInt8]) throws {
        self = try JSONDecoder().decode(DigestContent.self, from: Data(json))
    }

    /// The body: compact JSON, keys sorted (the same content gives the same bytes).
    public var json: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data("{}".utf8))
    }

    /// Adds one event (its bytes as stored, stored at `at` ms), keeping the `top` most severe.
    /// An event that is not a JSON object counts as an `event` without severity or title.
    public mutating func fold(event bytes: [UInt8], at: Int64, top limit: Int, layout: EventLayout = EventLayout()) {
        let entry = Self.entry(of: bytes, at: at, layout: layout)
        total += 1
        counts[entry.severity, default: 0] += 1
        // Types are the events' own words: at most `maxTypes` are told apart, so no stream of
        // events makes the digest grow.
        let type = byType[entry.type] != nil || byType.count < Self.maxTypes - 1 ? entry.type : Self.otherTypes
        byType[type, default: 0] += 1
        if link == nil { link = entry.link }
        top.append(entry)
        // Stable: of equal severity and time, the one folded first stays first.
        let ordered = top.enumerated().sorted { a, b in
            if a.element.rank != b.element.rank { return a.element.rank > b.element.rank }
            if a.element.at != b.element.at { return a.element.at < b.element.at }
            return a.offset < b.offset
        }.map(\.element)
        top = Array(ordered.prefix(max(1, limit)))
        more = total - top.count
    }

    /// How many event types a digest counts apart; the rest count as ``otherTypes``.
    public static let maxTypes = 50
    public static let otherTypes = "(other types)"

    static func entry(of bytes: [UInt8], at: Int64, layout: EventLayout) -> Entry {
        let time = Self.time(at)
        var limits = TemplateContext.Limits()
        limits.eventType = 64
        limits.id = 128
        guard let context = try? TemplateContext.make(event: bytes, layout: layout, variables: [:], limits: limits) else {
            return Entry(title: "Event", severity: "none", type: "event", at: time)
        }
        let id = context["id"] as? String
        return Entry(
            title: context["title"] as? String ?? "Event", severity: context["severity_name"] as? String ?? "none",
            type: context["event_type"] as? String ?? "event", id: id?.isEmpty == false ? id : nil,
            link: context["link"] as? String, at: time)
    }

    /// The event's severity, as templates read it (nil: none, or not a JSON object).
    public static func severity(of event: [UInt8], layout: EventLayout = EventLayout()) -> Severity? {
        layout.severity(ofEvent: event)
    }

    /// Unix ms as `2026-12-03T10:00:00.000Z`.
    static func time(_ ms: Int64) -> String { UnixTime.iso8601(ms, fractional: true) }
}
