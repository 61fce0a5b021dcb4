import Foundation
import HookRelayCore
import Testing
@testable import HookRelayStore

/// A webhook's client certificate, key and CA bundle (SQLite migration 13, PostgreSQL 9) are
/// saved, changed and removed like its other settings, alike on every backend.
@Suite struct WebhookTLSContractTests {
    @Test(arguments: StoreKind.allCases)
    func theMaterialIsSavedChangedAndRemoved(_ kind: StoreKind) throws {
        let store = try kind.make().store
        var webhook = Webhook(id: "a", url: "https://a.example/hook", secrets: ["whsec_x"], now: 0)
        #expect(webhook.clientCertificate == nil && webhook.clientKey == nil && webhook.ca == nil, "none for a new webhook")
        (webhook.clientCertificate, webhook.clientKey, webhook.ca) = ("cert 1", "key 1", "ca 1")
        try store.save(webhook)
        let saved = try #require(try store.webhook(id: "a"))
        #expect([saved.clientCertificate, saved.clientKey, saved.ca] == ["cert 1", "key 1", "ca 1"])
        (webhook.clientCertificate, webhook.clientKey) = ("cert 2", "key 2")
        webhook.updatedAt = 5
        let changed = try #require(try store.updateSettings(webhook))
        #expect([changed.clientCertificate, changed.clientKey, changed.ca] == ["cert 2", "key 2", "ca 1"])
        (webhook.clientCertificate, webhook.clientKey, webhook.ca) = (nil, nil, nil)
        webhook.updatedAt = 6
        _ = try store.updateSettings(webhook)
        let removed = try #require(try store.webhooks().first)
        #expect(removed.clientCertificate == nil && removed.clientKey == nil && removed.ca == nil)
    }
}
