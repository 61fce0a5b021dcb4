import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayStore
import Hummingbird

/// A page or action the session's role does not allow: a 403 page, nothing changed.
struct UIRefusal: Error {
    var reason: String
}

/// What the web page's routes share: the server, the sessions, and the wrappers that check a
/// session (its token still valid, a POST's CSRF token, the role) before a handler runs.
struct UIRoutes: Sendable {
    let state: ServerState
    let sessions: UISessions
    var admin: Admin { state.admin }

    /// The request's session, re-checked: a stored token's principal is looked up again (kept
    /// a second by ``TokenDirectory``), so a revoked or expired token ends the session here;
    /// an admin's `?team=` switches the team shown, and a team deleted meanwhile falls back to
    /// `default`.
    func current(_ request: Request) async throws -> UISession? {
        guard var session = sessions.session(request) else { return nil }
        if let digest = session.digest {
            guard let principal = try await state.tokens.principal(digest: digest), principal.role != .publisher else {
                sessions.end(session.id)
                return nil
            }
            session.principal = principal
        }
        if session.principal.isAdmin {
            if let wanted = request.uri.queryParameters.get("team").map({ String($0) }), (try? await admin.team(wanted)) != nil {
                session.team = wanted
            } else if session.team != Team.defaultID, (try? await admin.team(session.team)) == nil {
                session.team = Team.defaultID
            }
        } else {
            session.team = session.principal.team
        }
        sessions.update(session)
        return session
    }

    /// A handler that wants a session; a missing object is a 404 page, a refusal a 403 page.
    func signedIn(_ handler: @escaping @Sendable (Request, ServeRequestContext, UISession) async throws -> Response)
        -> @Sendable (Request, ServeRequestContext) async throws -> Response
    {
        { request, context in
            guard let session = try await current(request) else { return WebUI.redirect("/ui/login") }
            do {
                return try await handler(request, context, session)
            } catch let error as AdminError where error.kind == .notFound {
                return WebUI.notFound(error.description, session: session)
            } catch let refusal as UIRefusal {
                state.logger.notice("web page action refused", metadata: ["actor": "\(session.principal.actor)", "reason": "\(refusal.reason)"])
                return WebUI.refused(refusal.reason, session: session)
            }
        }
    }

    /// A GET page: the session's message is shown once.
    func page(_ handler: @escaping @Sendable (Request, ServeRequestContext, UISession) async throws -> Response)
        -> @Sendable (Request, ServeRequestContext) async throws -> Response
    {
        signedIn { request, context, session in try await handler(request, context, sessions.take(session)) }
    }

    /// A form POST: the session's CSRF token first, then the handler, whose refused input
    /// (not a missing object or a refusal) goes back to the page it came from as a message.
    func action<F: SessionForm>(
        _ type: F.Type, _ handler: @escaping @Sendable (Request, ServeRequestContext, UISession, F) async throws -> Response
    ) -> @Sendable (Request, ServeRequestContext) async throws -> Response {
        signedIn { request, context, session in
            guard let form = try await WebUI.decodeForm(type, request, context) else { return WebUI.unreadableForm() }
            guard session.accepts(form) else { return WebUI.forbidden() }
            do {
                return try await handler(request, context, session, form)
            } catch let error as AdminError where error.kind != .notFound {
                sessions.flash(session.id, problem: error.description)
                return WebUI.redirect(request.headers[.referer].flatMap(WebUI.localPath) ?? "/ui")
            }
        }
    }

    /// The action buttons post the CSRF token alone.
    func action(_ handler: @escaping @Sendable (Request, ServeRequestContext, UISession, ActionForm) async throws -> Response)
        -> @Sendable (Request, ServeRequestContext) async throws -> Response
    {
        action(ActionForm.self, handler)
    }

    /// Refuses unless the session may change `team`'s objects (a viewer never may).
    func requireManage(_ session: UISession, _ team: String) throws {
        guard session.principal.mayManage(team) else {
            throw UIRefusal(reason: "a \(session.principal.role.rawValue) token may not change this: it needs a team_admin token of the team or an admin token")
        }
    }

    func requireAdmin(_ session: UISession) throws {
        guard session.principal.isAdmin else { throw UIRefusal(reason: "only an admin token manages teams") }
    }

    /// The webhook `id` when its team's objects exist for the session (else a 404, as if there
    /// were none); with `manage`, refused unless the session may change it.
    func webhook(_ id: String, _ session: UISession, manage: Bool = false) async throws -> Webhook {
        let webhook = try await admin.webhook(id)
        guard session.principal.sees(webhook.team) else { throw AdminError.notFound("webhook \(id)") }
        if manage { try requireManage(session, webhook.team) }
        return webhook
    }

    /// The delivery `id` and its webhook's team, under the same rule as ``webhook(_:_:manage:)``;
    /// the deliveries of a deleted webhook exist for an admin only.
    func delivery(_ id: Int64, _ session: UISession, manage: Bool = false) async throws -> (DeliveryDetail, Webhook?) {
        let detail = try await admin.delivery(id)
        let webhook = try? await admin.webhook(detail.record.state.target)
        guard webhook.map({ session.principal.sees($0.team) }) ?? session.principal.isAdmin else {
            throw AdminError.notFound("delivery \(id)")
        }
        if manage { try requireManage(session, webhook?.team ?? Team.defaultID) }
        return (detail, webhook)
    }

    /// Records a change made on the page as the API records its own (``Routes/audit``).
    func audit(_ session: UISession, _ team: String, _ kind: String, _ id: String, _ action: String, _ detail: [String: String] = [:]) async throws {
        try await Routes.audit(state, caller: session.principal, team, kind, id, action, detail)
    }
}
