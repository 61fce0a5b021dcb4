import Foundation
import HookRelayCore
import Testing
@testable import HookRelayStore

/// Teams, tokens and the audit log (``AccessRepository``), alike on every backend.
@Suite struct AccessContractTests {
    func token(_ id: String, role: TokenRole = .viewer, team: String = Team.defaultID, at: Int64 = 1) -> AccessToken {
        AccessToken(id: id, digest: AccessToken.digest(of: "secret-\(id)"), role: role, team: team, description: "for \(id)", createdAt: at)
    }

    @Test(arguments: StoreKind.allCases)
    func theDefaultTeamExistsAndTeamsAreCreatedRenamedAndListed(_ kind: StoreKind) throws {
        let store = try kind.make().store
        #expect(try store.teams().map(\.id) == [Team.defaultID])
        #expect(try store.createTeam(Team(id: "acme", name: "Acme Corp", now: 5)))
        #expect(try !store.createTeam(Team(id: "acme", name: "Another", now: 6)), "an existing id is refused")
        #expect(try store.team(id: "acme") == Team(id: "acme", name: "Acme Corp", now: 5))
        #expect(try store.team(id: "nope") == nil)
        let renamed = try #require(try store.renameTeam(id: "acme", name: "Acme", now: 9))
        #expect(renamed.name == "Acme" && renamed.createdAt == 5 && renamed.updatedAt == 9)
        #expect(try store.renameTeam(id: "nope", name: "x", now: 9) == nil)
        #expect(try store.teams().map(\.id) == ["acme", Team.defaultID])
    }

    @Test(arguments: StoreKind.allCases)
    func webhooksKeepTheirTeamAndAnUpdateDoesNotMoveThem(_ kind: StoreKind) throws {
        let store = try kind.make().store
        _ = try store.createTeam(Team(id: "acme", name: "Acme", now: 1))
        try store.save(Webhook(id: "w1", url: "https://a.example/", secrets: ["whsec_x"], team: "acme", now: 1))
        try store.save(Webhook(id: "w2", url: "https://b.example/", secrets: ["whsec_x"], now: 1))
        #expect(try store.webhook(id: "w1")?.team == "acme")
        #expect(try store.webhook(id: "w2")?.team == Team.defaultID)
        var moved = try #require(try store.webhook(id: "w1"))
        moved.team = Team.defaultID
        moved.url = "https://changed.example/"
        #expect(try store.updateSettings(moved)?.team == "acme", "settings never change the owner")
    }

    @Test(arguments: StoreKind.allCases)
    func tokensAreFoundByDigestListedByTeamTouchedAndRevoked(_ kind: StoreKind) throws {
        let store = try kind.make().store
        _ = try store.createTeam(Team(id: "acme", name: "Acme", now: 1))
        var publisher = token("tok_b", role: .publisher, team: "acme", at: 2)
        publisher.anyTeam = true
        publisher.expiresAt = 99
        try store.saveToken(token("tok_a", role: .teamAdmin, team: "acme", at: 1))
        try store.saveToken(publisher)
        try store.saveToken(token("tok_c", role: .admin, at: 3))
        #expect(try store.token(digest: AccessToken.digest(of: "secret-tok_b")) == publisher)
        #expect(try store.token(digest: AccessToken.digest(of: "wrong")) == nil)
        #expect(try store.tokens(team: "acme").map(\.id) == ["tok_a", "tok_b"])
        #expect(try store.tokens(team: nil).map(\.id) == ["tok_a", "tok_b", "tok_c"])
        try store.touchToken(id: "tok_a", now: 50)
        #expect(try store.tokens(team: "acme").first?.lastUsedAt == 50)
        #expect(try !store.revokeToken(id: "tok_c", team: "acme"), "another team's token is not there")
        #expect(try store.revokeToken(id: "tok_a", team: "acme"))
        #expect(try store.revokeToken(id: "tok_c", team: nil))
        #expect(try !store.revokeToken(id: "tok_c", team: nil))
        #expect(try store.tokens(team: nil).map(\.id) == ["tok_b"])
        #expect(try store.token(digest: AccessToken.digest(of: "secret-tok_a")) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func deletingATeamRemovesItsTokensAndWebhooksAndDiscardsTheirWork(_ kind: StoreKind) throws {
        let store = try kind.make().store
        _ = try store.createTeam(Team(id: "acme", name: "Acme", now: 1))
        try store.save(Webhook(id: "w1", url: "https://a.example/", secrets: ["whsec_x"], team: "acme", now: 1))
        try store.save(Webhook(id: "w2", url: "https://b.example/", secrets: ["whsec_x"], now: 1))
        try store.saveToken(token("tok_a", team: "acme"))
        try store.saveToken(token("tok_d"))
        try store.appendAudit(AuditEntry(at: 1, actor: "tok_a", role: "team_admin", team: "acme", objectKind: "webhook", objectID: "w1", action: "created"))
        let body = Array(#"{"id":"e1"}"#.utf8)
        _ = try store.ingest([IngestBatch([IngestedEvent(id: "e1", body: body, targets: [(webhook: "w1", skipped: false), (webhook: "w2", skipped: false)])])], now: 1)
        let before = try store.webhooksVersion()
        #expect(try store.deleteTeam(id: "acme"))
        #expect(try !store.deleteTeam(id: "acme"))
        #expect(try store.team(id: "acme") == nil)
        #expect(try store.webhooks().map(\.id) == ["w2"])
        #expect(try store.tokens(team: nil).map(\.id) == ["tok_d"])
        #expect(try store.webhooksVersion().settings > before.settings, "running daemons reload")
        let claimed = try store.claim(limit: 10, now: 2, lease: 1_000, quota: TargetQuota(limit: 5, held: [:]))
        #expect(claimed.map(\.target) == ["w2"], "the deleted team's deliveries are never claimed")
        #expect(try store.audit(team: "acme", before: nil, limit: 10).count == 1, "the audit outlives the team")
    }

    @Test(arguments: StoreKind.allCases)
    func aDeletedTeamsEventsAreDiscardedInBatchesAndNoOtherTeamsAre(_ kind: StoreKind) throws {
        let store = try kind.make().store
        for team in ["acme", "acme_x", "acme-2"] { _ = try store.createTeam(Team(id: team, name: team, now: 1)) }
        func event(_ id: String, _ team: String) -> IngestedEvent {
            IngestedEvent(id: Team.eventKey(id, team: team), body: Array(#"{"id":"\#(id)"}"#.utf8), targets: [])
        }
        let events = (1...5).map { event("e\($0)", "acme") } + [
            // (No key of default has a space: MessageID takes ids of visible ASCII only.)
            event("e1", "acme_x"), event("e1", "acme-2"), event("e1", Team.defaultID), event("acme/e1", Team.defaultID),
        ]
        _ = try store.ingest([IngestBatch(events)], now: 1)
        #expect(try store.discardEvents(ofTeam: "acme", limit: 2) == 2)
        #expect(try store.discardEvents(ofTeam: "acme", limit: 10) == 3)
        #expect(try store.discardEvents(ofTeam: "acme", limit: 10) == 0)
        #expect(try store.discardEvents(ofTeam: Team.defaultID, limit: 10) == 0)
        // What is left: the other teams' events and default's, whatever their ids look like.
        let left = try store.ingest([IngestBatch(events)], now: 2)[0]
        #expect(left == Array(repeating: false, count: 5) + Array(repeating: true, count: 4), "\(left)")
    }

    @Test(arguments: StoreKind.allCases)
    func theAuditIsPagedNewestFirstByTeam(_ kind: StoreKind) throws {
        let store = try kind.make().store
        for n in 1...5 {
            try store.appendAudit(AuditEntry(
                at: Int64(n), actor: "tok_\(n)", role: "admin", team: n.isMultiple(of: 2) ? "acme" : Team.defaultID,
                objectKind: "webhook", objectID: "w\(n)", action: "created", detail: #"{"url":"https://x.example/"}"#))
        }
        let all = try store.audit(team: nil, before: nil, limit: 3)
        #expect(all.map(\.objectID) == ["w5", "w4", "w3"])
        #expect(all[0].detail == #"{"url":"https://x.example/"}"# && all[0].actor == "tok_5" && all[0].at == 5)
        #expect(try store.audit(team: nil, before: all[2].id, limit: 3).map(\.objectID) == ["w2", "w1"])
        #expect(try store.audit(team: "acme", before: nil, limit: 10).map(\.objectID) == ["w4", "w2"])
    }

    @Test func aDatabaseFromBeforeTeamsHasEveryWebhookInDefault() throws {
        let path = temporarySpool()
        let connection = try SQLiteConnection(path: path)
        for migration in Schema.migrations.prefix(8) { try connection.execute(migration) }
        try connection.execute("PRAGMA user_version = 8")
        try connection.execute("""
            INSERT INTO webhooks (id, url, secret, created_at, updated_at) VALUES ('wh_old', 'https://old.example/', 'whsec_x', 1, 1)
            """)
        let store = try SQLiteSpool(path: path)
        #expect(try store.webhook(id: "wh_old")?.team == Team.defaultID)
        #expect(try store.teams().map(\.id) == [Team.defaultID])
        #expect(try store.tokens(team: nil).isEmpty && store.audit(team: nil, before: nil, limit: 10).isEmpty)
    }
}
