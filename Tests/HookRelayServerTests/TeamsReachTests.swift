import Foundation
import HookRelayAdmin
@testable import HookRelayServer
import HookRelayStore
import Hummingbird
import HummingbirdTesting
import Testing

/// What a team's token reaches beyond its webhooks: the delivery log holds its own webhooks'
/// deliveries only (not those of a deleted webhook of another team), admin tokens and any-team
/// publishers are not a team admin's to see or revoke, an admin's web forms act on the team the
/// page showed, and names and descriptions are refused with control characters in them.
@Suite struct TeamsReachTests {
    typealias Browser = WebFormTests.Browser

    @Test(arguments: StoreBackend.allCases)
    func aTeamsDeliveryLogHoldsItsOwnWebhooksOnly(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        try await serve.run { client in
            try await client.makeTeams("acme", "beta")
            let viewer = try await client.newToken(#"{"role":"viewer","team":"acme"}"#)
            let beta = try await client.newToken(#"{"role":"team_admin","team":"beta"}"#)
            let hook = try #require(try await client.call(.post, "webhooks", #"{"url":"http://beta.test/hook"}"#, token: beta.token)["id"] as? String)
            let event = #"{"event_type":"finding","id":"incident-42"}"#
            #expect(try await client.call(.post, "teams/beta/events", event).status == .accepted)
            try await eventually("beta's webhook got it") { serve.sender.tally("http://beta.test/hook") == ["beta incident-42": 1] }
            try await serve.settled()
            #expect(try await client.call(.delete, "webhooks/\(hook)", token: beta.token).status == .ok)
            // No webhook of any team but acme's is left; acme has none: its log is empty.
            let log = try await client.call(.get, "deliveries", token: viewer.token)
            #expect(log.status == .ok)
            #expect((log["deliveries"] as? [Any])?.isEmpty == true, "\(log.object)")
            #expect(!"\(log.object)".contains("incident-42"))
            // Acme's own delivery is listed once acme has a webhook.
            #expect(try await client.call(.post, "teams/acme/webhooks", #"{"url":"http://acme.test/hook"}"#).status == .created)
            #expect(try await client.call(.post, "teams/acme/events", #"{"event_type":"finding","id":"acme-1"}"#).status == .accepted)
            try await serve.settled()
            let ours = try await client.call(.get, "deliveries", token: viewer.token)
            #expect((ours["deliveries"] as? [[String: Any]])?.compactMap { $0["webhook_id"] as? String } == ["acme acme-1"], "\(ours.object)")
        }
    }

    @Test func aTeamAdminNeitherSeesNorRevokesTokensAboveIt() async throws {
        let serve = try ServeHarness()
        try await serve.run { client in
            #expect(try await client.call(.post, "teams", #"{"id":"acme"}"#).status == .created)
            let teamAdmin = try await client.newToken(#"{"role":"team_admin","team":"acme"}"#)
            let admin = try await client.newToken(#"{"role":"admin","team":"acme"}"#)
            let anyTeam = try await client.newToken(#"{"role":"publisher","team":"acme","any_team":true}"#)
            let viewer = try await client.newToken(#"{"role":"viewer","team":"acme"}"#)
            let listed = try await client.call(.get, "tokens", token: teamAdmin.token)
            let ids = Set((listed["tokens"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? [])
            #expect(ids == [teamAdmin.id, viewer.id], "\(listed.object)")
            for above in [admin.id, anyTeam.id] {
                #expect(try await client.call(.delete, "tokens/\(above)", token: teamAdmin.token).status == .notFound)
            }
            serve.advance(.seconds(2))
            #expect(try await client.call(.get, "webhooks", token: admin.token).status == .ok, "still valid")
            #expect(try await client.call(.delete, "tokens/\(viewer.id)", token: teamAdmin.token).status == .ok)
            // The web page's list and revoke button agree.
            let browser = try await Browser.logIn(client, token: teamAdmin.token)
            let page = String(buffer: try await browser.get("/ui/tokens").body)
            #expect(!page.contains(admin.id) && !page.contains(anyTeam.id) && page.contains(teamAdmin.id))
            let csrf = try await browser.csrf()
            #expect(try await browser.post("/ui/tokens/\(admin.id)/revoke", "csrf=\(csrf)").status == .notFound)
        }
    }

    @Test func anAdminsFormsActOnTheTeamTheirPageShowed() async throws {
        let serve = try ServeHarness()
        try await serve.run { client in
            for team in ["acme", "beta"] { #expect(try await client.call(.post, "teams", #"{"id":"\#(team)"}"#).status == .created) }
            let browser = try await Browser.logIn(client)
            // Tab A shows beta's tokens; tab B then switches the session to acme.
            let tokens = String(buffer: try await browser.get("/ui/tokens?team=beta").body)
            #expect(tokens.contains(#"action="/ui/tokens?team=beta""#))
            let adding = String(buffer: try await browser.get("/ui/webhooks/new?team=beta").body)
            #expect(adding.contains(#"action="/ui/webhooks?team=beta""#))
            _ = try await browser.get("/ui?team=acme")
            // Tab A's forms, submitted now, still act on beta.
            let csrf = try await browser.csrf()
            #expect(try await browser.post("/ui/tokens?team=beta", "csrf=\(csrf)&role=viewer&description=for+beta").status == .ok)
            #expect(try await serve.admin.tokens(team: "beta").contains { $0.description == "for beta" })
            #expect(try await serve.admin.tokens(team: "acme").isEmpty)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func controlCharactersInATeamsNameOrATokensDescriptionAreRefused(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        try await serve.run { client in
            let nul = try await client.call(.post, "tokens", #"{"role":"viewer","description":"a\u0000b"}"#)
            #expect(nul.status == .unprocessableContent && "\(nul.object)".contains("control characters"), "\(nul.object)")
            let escape = try await client.call(.post, "teams", #"{"id":"x","name":"a\u001b[31m"}"#)
            #expect(escape.status == .unprocessableContent && "\(escape.object)".contains("control characters"), "\(escape.object)")
            #expect(try await client.call(.post, "tokens", #"{"role":"viewer","description":"a\tb"}"#).status == .created)
        }
    }
}
