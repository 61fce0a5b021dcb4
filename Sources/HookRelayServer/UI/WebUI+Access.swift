import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayStore
import Hummingbird

/// The form that makes a team.
struct TeamForm: SessionForm {
    var csrf: String?
    var id: String?
    var name: String?
}

/// The form that makes a token of the team shown.
struct TokenForm: SessionForm {
    var csrf: String?
    var role: String?
    var description: String?
    var expiresAt: String?
    /// A checkbox: present when checked.
    var anyTeam: String?

    enum CodingKeys: String, CodingKey {
        case csrf, role, description, expiresAt = "expires_at", anyTeam = "any_team"
    }
}

/// The teams page (admin), the tokens page and the audit page (a team admin for its team, an
/// admin for the team shown), with the rights and audit entries of the API's
/// ``Routes/accessRoutes(_:state:)``.
extension WebUI {
    static func registerAccess(on router: Router<ServeRequestContext>, _ ui: UIRoutes) {
        let (state, sessions, admin) = (ui.state, ui.sessions, ui.admin)

        router.get("/ui/teams", use: ui.page { _, _, session in
            try ui.requireAdmin(session)
            let rows: [[String: Any]] = try await admin.teams().map { team in
                [
                    "id": team.id, "name": team.name, "created": time(team.createdAt), "shown": team.id == session.team,
                    "deletable": team.id != Team.defaultID,
                ]
            }
            return page("Teams", "teams", ["teams": rows], session: session)
        })
        router.post("/ui/teams", use: ui.action(TeamForm.self) { _, _, session, form in
            try ui.requireAdmin(session)
            var fields: [String: Any] = ["id": (form.id ?? "").trimmingCharacters(in: .whitespaces)]
            if let name = form.name?.trimmingCharacters(in: .whitespaces), !name.isEmpty { fields["name"] = name }
            let team = try await admin.createTeam(fields)
            try await ui.audit(session, team.id, "team", team.id, "created", ["name": team.name])
            state.logger.info("team created", metadata: ["team": "\(team.id)"])
            sessions.flash(session.id, notice: "Team \(team.id) created.")
            return redirect("/ui/teams")
        })
        router.get("/ui/teams/:team/delete", use: ui.page { _, context, session in
            try ui.requireAdmin(session)
            let team = try await admin.team(try context.parameters.require("team"))
            let webhooks = try await admin.webhooks().filter { $0.team == team.id }.count
            return page("Delete team", "team_delete", ["id": team.id, "name": team.name, "webhooks": webhooks], session: session)
        })
        router.post("/ui/teams/:team/delete", use: ui.action { _, context, session, _ in
            try ui.requireAdmin(session)
            let id = try context.parameters.require("team")
            let webhooks = try await admin.deleteTeam(id)
            for webhook in webhooks { try await state.refreshWebhook(webhook) }
            try await ui.audit(session, id, "team", id, "deleted", ["webhooks": "\(webhooks.count)"])
            state.logger.notice("team deleted", metadata: ["team": "\(id)", "webhooks": "\(webhooks.count)"])
            sessions.flash(session.id, notice: "Team \(id) deleted with its tokens and \(webhooks.count) \(webhooks.count == 1 ? "webhook" : "webhooks").")
            return redirect("/ui/teams")
        })

        router.get("/ui/tokens", use: ui.page { _, _, session in
            try ui.requireManage(session, session.team)
            let rows: [[String: Any]] = try await admin.tokens(team: session.team, byAdmin: session.principal.isAdmin).map { token in
                [
                    "id": token.id, "role": token.role.rawValue, "any_team": token.anyTeam, "description": token.description,
                    "created": time(token.createdAt), "last_used": token.lastUsedAt.map(time) ?? "never",
                    "expires": token.expiresAt.map(time) ?? "never",
                ]
            }
            let roles = TokenRole.allCases.filter { session.principal.isAdmin || $0.isBelowAdmin }
            return page("Tokens", "tokens", [
                "team": session.team, "tokens": rows, "has_tokens": !rows.isEmpty,
                "roles": roles.map { ["name": $0.rawValue, "selected": $0 == .viewer] },
            ], session: session)
        })
        router.post("/ui/tokens", use: ui.action(TokenForm.self) { _, _, session, form in
            try ui.requireManage(session, session.team)
            let anyTeam = form.anyTeam != nil
            if !session.principal.isAdmin, form.role == TokenRole.admin.rawValue || anyTeam {
                throw UIRefusal(reason: "a team_admin token may make tokens of its team below admin, for its team only")
            }
            var fields: [String: Any] = ["role": form.role ?? "", "team": session.team, "description": form.description ?? ""]
            if let expires = form.expiresAt?.trimmingCharacters(in: .whitespaces), !expires.isEmpty { fields["expires_at"] = expires }
            if anyTeam { fields["any_team"] = true }
            let (token, secret) = try await admin.createToken(fields, team: session.team)
            try await ui.audit(session, token.team, "token", token.id, "created", ["role": token.role.rawValue, "description": token.description])
            state.logger.info("token created", metadata: ["token": "\(token.id)", "team": "\(token.team)", "role": "\(token.role.rawValue)"])
            return page("Token made", "token_made", [
                "id": token.id, "role": token.role.rawValue, "team": token.team, "token": secret,
            ], session: session)
        })
        router.post("/ui/tokens/:id/revoke", use: ui.action { _, context, session, _ in
            let id = try context.parameters.require("id")
            let principal = session.principal
            guard let token = try await admin.token(id, team: principal.isAdmin ? nil : principal.team, byAdmin: principal.isAdmin) else {
                throw AdminError.notFound("token \(id)")
            }
            try ui.requireManage(session, token.team)
            try await admin.revokeToken(id, team: token.team)
            try await ui.audit(session, token.team, "token", id, "revoked")
            state.logger.notice("token revoked", metadata: ["token": "\(id)", "team": "\(token.team)"])
            sessions.flash(session.id, notice: "Token \(id) revoked: it stops working within a second.")
            return redirect("/ui/tokens")
        })

        router.get("/ui/audit", use: ui.page { request, _, session in
            try ui.requireManage(session, session.team)
            let limit = 25
            let before = request.uri.queryParameters.get("cursor").flatMap { Int64($0) }
            // One more than shown: whether an older page exists.
            var entries = try await admin.audit(team: session.team, before: before, limit: limit + 1)
            let hasOlder = entries.count > limit
            entries = Array(entries.prefix(limit))
            let rows: [[String: Any]] = entries.map { entry in
                [
                    "at": time(entry.at), "actor": entry.actor, "role": entry.role, "object": entry.objectKind, "object_id": entry.objectID,
                    "action": entry.action, "detail": entry.detail == "{}" ? "" : entry.detail,
                ]
            }
            var older: Any = false
            if hasOlder, let last = entries.last { older = "/ui/audit?cursor=\(last.id)" }
            return page("Audit", "audit", ["team": session.team, "entries": rows, "has_entries": !rows.isEmpty, "older": older], session: session)
        })
    }
}
