import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayStore
import HookRelayTemplates
import HTTPTypes
import Hummingbird
import Synchronization

/// The web page of `serve` at `/ui`: server-rendered HTML, no JavaScript needed. Every action is
/// a form POST calling the same ``Admin`` functions as the API and the admin commands.
///
/// Access: a login form takes an API token (the configured one, an admin of every team, or a
/// stored admin, team_admin or viewer token; a publisher's is refused) and starts a session (a
/// random id in an `HttpOnly`, `SameSite=Strict` cookie, `Secure` behind a declared TLS proxy)
/// that ends after ``UISessions/lifetime``, at logout, or at the first request after its token
/// was revoked or expired; every POST carries the session's CSRF token. The pages show one
/// team (an admin switches with `?team=`), with forms only where the role may change things.
enum WebUI {
    static func register(on router: Router<ServeRequestContext>, state: ServerState, token: APIToken) {
        let sessions = UISessions()
        let ui = UIRoutes(state: state, sessions: sessions)
        let secureCookie = state.configuration.tlsProxy

        router.get("/ui/style.css") { _, _ in
            var response = Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8"],
                                    body: ResponseBody(byteBuffer: ByteBuffer(string: UIPages.stylesheet)))
            response.headers[.cacheControl] = "max-age=300"
            return response
        }
        router.get("/ui/login") { request, _ in
            if try await ui.current(request) != nil { return redirect("/ui") }
            return page("Log in", "login", [:], session: nil)
        }
        router.post("/ui/login") { request, context in
            let client = context.client(request, behindProxy: secureCookie)
            if case .wait(let seconds) = state.authThrottle.check(client) { return loginHeldOff(seconds) }
            guard let form = try await decodeForm(LoginForm.self, request, context) else { return unreadableForm() }
            // The configured token, or a stored one (whose digest the session keeps, to look
            // it up again on every request).
            var principal: Principal?
            var digest: String?
            if token.matches(form.token) {
                principal = .bootstrap
            } else if let presented = form.token, !presented.isEmpty, let stored = try await state.tokens.principal(for: presented) {
                principal = stored
                digest = AccessToken.digest(of: presented)
            }
            guard let principal else {
                state.authThrottle.failed(client)
                state.logger.notice("web page login refused")
                return page(
                    "Log in", "login", [:], session: nil, problem: "That is not an API token of this server (or it was revoked, or it expired).",
                    status: .unauthorized)
            }
            state.authThrottle.succeeded(client)
            guard principal.role != .publisher else {
                state.logger.notice("web page login refused: a publisher token", metadata: ["actor": "\(principal.actor)"])
                return page(
                    "Log in", "login", [:], session: nil,
                    problem: "A publisher token only sends events: log in with a viewer, team_admin or admin token.", status: .forbidden)
            }
            let session = sessions.start(principal, digest: digest)
            var response = redirect("/ui")
            response.setCookie(Cookie(
                name: UISessions.cookie, value: session.id, maxAge: Int(UISessions.lifetime / 1000), path: "/ui",
                secure: secureCookie, httpOnly: true, sameSite: .strict))
            state.logger.info("web page login", metadata: ["actor": "\(principal.actor)", "role": "\(principal.role.rawValue)"])
            return response
        }
        router.post("/ui/logout") { request, context in
            if let session = sessions.session(request) {
                guard let form = try await decodeForm(ActionForm.self, request, context) else { return unreadableForm() }
                guard session.accepts(form) else { return forbidden() }
                sessions.end(session.id)
            }
            var response = redirect("/ui/login")
            response.setCookie(Cookie(name: UISessions.cookie, value: "", maxAge: 0, path: "/ui", secure: secureCookie, httpOnly: true, sameSite: .strict))
            return response
        }

        registerWebhooks(on: router, ui)
        registerAccess(on: router, ui)
    }

    // MARK: Rendering

    static func page(
        _ title: String, _ template: String, _ context: [String: Any], session: UISession?, problem: String? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        var context = context
        context["csrf"] = session?.csrf ?? ""
        // A viewer's pages have no form but logout's: `manage` hides the others.
        context["manage"] = session?.mayManage ?? false
        context["is_admin"] = session?.principal.isAdmin ?? false
        var layout: [String: Any] = ["title": title, "content": UIPages.render(template, context)]
        if let session {
            layout["csrf"] = session.csrf
            layout["manage"] = session.mayManage
            layout["is_admin"] = session.principal.isAdmin
            layout["team"] = session.team
            layout["role"] = session.principal.role.rawValue
        }
        if let notice = session?.notice { layout["notice"] = notice }
        if let problem = problem ?? session?.problem { layout["problem"] = problem }
        var response = Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: UIPages.render("layout", layout))))
        secure(&response)
        return response
    }

    static func secure(_ response: inout Response) {
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        response.headers[.cacheControl] = "no-store"
    }

    static func redirect(_ location: String) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location])
        secure(&response)
        return response
    }

    /// An HTML 404 for the web page (the API's are JSON).
    static func notFound(_ what: String, session: UISession?) -> Response {
        page("Not found", "not_found", ["what": what], session: session, status: .notFound)
    }

    /// An HTML 403: the session's role may not do this; nothing was changed.
    static func refused(_ reason: String, session: UISession) -> Response {
        page("Not allowed", "refused", ["reason": reason], session: session, status: .forbidden)
    }

    static func forbidden() -> Response {
        plainText("The form's CSRF token is missing or stale: reload the page and try again.\n", status: .forbidden)
    }

    static func plainText(_ text: String, status: HTTPResponse.Status) -> Response {
        var response = Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        secure(&response)
        return response
    }

    /// The login page for a client held off after too many wrong tokens: 429 with `Retry-After`.
    static func loginHeldOff(_ seconds: Int) -> Response {
        var response = page(
            "Log in", "login", [:], session: nil,
            problem: "Too many wrong tokens from this address: try again in \(seconds) s.", status: .tooManyRequests)
        response.headers[.retryAfter] = "\(seconds)"
        return response
    }

    /// The path of a same-origin Referer, to send a refused action back where it came from.
    static func localPath(_ referer: String) -> String? {
        guard let components = URLComponents(string: referer), components.path.hasPrefix("/ui") else { return nil }
        return components.path + (components.query.map { "?" + $0 } ?? "")
    }

    static func deliveryID(_ context: ServeRequestContext) throws -> Int64 {
        let text = try context.parameters.require("id")
        guard let id = Int64(text), id > 0 else { throw AdminError.notFound("delivery \(text)") }
        return id
    }

    static func time(_ milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    static func describe(_ report: AttemptReport) -> String {
        (report.httpStatus.map { "HTTP \($0)" } ?? report.error ?? "no answer") + " in \(report.latencyMilliseconds) ms"
            + (report.httpStatus != nil && report.error != nil ? " (\(report.error!))" : "")
    }

    static func filterSummary(_ webhook: Webhook) -> String {
        let types = webhook.events.isEmpty ? "every event" : webhook.events.joined(separator: ", ")
        if let minimum = webhook.minSeverity { return "\(types); \(minimum) and above" }
        if !webhook.severities.isEmpty { return "\(types); \(webhook.severities.map(\.description).joined(separator: ", "))" }
        return types
    }

    static let knownTypes = ["finding", "scan_completed", "asset_changed"]
}
