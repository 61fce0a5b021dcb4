import Foundation
import HookRelayAdmin
import HookRelayCore
@testable import HookRelayServer
import HookRelayStore
import Hummingbird
import HummingbirdTesting
import Testing

/// Teams, tokens and roles through the API, in process: another team's objects do not exist
/// for a token (404, nothing changed), a role lacking a right gets 403, events reach their
/// team's webhooks only, a revoked or expired token stops working, every change is audited.
@Suite struct TeamsAPITests {
    /// A new token of `role` in `team`, made by the bootstrap admin; returns the token.
    func token(_ client: some TestClientProtocol, _ role: String, _ team: String, _ extra: String = "") async throws -> String {
        try await client.newToken(#"{"role":"\#(role)","team":"\#(team)","description":"\#(role) of \#(team)"\#(extra)}"#).token
    }

    @Test(arguments: StoreBackend.allCases)
    func teamsKeepEachOthersObjectsOutOfReach(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        try await serve.run { client in
            #expect(try await client.call(.post, "teams", #"{"id":"acme","name":"Acme Corp"}"#).status == .created)
            #expect(try await client.call(.post, "teams", #"{"id":"beta"}"#).status == .created)
            #expect(try await client.call(.post, "teams", #"{"id":"beta"}"#).status == .conflict)
            #expect(try await client.call(.post, "teams", #"{"id":"Not Valid"}"#).status == .unprocessableContent)
            let acme = try await token(client, "team_admin", "acme")
            let beta = try await token(client, "team_admin", "beta")
            let viewer = try await token(client, "viewer", "acme")
            let publisher = try await token(client, "publisher", "acme")

            let made = try await client.call(.post, "webhooks", #"{"url":"http://acme.test/hook"}"#, token: acme)
            #expect(made.status == .created)
            let hook = try #require(made["id"] as? String)
            let betaHook = try #require(try await client.call(.post, "teams/beta/webhooks", #"{"url":"http://beta.test/hook"}"#, token: beta)["id"] as? String)
            let defaultHook = try #require(try await client.call(.post, "webhooks", #"{"url":"http://default.test/hook"}"#)["id"] as? String)

            // Beta's token: acme's webhook does not exist, by any route, and nothing changes.
            for (method, path) in [
                (HTTPRequest.Method.get, "webhooks/\(hook)"), (.patch, "webhooks/\(hook)"), (.delete, "webhooks/\(hook)"),
                (.post, "webhooks/\(hook)/pause"), (.post, "webhooks/\(hook)/rotate-secret"), (.post, "webhooks/\(hook)/test"),
                (.get, "webhooks/\(hook)/deliveries"), (.get, "teams/acme/webhooks"), (.get, "teams/acme"), (.get, "teams/acme/audit"),
            ] {
                let answer = try await client.call(method, path, method == .patch ? #"{"url":"http://evil.test/"}"# : nil, token: beta)
                #expect(answer.status == .notFound, "\(method) \(path): \(answer.status) \(answer.object)")
            }
            let stillThere = try await client.call(.get, "webhooks/\(hook)", token: acme)
            #expect(stillThere.status == .ok && stillThere["url"] as? String == "http://acme.test/hook" && stillThere["paused"] as? Bool == false)
            let listed = try await client.call(.get, "webhooks", token: beta)
            #expect((listed["webhooks"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [betaHook])
            let all = try await client.call(.get, "webhooks")
            #expect((all["webhooks"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [defaultHook], "the bootstrap token acts on default")

            // A viewer reads, changes nothing; a publisher only sends events.
            #expect(try await client.call(.get, "webhooks/\(hook)", token: viewer).status == .ok)
            #expect(try await client.call(.post, "webhooks/\(hook)/pause", token: viewer).status == .forbidden)
            #expect(try await client.call(.post, "webhooks", #"{"url":"http://x.test/"}"#, token: viewer).status == .forbidden)
            #expect(try await client.call(.get, "webhooks", token: publisher).status == .forbidden)
            #expect(try await client.call(.post, "teams", #"{"id":"gamma"}"#, token: acme).status == .forbidden)
            #expect(try await client.call(.post, "tokens", #"{"role":"admin","team":"acme"}"#, token: acme).status == .forbidden)
            #expect(try await client.call(.post, "tokens", #"{"role":"viewer","team":"beta"}"#, token: acme).status == .notFound)

            // Events reach their team's webhooks only.
            let event = #"{"event_type":"finding","id":"evt-team-1","finding":{"severity":"high"}}"#
            #expect(try await client.call(.post, "events", event, token: publisher).status == .accepted)
            #expect(try await client.call(.post, "teams/beta/events", #"{"event_type":"finding","id":"evt-team-2"}"#, token: publisher).status == .notFound)
            try await eventually("acme's webhook got it") { serve.sender.tally("http://acme.test/hook") == ["acme evt-team-1": 1] }
            try await serve.settled()
            #expect(serve.sender.tally() == ["acme evt-team-1": 1], "\(serve.sender.tally())")

            // Revoked and expired tokens stop working (within the token cache's second).
            let tokens = try await client.call(.get, "tokens?team=acme")
            let viewerID = try #require((tokens["tokens"] as? [[String: Any]])?.first { $0["role"] as? String == "viewer" }?["id"] as? String)
            #expect((tokens["tokens"] as? [[String: Any]])?.allSatisfy { $0["token"] == nil } == true, "never shown again")
            #expect(try await client.call(.delete, "tokens/\(viewerID)", token: beta).status == .notFound)
            #expect(try await client.call(.delete, "tokens/\(viewerID)", token: acme).status == .ok)
            let expiring = try await token(client, "viewer", "acme", #","expires_at":"\#(serve.clock.now / 1000 + 1)""#)
            #expect(try await client.call(.get, "webhooks", token: expiring).status == .ok)
            #expect(try await client.call(.get, "webhooks", token: viewer).status == .ok, "cached for up to a second")
            serve.advance(.seconds(2))
            #expect(try await client.call(.get, "webhooks", token: viewer).status == .unauthorized, "revoked")
            #expect(try await client.call(.get, "webhooks", token: expiring).status == .unauthorized, "expired")

            // The audit: every change, by whom; a team admin sees its team's only.
            let audit = try await client.call(.get, "audit?limit=100")
            let entries = try #require(audit["entries"] as? [[String: Any]])
            #expect(entries.contains { $0["object_id"] as? String == hook && $0["action"] as? String == "created" && $0["team"] as? String == "acme" })
            #expect(entries.contains { $0["object_id"] as? String == viewerID && $0["action"] as? String == "revoked" })
            #expect(!"\(audit.object)".contains("whsec_") && !"\(audit.object)".contains("hrt_"), "no secret in the audit")
            let acmeAudit = try #require(try await client.call(.get, "audit", token: acme)["entries"] as? [[String: Any]])
            #expect(!acmeAudit.isEmpty && acmeAudit.allSatisfy { $0["team"] as? String == "acme" })

            // Deleting a team: its webhooks and tokens go.
            #expect(try await client.call(.delete, "teams/default").status == .unprocessableContent)
            #expect(try await client.call(.delete, "teams/beta").status == .ok)
            serve.advance(.seconds(2))
            #expect(try await client.call(.get, "webhooks", token: beta).status == .unauthorized)
            #expect(try await client.call(.get, "teams/beta/webhooks/\(betaHook)").status == .notFound)
        }
    }

    @Test func teamsOtherThanDefaultHaveAWebhookLimitAndAnIngestRate() async throws {
        let serve = try ServeHarness {
            $0.teamMaxWebhooks = 2
            $0.teamIngestRate = 10
        }
        try await serve.run { client in
            #expect(try await client.call(.post, "teams", #"{"id":"acme"}"#).status == .created)
            let acme = try await token(client, "team_admin", "acme")
            for n in 1...2 {
                #expect(try await client.call(.post, "webhooks", #"{"url":"http://acme.test/\#(n)"}"#, token: acme).status == .created)
            }
            let over = try await client.call(.post, "webhooks", #"{"url":"http://acme.test/3"}"#, token: acme)
            #expect(over.status == .conflict && "\(over.object)".contains("team_max_webhooks"))
            for n in 1...3 {
                #expect(try await client.call(.post, "webhooks", #"{"url":"http://default.test/\#(n)"}"#).status == .created, "default is not limited")
            }

            let batch = (1...10).map { #"{"event_type":"finding","id":"r-\#($0)"}"# }.joined(separator: "\n")
            #expect(try await client.call(.post, "events", batch, ndjson: true, token: acme).status == .accepted)
            let refused = try await client.call(.post, "events", #"{"event_type":"finding","id":"r-11"}"#, token: acme)
            #expect(refused.status == .tooManyRequests && "\(refused.object)".contains("nothing of this request was stored"))
            try await serve.settled()
            #expect(serve.sender.tally()["acme r-11"] == nil)
            serve.advance(.seconds(1))
            #expect(try await client.call(.post, "events", #"{"event_type":"finding","id":"r-11"}"#, token: acme).status == .accepted)
            let many = (1...50).map { #"{"event_type":"finding","id":"d-\#($0)"}"# }.joined(separator: "\n")
            #expect(try await client.call(.post, "events", many, ndjson: true).status == .accepted, "default is not limited")
            try await eventually("r-11 sent to both acme webhooks") { serve.sender.tally()["acme r-11"] == 2 }
        }
    }

    @Test func theTeamLimitsAreReadFromTheConfigFileAndRefusedWhenWrong() throws {
        let apply = ServeConfiguration.fromTOML
        #expect(try apply("team_max_webhooks = 7\nteam_ingest_rate = \"600/m\"").teamMaxWebhooks == 7)
        #expect(try apply(#"team_ingest_rate = "600/m""#).teamIngestRate == 10)
        #expect(try apply(#"team_ingest_rate = "off""#).teamIngestRate == nil)
        #expect(try apply("").teamIngestRate == 1000 && (try apply("")).teamMaxWebhooks == 50)
        #expect(try apply(#"team_field = "meta.team""#).teamField == "meta.team")
        for wrong in [#"team_field = "a..b""#, #"team_ingest_rate = "fast""#, #"team_ingest_rate = "0/s""#, #"team_ingest_rate = "5/d""#, "team_max_webhooks = 0"] {
            #expect(throws: ServeConfiguration.Problem.self, "\(wrong)") { try apply(wrong) }
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func eventIDsAreUniquePerTeamAndAnyTeamTokensNameTheTeamInTheEvent(_ backend: StoreBackend) async throws {
        let serve = try ServeHarness(on: backend)
        try await serve.run { client in
            for team in ["acme", "beta"] {
                #expect(try await client.call(.post, "teams", #"{"id":"\#(team)"}"#).status == .created)
                #expect(try await client.call(.post, "teams/" + team + "/webhooks", #"{"url":"http://\#(team).test/hook"}"#).status == .created)
            }
            #expect(try await client.call(.post, "teams", #"{"id":"empty"}"#).status == .created)
            _ = try await client.call(.post, "webhooks", #"{"url":"http://default.test/hook"}"#)
            let acme = try await token(client, "team_admin", "acme")
            let anywhere = try await token(client, "publisher", "acme", #","any_team":true"#)

            // The same id in two teams: two events; again in one team: a duplicate.
            let one = #"{"event_type":"finding","id":"evt_1"}"#
            let first = try await client.call(.post, "teams/acme/events", one)
            #expect(first.status == .accepted && first["ids"] as? [String] == ["evt_1"] && first["accepted"] as? Int == 1)
            #expect(try await client.call(.post, "teams/beta/events", one)["accepted"] as? Int == 1)
            #expect(try await client.call(.post, "events", one, token: acme)["duplicates"] as? Int == 1)
            let lookalike = try await client.call(.post, "events", #"{"event_type":"finding","id":"acme/evt_1"}"#)
            #expect(lookalike["accepted"] as? Int == 1, "default's acme/evt_1 is not acme's evt_1")

            // The event's team field, for tokens that may send to any team; else default.
            let batch = [
                #"{"event_type":"finding","id":"evt_2","team":"beta"}"#, #"{"event_type":"finding","id":"evt_3"}"#,
            ].joined(separator: "\n")
            #expect(try await client.call(.post, "events", batch, ndjson: true, token: anywhere).status == .accepted)
            #expect(try await client.call(.post, "events", #"{"id":"evt_4","team":"nope"}"#, token: anywhere).status == .badRequest)
            #expect(try await client.call(.post, "events", #"{"id":"evt_4","team":"Bad Team"}"#).status == .badRequest)
            #expect(try await client.call(.post, "events", #"{"id":"evt_5","team":"empty"}"#).status == .accepted, "a team without webhooks")
            // A team's own token: the field is not read.
            #expect(try await client.call(.post, "events", #"{"event_type":"finding","id":"evt_6","team":"beta"}"#, token: acme).status == .accepted)

            try await eventually("every delivery made") { serve.sender.sent == 6 }
            try await serve.settled()
            #expect(serve.sender.tally("http://acme.test/hook") == ["acme evt_1": 1, "acme evt_6": 1])
            #expect(serve.sender.tally("http://beta.test/hook") == ["beta evt_1": 1, "beta evt_2": 1])
            #expect(serve.sender.tally("http://default.test/hook") == ["evt_3": 1, "acme/evt_1": 1])

            // A deleted team's events go with it: made again, the team may send evt_1 anew.
            #expect(try await client.call(.delete, "teams/beta").status == .ok)
            #expect(try await client.call(.post, "teams", #"{"id":"beta"}"#).status == .created)
            #expect(try await client.call(.post, "teams/beta/events", one)["accepted"] as? Int == 1)
            #expect(try await client.call(.post, "teams/acme/events", one)["duplicates"] as? Int == 1, "acme's stay")
        }
    }

    /// Every team route for every role of the team: what the role may do answers 2xx, what it
    /// may not 403 (and changes nothing: the viewer's and publisher's calls come first).
    @Test func everyRouteForEveryRole() async throws {
        let serve = try ServeHarness()
        try await serve.run { client in
            #expect(try await client.call(.post, "teams", #"{"id":"acme"}"#).status == .created)
            let hook = try #require(try await client.call(.post, "teams/acme/webhooks", #"{"url":"http://acme.test/hook"}"#)["id"] as? String)
            #expect(try await client.call(.post, "teams/acme/events", #"{"event_type":"finding","id":"m-1"}"#).status == .accepted)
            try await eventually("delivered") { try await serve.count(hook, .delivered) == 1 }
            let page = try await client.call(.get, "teams/acme/deliveries")
            let delivery = try #require((page["deliveries"] as? [[String: Any]])?.first?["id"] as? Int)
            let tokens = [
                "viewer": try await token(client, "viewer", "acme"), "publisher": try await token(client, "publisher", "acme"),
                "team_admin": try await token(client, "team_admin", "acme"),
            ]
            let reads: [(HTTPRequest.Method, String, String?)] = [
                (.get, "webhooks", nil), (.get, "webhooks/\(hook)", nil), (.get, "webhooks/\(hook)/deliveries", nil),
                (.get, "deliveries", nil), (.get, "deliveries/\(delivery)", nil), (.post, "match", #"{"event_type":"finding"}"#),
                (.get, "teams/acme", nil),
            ]
            let changes: [(HTTPRequest.Method, String, String?)] = [
                (.post, "webhooks", #"{"url":"http://acme.test/second"}"#), (.patch, "webhooks/\(hook)", #"{"description":"changed"}"#),
                (.post, "webhooks/\(hook)/pause", nil), (.post, "webhooks/\(hook)/resume", nil), (.post, "webhooks/\(hook)/enable", nil),
                (.post, "webhooks/\(hook)/rotate-secret", nil), (.post, "webhooks/\(hook)/retry-failed", nil),
                (.post, "webhooks/\(hook)/recover?since=1h", nil), (.post, "webhooks/\(hook)/test", nil),
                (.post, "deliveries/\(delivery)/retry", nil), (.get, "tokens", nil), (.get, "audit", nil),
                (.post, "tokens", #"{"role":"viewer"}"#),
            ]
            let publish: [(HTTPRequest.Method, String, String?)] = [(.post, "events", #"{"event_type":"finding","id":"m-2"}"#)]
            for role in ["viewer", "publisher", "team_admin"] {
                for (group, allowed) in [(reads, role != "publisher"), (changes, role == "team_admin"), (publish, role != "viewer")] {
                    for (method, path, body) in group {
                        let answer = try await client.call(method, path, body, token: tokens[role]!)
                        let ok = (200..<300).contains(answer.status.code)
                        #expect(allowed ? ok : answer.status == .forbidden, "\(role) \(method) \(path): \(answer.status) \(answer.object)")
                    }
                }
                if role != "team_admin" {
                    let unchanged = try await client.call(.get, "teams/acme/webhooks/\(hook)")
                    #expect(unchanged["description"] as? String == "" && unchanged["paused"] as? Bool == false, "\(role) changed nothing")
                }
            }
            for (method, path) in [(HTTPRequest.Method.post, "teams"), (.delete, "teams/acme"), (.patch, "teams/acme")] {
                #expect(try await client.call(method, path, #"{"id":"x","name":"x"}"#, token: tokens["team_admin"]!).status == .forbidden)
            }
            #expect(try await client.call(.delete, "webhooks/\(hook)", token: tokens["viewer"]!).status == .forbidden)
            #expect(try await client.call(.delete, "webhooks/\(hook)", token: tokens["team_admin"]!).status == .ok)
        }
    }
}
