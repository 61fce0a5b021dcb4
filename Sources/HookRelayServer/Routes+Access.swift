import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayStore
import Hummingbird

extension Routes {
    /// What a route asks of its caller in a team.
    enum Right {
        case read, manage, publish
    }

    /// 404 when the team's objects do not exist for the caller, 403 when its role lacks `right`.
    static func require(_ context: ServeRequestContext, _ team: String, may right: Right) throws {
        let caller = try context.caller()
        guard caller.sees(team) else { throw APIError(status: .notFound, message: "no team \(team)") }
        let allowed = switch right {
        case .read: caller.mayRead(team)
        case .manage: caller.mayManage(team)
        case .publish: caller.mayPublish(team)
        }
        guard allowed else {
            let needs = switch right {
            case .read: "a token of the team that may read (viewer, team_admin) or an admin token"
            case .manage: "a team_admin token of the team or an admin token"
            case .publish: "a publisher or team_admin token of the team or an admin token"
            }
            throw APIError(status: .forbidden, message: "a \(caller.role.rawValue) token may not do this: it needs \(needs)")
        }
    }

    /// An admin's `?team=`: nil when absent, 400 when it is not a team id (it could name none).
    static func teamQuery(_ request: Request) throws -> String? {
        guard let text = request.uri.queryParameters.get("team").map({ String($0) }) else { return nil }
        guard Team.isValidID(text) else {
            throw APIError(status: .badRequest, message: "team \"\(text)\" is not a team id: 1 to 64 lowercase letters, digits, - and _")
        }
        return text
    }

    /// The team of a `/v1/teams/:team/…` route: it must exist and be the caller's (or the
    /// caller an admin); else 404.
    static func prefixedTeam(_ context: ServeRequestContext, state: ServerState) async throws -> String {
        let team = try context.parameters.require("team")
        guard try context.caller().sees(team), (try? await state.admin.team(team)) != nil else {
            throw APIError(status: .notFound, message: "no team \(team)")
        }
        return team
    }

    /// Records a change in the audit log: who (the caller), the team, the object, what changed.
    static func audit(
        _ state: ServerState, _ context: ServeRequestContext, _ team: String, _ kind: String, _ id: String, _ action: String,
        _ detail: [String: String]
    ) async throws {
        try await audit(state, caller: try context.caller(), team, kind, id, action, detail)
    }

    /// Records a change made by `caller` (the API's caller, or a web page session's).
    static func audit(
        _ state: ServerState, caller: Principal, _ team: String, _ kind: String, _ id: String, _ action: String, _ detail: [String: String]
    ) async throws {
        try await state.admin.record(actor: caller.actor, role: caller.role.rawValue, team: team, kind, id, action, detail)
    }

    // The API's shapes, shared with the admin commands' --json (HookRelayAdmin).
    typealias TeamView = HookRelayAdmin.TeamView
    typealias TokenView = HookRelayAdmin.TokenView
    typealias AuditView = HookRelayAdmin.AuditView
    typealias AuditPage = HookRelayAdmin.AuditPage

    /// Teams (admin), tokens (admin; a team admin for its team, below admin) and the audit log.
    static func accessRoutes(_ api: RouterGroup<ServeRequestContext>, state: ServerState) {
        let admin = state.admin
        @Sendable func adminOnly(_ context: ServeRequestContext) throws {
            guard try context.caller().isAdmin else {
                throw APIError(status: .forbidden, message: "only an admin token manages teams")
            }
        }
        /// A team with its own alert destinations (the team object's `alerts`).
        @Sendable func view(_ team: Team) async throws -> TeamView {
            TeamView(team, alerts: try await admin.teamAlertDestinations()[team.id] ?? [])
        }
        /// The destinations of the team object's `alerts`, checked before anything changes; nil without it.
        @Sendable func alerts(_ fields: [String: Any]) throws -> [AlertDestination]? {
            guard fields["alerts"] != nil else { return nil }
            let destinations = try AlertDestination.list(fields["alerts"])
            try admin.checkAlerts(destinations)
            return destinations
        }
        /// Replaces a team's alert destinations with `destinations`, when given.
        @Sendable func setAlerts(_ destinations: [AlertDestination]?, team: String, _ context: ServeRequestContext) async throws {
            guard let destinations else { return }
            try await admin.setTeamAlerts(team, destinations)
            try await state.reloadWebhooks()
            try await audit(state, context, team, "team", team, "alerts_set", ["alerts": "\(destinations.count)"])
        }
        api.post("teams") { request, context in
            try adminOnly(context)
            let fields = try await decodeObject(request)
            let destinations = try alerts(fields)
            let team = try await admin.createTeam(fields)
            try await audit(state, context, team.id, "team", team.id, "created", ["name": team.name])
            try await setAlerts(destinations, team: team.id, context)
            return json(try await view(team), status: .created)
        }
        api.get("teams") { _, context in
            let caller = try context.caller()
            let alerts = try await admin.teamAlertDestinations()
            return json(["teams": try await admin.teams().filter { caller.mayRead($0.id) }.map { TeamView($0, alerts: alerts[$0.id] ?? []) }])
        }
        api.get("teams/:team") { _, context in
            let team = try await prefixedTeam(context, state: state)
            try require(context, team, may: .read)
            return json(try await view(try await admin.team(team)))
        }
        api.patch("teams/:team") { request, context in
            let id = try await prefixedTeam(context, state: state)
            try adminOnly(context)
            let fields = try await decodeObject(request)
            guard fields["name"] != nil || fields["alerts"] != nil else {
                throw AdminError.invalid(#"give "name", the team's new name, or "alerts", its alert destinations"#)
            }
            let destinations = try alerts(fields)
            if fields["name"] != nil {
                let team = try await admin.renameTeam(id, fields)
                try await audit(state, context, id, "team", id, "updated", ["name": team.name])
            }
            try await setAlerts(destinations, team: id, context)
            return json(try await view(try await admin.team(id)))
        }
        api.delete("teams/:team") { _, context in
            let id = try await prefixedTeam(context, state: state)
            try adminOnly(context)
            let webhooks = try await admin.deleteTeam(id)
            for webhook in webhooks { try await state.refreshWebhook(webhook) }
            try await audit(state, context, id, "team", id, "deleted", ["webhooks": "\(webhooks.count)"])
            state.logger.notice("team deleted", metadata: ["team": "\(id)", "webhooks": "\(webhooks.count)"])
            return json(["deleted": id])
        }

        api.post("tokens") { request, context in
            let caller = try context.caller()
            let fields = try await decodeObject(request)
            if let value = fields["team"], !(value is String) { throw AdminError.invalid("\"team\" must be a team id (a string)") }
            let team = (fields["team"] as? String) ?? caller.team
            try require(context, team, may: .manage)
            if !caller.isAdmin, fields["role"] as? String == TokenRole.admin.rawValue || fields["any_team"] as? Bool == true {
                throw APIError(status: .forbidden, message: "a team_admin token may make tokens of its team below admin, for its team only")
            }
            var scoped = fields
            scoped["team"] = team
            let (token, secret) = try await admin.createToken(scoped, team: team)
            try await audit(state, context, team, "token", token.id, "created", ["role": token.role.rawValue, "description": token.description])
            return json(TokenView(token, secret: secret), status: .created)
        }
        api.get("tokens") { request, context in
            let caller = try context.caller()
            let team = caller.isAdmin ? try teamQuery(request) : caller.team
            if let team { try require(context, team, may: .manage) }
            return json(["tokens": try await admin.tokens(team: team, byAdmin: caller.isAdmin).map { TokenView($0) }])
        }
        api.delete("tokens/:id") { _, context in
            let caller = try context.caller()
            let id = try context.parameters.require("id")
            guard let token = try await admin.token(id, team: caller.isAdmin ? nil : caller.team, byAdmin: caller.isAdmin) else {
                throw APIError(status: .notFound, message: "no token \(id)")
            }
            try require(context, token.team, may: .manage)
            try await admin.revokeToken(id, team: token.team)
            try await audit(state, context, token.team, "token", id, "revoked", [:])
            return json(["revoked": id])
        }

        @Sendable func auditPage(_ request: Request, team: String?) async throws -> Response {
            let (limit, before) = try Routes.page(request.uri.queryParameters)
            let page = try await admin.audit(team: team, before: before, limit: limit)
            let next = page.count == limit ? page.last.map { String($0.id) } : nil
            return json(AuditPage(entries: page.map(AuditView.init), nextCursor: next))
        }
        api.get("audit") { request, context in
            let caller = try context.caller()
            let team = caller.isAdmin ? try teamQuery(request) : caller.team
            if let team { try require(context, team, may: .manage) }
            return try await auditPage(request, team: team)
        }
        api.get("teams/:team/audit") { request, context in
            let team = try await prefixedTeam(context, state: state)
            try require(context, team, may: .manage)
            return try await auditPage(request, team: team)
        }
    }
}
