import Foundation
import HookRelayAdmin
@testable import HookRelayServer
import HookRelayStore
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The web page with teams (issue 16): stored tokens log in with their role and team, another
/// team's webhook does not exist (404, nothing changed), a viewer's pages have no forms and its
/// forged POSTs are refused (403, nothing changed), an admin switches teams and makes tokens
/// shown once, and the page's changes are in the audit log as the API's are.
@Suite struct WebTeamsTests {
    typealias Browser = WebFormTests.Browser

    /// A new token of `role` in `team`, made through the API by the configured token.
    func token(_ client: some TestClientProtocol, _ role: String, _ team: String) async throws -> (token: String, id: String) {
        try await client.newToken(#"{"role":"\#(role)","team":"\#(team)"}"#)
    }

    /// The forms of a page other than logout's, by their action.
    func forms(_ page: String) -> [String] {
        page.matches(of: #/<form method="(?:post|get)" action="([^"]+)"/#).map { String($0.output.1) }.filter { $0 != "/ui/logout" }
    }

    @Test(arguments: StoreBackend.allCases)
    func aTeamAdminLogsInWithAStoredTokenAndReachesItsTeamOnly(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        try await serve.run { client in
            try await client.makeTeams("acme", "beta")
            let acme = try await token(client, "team_admin", "acme")
            let publisher = try await token(client, "publisher", "acme")
            let acmeHook = try #require(try await client.call(.post, "teams/acme/webhooks", #"{"url":"http://acme.test/hook"}"#)["id"] as? String)
            let betaHook = try #require(try await client.call(.post, "teams/beta/webhooks", #"{"url":"http://beta.test/hook"}"#)["id"] as? String)

            // A publisher token is valid but only sends events.
            let refused = try await client.execute(
                uri: "/ui/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=\(publisher.token)"))
            #expect(refused.status == .forbidden && String(buffer: refused.body).contains("A publisher token only sends events"))
            #expect(refused.headers[.setCookie] == nil)

            let browser = try await Browser.logIn(client, token: acme.token)
            let list = String(buffer: try await browser.get("/ui").body)
            #expect(list.contains("http://acme.test/hook") && !list.contains("http://beta.test/hook"), "\(list)")
            #expect(list.contains("Team <strong>acme</strong> · team_admin"))
            #expect(!list.contains(acme.token), "a token never reaches a page")

            // Beta's webhook does not exist for acme's token, by page or by action; nothing changes.
            let csrf = try await browser.csrf()
            #expect(try await browser.get("/ui/webhooks/\(betaHook)").status == .notFound)
            #expect(try await browser.get("/ui/webhooks/\(betaHook)/delete").status == .notFound)
            for action in ["pause", "rotate-secret", "delete", "test"] {
                let answer = try await browser.post("/ui/webhooks/\(betaHook)/\(action)", "csrf=\(csrf)")
                #expect(answer.status == .notFound, "\(action)")
            }
            let update = try await browser.post("/ui/webhooks/\(betaHook)/update", "csrf=\(csrf)&url=http%3A%2F%2Fevil.test%2F")
            #expect(update.status == .notFound)
            let beta = try await serve.admin.webhook(betaHook)
            #expect(beta.url == "http://beta.test/hook" && !beta.paused && beta.secrets.count == 1)
            // `?team=` is an admin's: a team admin stays in its team.
            #expect(!String(buffer: try await browser.get("/ui?team=beta").body).contains("http://beta.test/hook"))

            // Its own team's: managed, created in acme, audited with its token and role.
            #expect(try await browser.post("/ui/webhooks/\(acmeHook)/pause", "csrf=\(csrf)").status == .seeOther)
            #expect(try await serve.admin.webhook(acmeHook).paused)
            let added = try await browser.post("/ui/webhooks", "csrf=\(csrf)&url=http%3A%2F%2Facme.test%2Fsecond")
            #expect(added.status == .ok)
            let second = try #require(try await serve.admin.webhooks().first { $0.url == "http://acme.test/second" })
            #expect(second.team == "acme")
            let entries = try await serve.admin.audit(team: "acme", before: nil, limit: 10)
            #expect(entries.map(\.action).prefix(2) == ["created", "paused"], "\(entries)")
            #expect(entries.prefix(2).allSatisfy { $0.actor == acme.id && $0.role == "team_admin" && $0.objectKind == "webhook" })
            #expect(try await serve.admin.audit(team: "beta", before: nil, limit: 10).allSatisfy { $0.actor == "bootstrap" })
            let audit = String(buffer: try await browser.get("/ui/audit").body)
            #expect(audit.contains("Audit of acme") && audit.contains(second.id) && audit.contains("\(acme.id) (team_admin)"), "\(audit)")
            let (created, paused) = (try #require(audit.range(of: "created")), try #require(audit.range(of: "paused")))
            #expect(created.lowerBound < paused.lowerBound, "newest first")
            #expect(!audit.contains(betaHook))

            // Revoked: the session ends at the next request once the token's second of cache is over.
            #expect(try await client.call(.delete, "tokens/\(acme.id)").status == .ok)
            serve.advance(.seconds(2))
            let after = try await browser.get("/ui")
            #expect(after.status == .seeOther && after.headers[.location] == "/ui/login")
            #expect(try await browser.get("/ui/login").status == .ok, "the login page, not a loop")
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func aViewersPagesHaveNoFormsAndItsForgedPostsChangeNothing(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        try await serve.run { client in
            let viewer = try await token(client, "viewer", "default")
            let hook = try await serve.webhook()
            #expect(try await client.postEvent(#"{"event_type":"finding","id":"evt_1","finding":{"severity":"high"}}"#) == .accepted)
            let delivery = try await serve.delivery(of: hook)
            let browser = try await Browser.logIn(client, token: viewer.token)
            for path in ["/ui", "/ui/webhooks/\(hook)", "/ui/deliveries/\(delivery.state.id)"] {
                let page = try await browser.get(path)
                #expect(page.status == .ok, "\(path)")
                #expect(forms(String(buffer: page.body)) == [], "\(path): \(String(buffer: page.body))")
            }
            #expect(String(buffer: try await browser.get("/ui/webhooks/\(hook)").body).contains("http://receiver.test/hook"))
            for path in ["/ui/webhooks/new", "/ui/webhooks/\(hook)/delete", "/ui/tokens", "/ui/audit", "/ui/teams"] {
                #expect(try await browser.get(path).status == .forbidden, "\(path)")
            }

            // With a valid CSRF token (a viewer has one, for logging out) every action is refused.
            let csrf = try await browser.csrf()
            let before = try await serve.admin.webhook(hook)
            for action in ["pause", "rotate-secret", "delete", "retry-failed", "test"] {
                let answer = try await browser.post("/ui/webhooks/\(hook)/\(action)", "csrf=\(csrf)")
                #expect(answer.status == .forbidden, "\(action)")
                #expect(String(buffer: answer.body).contains("Nothing was changed"))
            }
            #expect(try await browser.post("/ui/webhooks/\(hook)/update", "csrf=\(csrf)&url=http%3A%2F%2Fevil.test%2F").status == .forbidden)
            #expect(try await browser.post("/ui/webhooks", "csrf=\(csrf)&url=http%3A%2F%2Fevil.test%2F").status == .forbidden)
            #expect(try await browser.post("/ui/deliveries/\(delivery.state.id)/retry", "csrf=\(csrf)").status == .forbidden)
            #expect(try await browser.post("/ui/tokens", "csrf=\(csrf)&role=team_admin").status == .forbidden)
            #expect(try await browser.post("/ui/teams", "csrf=\(csrf)&id=mine").status == .forbidden)
            #expect(try await browser.post("/ui/tokens/\(viewer.id)/revoke", "csrf=\(csrf)").status == .forbidden)
            let after = try await serve.admin.webhook(hook)
            #expect(after.url == before.url && after.paused == before.paused && after.secrets == before.secrets)
            #expect(try await serve.admin.webhooks().count == 1)
            #expect(try await serve.admin.teams().count == 1)
            #expect(try await serve.admin.tokens(team: nil).map(\.id) == [viewer.id])
            #expect(try await serve.admin.audit(team: nil, before: nil, limit: 50).allSatisfy { $0.actor != viewer.id })
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func anAdminSwitchesTeamsManagesThemAndMakesATokenShownOnce(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        try await serve.run { client in
            let browser = try await Browser.logIn(client)
            let csrf = try await browser.csrf()
            #expect(try await browser.post("/ui/teams", "csrf=\(csrf)&id=acme&name=Acme+Corp").status == .seeOther)
            let teams = String(buffer: try await browser.get("/ui/teams").body)
            #expect(teams.contains("Team acme created.") && teams.contains("Acme Corp") && teams.contains(#"href="/ui?team=acme""#))

            // Switched: the pages show acme, and a webhook made now is acme's.
            let shown = String(buffer: try await browser.get("/ui?team=acme").body)
            #expect(shown.contains("Webhooks of acme") && shown.contains("Team <strong>acme</strong> · admin"))
            #expect(try await browser.post("/ui/webhooks", "csrf=\(csrf)&url=http%3A%2F%2Facme.test%2Fhook").status == .ok)
            #expect(try await serve.admin.webhooks().map(\.team) == ["acme"])
            #expect(String(buffer: try await browser.get("/ui/webhooks/new").body).contains("Add a webhook to acme"))

            // A token of the team shown, shown once; listed without it afterwards.
            let made = try await browser.post("/ui/tokens", "csrf=\(csrf)&role=viewer&description=dashboards")
            #expect(made.status == .ok)
            let madePage = String(buffer: made.body)
            let secret = String(try #require(madePage.firstMatch(of: #/id="token">([^<]+)</#)).output.1)
            let stored = try #require(try await serve.admin.tokens(team: "acme").first)
            #expect(stored.role == .viewer && stored.description == "dashboards" && stored.digest == AccessToken.digest(of: secret))
            #expect(try await client.call(.get, "webhooks", token: secret).status == .ok, "the token works")
            let tokens = String(buffer: try await browser.get("/ui/tokens").body)
            #expect(tokens.contains(stored.id) && tokens.contains("dashboards") && !tokens.contains(secret))

            // Changes are audited as the API's: the configured token is `bootstrap`, an admin.
            let audit = String(buffer: try await browser.get("/ui/audit").body)
            #expect(audit.contains("bootstrap (admin)") && audit.contains("token \(stored.id)") && audit.contains("team acme"), "\(audit)")
            let entries = try await serve.admin.audit(team: "acme", before: nil, limit: 10)
            #expect(entries.map { "\($0.objectKind) \($0.action)" } == ["token created", "webhook created", "team created"])
            #expect(entries[0].detail == #"{"description":"dashboards","role":"viewer"}"#)

            // Revoked on the page: gone, audited; `default` cannot be deleted; acme can.
            #expect(try await browser.post("/ui/tokens/\(stored.id)/revoke", "csrf=\(csrf)").status == .seeOther)
            #expect(try await serve.admin.tokens(team: nil).isEmpty)
            let kept = try await client.execute(
                uri: "/ui/teams/default/delete", method: .post,
                headers: [.cookie: browser.cookie, .contentType: "application/x-www-form-urlencoded", .referer: "http://localhost/ui/teams"],
                body: ByteBuffer(string: "csrf=\(csrf)"))
            #expect(kept.status == .seeOther && kept.headers[.location] == "/ui/teams")
            #expect(String(buffer: try await browser.get("/ui/teams").body).contains("the default team cannot be deleted"))
            #expect(try await browser.post("/ui/teams/acme/delete", "csrf=\(csrf)").status == .seeOther)
            #expect(try await serve.admin.teams().map(\.id) == ["default"])
            #expect(try await serve.admin.webhooks().isEmpty)
            #expect(String(buffer: try await browser.get("/ui").body).contains("Webhooks of default"), "back on default")
            let last = try #require(try await serve.admin.audit(team: "acme", before: nil, limit: 1).first)
            #expect(last.action == "deleted" && last.objectKind == "team" && last.actor == "bootstrap")
        }
    }

    @Test func theAuditPageIsPagedNewestFirst() async throws {
        let serve = try ServeHarness()
        try await serve.run { client in
            for index in 1...30 {
                serve.advance(.seconds(1))
                try await serve.admin.record(actor: "bootstrap", role: "admin", team: "default", "webhook", "wh_\(index)x", "updated", [:])
            }
            try await serve.admin.record(actor: "bootstrap", role: "admin", team: "other", "team", "other", "created", [:])
            let browser = try await Browser.logIn(client)
            let first = String(buffer: try await browser.get("/ui/audit").body)
            let ids = { (page: String) in page.matches(of: #/webhook wh_(\d+)x/#).map { Int($0.output.1)! } }
            #expect(ids(first) == Array((6...30).reversed()), "\(first)")
            let older = try #require(first.firstMatch(of: #/href="(/ui/audit\?cursor=\d+)"/#)).output.1
            let second = String(buffer: try await browser.get(String(older)).body)
            #expect(ids(second) == [5, 4, 3, 2, 1])
            #expect(!second.contains("Older entries") && !second.contains("team other"))
        }
    }
}
