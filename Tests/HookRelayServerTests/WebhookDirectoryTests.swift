import HookRelayCore
@testable import HookRelayServer
import HookRelayStore
import Testing

/// The one value every webhook change in `serve` goes through (issue 14): versioned, replaced
/// whole, never by an older snapshot, with the matchers and the paused set always of its webhooks.
@Suite struct WebhookDirectoryTests {
    func webhook(_ id: String, paused: Bool = false) -> Webhook {
        var webhook = Webhook(id: id, url: "https://\(id).example/", secrets: ["whsec_x"], now: 0)
        webhook.paused = paused
        return webhook
    }

    func version(_ settings: Int64, _ health: Int64 = 0) -> WebhooksVersion { WebhooksVersion(settings: settings, health: health) }

    @Test func anOlderOrEqualReloadNeverReplacesANewerDirectory() throws {
        let directory = WebhookDirectory([webhook("a"), webhook("b")], version: version(5, 2))
        #expect(directory.replaced(by: [webhook("a")], at: version(5, 2)) == nil)
        #expect(directory.replaced(by: [webhook("a")], at: version(4, 9)) == nil)
        let newer = try #require(directory.replaced(by: [webhook("a"), webhook("c", paused: true)], at: version(5, 3)))
        #expect(newer.version == version(5, 3))
        #expect(Set(newer.webhooks.keys) == ["a", "c"])
        #expect(newer.matchers.webhooks == ["a", "c"], "the matchers follow the webhooks")
        #expect(newer.paused == ["c"])
    }

    @Test func aRefreshMovesToTheNextVersionOnlyWhenNothingCameBetween() throws {
        let directory = WebhookDirectory([webhook("a")], version: version(1))
        let next = try #require(directory.refreshed("b", to: webhook("b", paused: true), at: version(2)))
        #expect(next.version == version(2))
        #expect(next.matchers.webhooks == ["a", "b"] && next.paused == ["b"])
        // Another change came between (settings 3 unseen): the webhook is taken, the version is
        // not, so the watcher's reload still brings in the change between.
        let skipped = try #require(next.refreshed("a", to: nil, at: version(4)))
        #expect(skipped.version == version(2))
        #expect(skipped.webhooks["a"] == nil && skipped.matchers.webhooks == ["b"])
        #expect(skipped.replaced(by: [webhook("b"), webhook("z")], at: version(4)) != nil)
        #expect(next.refreshed("a", to: nil, at: version(2)) == nil, "not newer")
    }

    @Test func aHealthChangeKeepsTheVersionAndTheFilters() {
        let directory = WebhookDirectory([webhook("a"), webhook("b")], version: version(3, 7))
        let next = directory.healthChanged("b", to: .disabled)
        #expect(next.webhooks["b"]?.state == .disabled)
        #expect(next.matchers.disabled == [false, true])
        #expect(next.version == version(3, 7), "the watcher's reload brings the stored counter")
        #expect(directory.matchers.disabled == [false, false], "a copy taken before keeps its decisions")
    }
}
