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
/// Access: a login form takes the API token and starts a session (a random id in an `HttpOnly`,
/// `SameSite=Strict` cookie, `Secure` behind a declared TLS proxy) that ends after
/// ``UISessions/lifetime`` or at logout; every POST carries the session's CSRF token.
enum WebUI {
    static func register(on router: Router<ServeRequestContext>, state: ServerState, token: APIToken) {
        let sessions = UISessions()
        let admin = state.admin
        let secureCookie = state.configuration.tlsProxy

        router.get("/ui/style.css") { _, _ in
            var response = Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8"],
                                    body: ResponseBody(byteBuffer: ByteBuffer(string: UIPages.stylesheet)))
            response.headers[.cacheControl] = "max-age=300"
            return response
        }
        router.get("/ui/login") { request, _ in
            if sessions.session(request) != nil { return redirect("/ui") }
            return page("Log in", "login", [:], session: nil)
        }
        router.post("/ui/login") { request, context in
            let client = context.client(request, behindProxy: secureCookie)
            if case .wait(let seconds) = state.authThrottle.check(client) { return loginHeldOff(seconds) }
            guard let form = try await decodeForm(LoginForm.self, request, context) else { return unreadableForm() }
            guard token.matches(form.token) else {
                state.authThrottle.failed(client)
                state.logger.notice("web page login refused")
                return page("Log in", "login", [:], session: nil, problem: "That is not the API token.", status: .unauthorized)
            }
            state.authThrottle.succeeded(client)
            let session = sessions.start()
            var response = redirect("/ui")
            response.setCookie(Cookie(
                name: UISessions.cookie, value: session.id, maxAge: Int(UISessions.lifetime / 1000), path: "/ui",
                secure: secureCookie, httpOnly: true, sameSite: .strict))
            state.logger.info("web page login")
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

        // Everything below wants a session; POSTs also its CSRF token.
        @Sendable func signedIn(_ handler: @escaping @Sendable (Request, ServeRequestContext, UISession) async throws -> Response)
            -> @Sendable (Request, ServeRequestContext) async throws -> Response
        {
            { request, context in
                guard let session = sessions.session(request) else { return redirect("/ui/login") }
                do {
                    return try await handler(request, context, session)
                } catch let error as AdminError where error.kind == .notFound {
                    return notFound(error.description, session: session)
                }
            }
        }
        @Sendable func action<F: SessionForm>(
            _ type: F.Type, _ handler: @escaping @Sendable (Request, ServeRequestContext, UISession, F) async throws -> Response
        ) -> @Sendable (Request, ServeRequestContext) async throws -> Response {
            signedIn { request, context, session in
                guard let form = try await decodeForm(type, request, context) else { return unreadableForm() }
                guard session.accepts(form) else { return forbidden() }
                do {
                    return try await handler(request, context, session, form)
                } catch let error as AdminError where error.kind != .notFound {
                    sessions.flash(session.id, problem: error.description)
                    return redirect(request.headers[.referer].flatMap(localPath) ?? "/ui")
                }
            }
        }

        // The action buttons post the CSRF token alone.
        @Sendable func action(_ handler: @escaping @Sendable (Request, ServeRequestContext, UISession, ActionForm) async throws -> Response)
            -> @Sendable (Request, ServeRequestContext) async throws -> Response
        {
            action(ActionForm.self, handler)
        }

        router.get("/ui") { request, context in
            try await signedIn { _, _, session in
                let now = UnixTime.now()
                let webhooks = try await admin.webhooks()
                let activity = try await state.read { store in
                    try webhooks.map { try store.activity(webhook: $0.id, since: now - 24 * 3_600_000) }
                }
                let rows: [[String: Any]] = zip(webhooks, activity).map { webhook, activity in
                    [
                        "id": webhook.id, "url": webhook.url, "description": webhook.description, "filter": filterSummary(webhook),
                        "state": webhook.state.rawValue, "paused": webhook.paused,
                        "last_delivery": activity.lastDeliveredAt.map(time) ?? "never",
                        "pending": activity.pending, "failed": activity.failedRecently,
                    ]
                }
                return page("Webhooks", "webhooks", ["webhooks": rows, "has_webhooks": !rows.isEmpty], session: sessions.take(session))
            }(request, context)
        }
        // Any other address under /ui: an HTML page, as a browser expects, not the API's JSON.
        router.get("/ui/**") { request, context in
            try await signedIn { request, _, session in
                notFound("page \(request.uri.path)", session: sessions.take(session))
            }(request, context)
        }
        router.get("/ui/webhooks/new") { request, context in
            try await signedIn { _, _, session in
                page("Add a webhook", "new", ["form": settingsForm(nil, action: "/ui/webhooks", submit: "Add webhook", csrf: session.csrf)],
                     session: sessions.take(session))
            }(request, context)
        }
        router.post("/ui/webhooks", use: action(WebhookForm.self) { _, _, session, form in
            let webhook: Webhook
            do {
                webhook = try await admin.createWebhook(try form.webhookFields())
            } catch let error as AdminError where error.kind == .invalid {
                // The form again, as it was typed, with the reason: retyping it all is what a
                // refused URL cost before.
                return page("Add a webhook", "new", [
                    "form": settingsForm(nil, action: "/ui/webhooks", submit: "Add webhook", csrf: session.csrf, typed: form),
                ], session: session, problem: error.description, status: .unprocessableContent)
            }
            try await state.refreshWebhook(webhook.id)
            state.logger.info("webhook created", metadata: ["webhook": "\(webhook.id)"])
            return page("Webhook added", "secret", [
                "heading": "Webhook added", "id": webhook.id, "url": webhook.url, "secret": webhook.secrets.first ?? "",
            ], session: session)
        })
        router.get("/ui/webhooks/:id") { request, context in
            try await signedIn { request, context, session in
                try await webhookPage(try context.parameters.require("id"), request: request, session: sessions.take(session))
            }(request, context)
        }
        router.post("/ui/webhooks/:id/update", use: action(WebhookForm.self) { _, context, session, form in
            let id = try context.parameters.require("id")
            _ = try await admin.updateWebhook(id, try form.webhookFields())
            try await state.refreshWebhook(id)
            state.logger.info("webhook changed", metadata: ["webhook": "\(id)"])
            sessions.flash(session.id, notice: "Settings saved.")
            return redirect("/ui/webhooks/\(id)")
        })
        router.post("/ui/webhooks/:id/test", use: action { _, context, session, _ in
            let id = try context.parameters.require("id")
            let report = try await admin.sendTest(id)
            state.logger.info("test event sent", metadata: ["webhook": "\(id)", "status": "\(report.status)"])
            sessions.flash(session.id, notice: "Test event \(report.status): " + describe(report))
            return redirect("/ui/webhooks/\(id)")
        })
        for (name, paused) in [("pause", true), ("resume", false)] {
            router.post("/ui/webhooks/:id/\(name)", use: action { _, context, session, _ in
                let id = try context.parameters.require("id")
                _ = try await admin.setPaused(id, paused)
                try await state.refreshWebhook(id)
                state.logger.notice(paused ? "webhook paused" : "webhook resumed", metadata: ["webhook": "\(id)"])
                sessions.flash(session.id, notice: paused ? "Paused: deliveries wait until you resume." : "Resumed: waiting deliveries are being sent.")
                return redirect("/ui/webhooks/\(id)")
            })
        }
        router.post("/ui/webhooks/:id/enable", use: action { _, context, session, _ in
            let id = try context.parameters.require("id")
            _ = try await admin.enable(id)
            try await state.refreshWebhook(id)
            state.logger.notice("webhook enabled", metadata: ["webhook": "\(id)"])
            sessions.flash(session.id, notice: "Enabled: new events reach it again.")
            return redirect("/ui/webhooks/\(id)")
        })
        router.post("/ui/webhooks/:id/retry-failed", use: action { _, context, session, _ in
            let id = try context.parameters.require("id")
            let count = try await admin.retryFailed(id)
            state.wakeDispatcher()
            state.logger.notice("failed deliveries re-queued", metadata: ["webhook": "\(id)", "count": "\(count)"])
            sessions.flash(session.id, notice: "\(count) failed \(count == 1 ? "delivery" : "deliveries") queued again.")
            return redirect("/ui/webhooks/\(id)")
        })
        router.post("/ui/webhooks/:id/rotate-secret", use: action { _, context, session, _ in
            let id = try context.parameters.require("id")
            let webhook = try await admin.rotateSecret(id)
            try await state.refreshWebhook(id)
            state.logger.notice("webhook secret rotated", metadata: ["webhook": "\(id)"])
            return page("New secret", "secret", [
                "heading": "New signing secret", "id": webhook.id, "url": webhook.url, "secret": webhook.secrets.first ?? "",
                "rotated": true,
            ], session: session)
        })
        router.get("/ui/webhooks/:id/delete") { request, context in
            try await signedIn { _, context, session in
                let id = try context.parameters.require("id")
                let webhook = try await admin.webhook(id)
                let pending = try await state.read { try $0.activity(webhook: id, since: 0).pending }
                return page("Delete webhook", "delete", ["id": id, "url": webhook.url, "pending": pending], session: sessions.take(session))
            }(request, context)
        }
        router.post("/ui/webhooks/:id/delete", use: action { _, context, session, _ in
            let id = try context.parameters.require("id")
            let discarded = try await admin.deleteWebhook(id)
            try await state.refreshWebhook(id)
            state.logger.info("webhook deleted", metadata: ["webhook": "\(id)", "discarded": "\(discarded)"])
            sessions.flash(session.id, notice: "Deleted; \(discarded) pending \(discarded == 1 ? "delivery" : "deliveries") discarded.")
            return redirect("/ui")
        })
        router.get("/ui/deliveries/:id") { request, context in
            try await signedIn { _, context, session in
                try await deliveryPage(try deliveryID(context), session: sessions.take(session))
            }(request, context)
        }
        router.post("/ui/deliveries/:id/retry", use: action { _, context, session, _ in
            let id = try deliveryID(context)
            let report = try await admin.retryDelivery(id)
            state.logger.info("delivery retried", metadata: ["delivery": "\(id)", "status": "\(report.status)"])
            sessions.flash(session.id, notice: "Retried: \(report.status), " + describe(report))
            return redirect("/ui/deliveries/\(id)")
        })

        @Sendable func webhookPage(_ id: String, request: Request, session: UISession) async throws -> Response {
            let webhook = try await admin.webhook(id)
            let query = request.uri.queryParameters
            let status = query.get("status").flatMap(DeliveryStatus.init(rawValue:))
            let before = query.get("cursor").flatMap { Int64($0) }
            let limit = 25
            let now = UnixTime.now()
            // One more than shown: whether an older page exists.
            var deliveries = try await admin.deliveries(webhook: id, status: status, since: nil, before: before, limit: limit + 1)
            let hasOlder = deliveries.count > limit
            deliveries = Array(deliveries.prefix(limit))
            let hours = try await state.read { try $0.hourlyOutcomes(webhook: id, since: now - 24 * 3_600_000) }
            let rows: [[String: Any]] = deliveries.map { record in
                [
                    "id": record.state.id, "event_id": record.state.messageID, "status": record.state.status.rawValue,
                    "attempts": record.state.attempts, "http_status": record.state.lastHTTPStatus.map(String.init) ?? "–",
                    "error": record.state.lastError ?? "", "created": time(record.createdAt),
                ]
            }
            var buttons: [[String: Any]] = [["action": "test", "label": "Send test event"]]
            buttons.append(webhook.paused ? ["action": "resume", "label": "Resume"] : ["action": "pause", "label": "Pause"])
            if webhook.state == .disabled { buttons.append(["action": "enable", "label": "Re-enable"]) }
            buttons += [["action": "retry-failed", "label": "Retry all failed"], ["action": "rotate-secret", "label": "Rotate secret"]]
            for index in buttons.indices {
                buttons[index]["id"] = id
                buttons[index]["csrf"] = session.csrf
            }
            let base = "/ui/webhooks/\(id)"
            let filters: [[String: Any]] = ([nil] + [DeliveryStatus.pending, .delivered, .failed, .skipped]).map { option in
                ["label": option?.rawValue ?? "all", "href": option.map { base + "?status=\($0.rawValue)" } ?? base, "current": option == status]
            }
            // `false`, not nil: an Optional in `[String: Any]` is a value to Mustache, and printed "nil".
            var older: Any = false
            if hasOlder, let last = deliveries.last {
                older = base + "?" + (status.map { "status=\($0.rawValue)&" } ?? "") + "cursor=\(last.state.id)"
            }
            let chart = UIChart(hours: hours, now: now)
            return page(webhook.url, "webhook", [
                "id": id, "url": webhook.url, "state": webhook.state.rawValue, "paused": webhook.paused,
                "consecutive_failures": webhook.consecutiveFailures > 0 ? webhook.consecutiveFailures as Any : false,
                "secret_prefix": String((webhook.secrets.first ?? "").prefix(10)),
                "buttons": buttons, "filters": filters, "deliveries": rows, "has_deliveries": !rows.isEmpty, "older": older,
                "chart": chart.svg, "chart_caption": chart.caption,
                "form": settingsForm(webhook, action: base + "/update", submit: "Save settings", csrf: session.csrf),
            ], session: session)
        }

        @Sendable func deliveryPage(_ id: Int64, session: UISession) async throws -> Response {
            let detail = try await admin.delivery(id)
            let state = detail.record.state
            let webhook = try? await admin.webhook(state.target)
            let event = (try? JSONSerialization.jsonObject(with: Data(detail.event)))
                .flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) }
                .map { String(decoding: $0, as: UTF8.self) } ?? String(decoding: detail.event, as: UTF8.self)
            let attempts: [[String: Any]] = detail.attempts.map { attempt in
                [
                    "started": time(attempt.startedAt), "http_status": attempt.httpStatus.map(String.init) ?? "–",
                    "latency": attempt.latencyMilliseconds, "error": attempt.error ?? "",
                    "body": String(decoding: attempt.responseBody, as: UTF8.self),
                ]
            }
            return page("Delivery #\(id)", "delivery", [
                "id": id, "webhook": state.target, "webhook_url": webhook?.url ?? state.target + " (deleted)",
                "event_id": state.messageID, "status": state.status.rawValue, "attempts": state.attempts,
                "created": time(detail.record.createdAt),
                "next_attempt": state.status == .pending ? time(state.nextAttemptAt) as Any : false,
                "attempt_rows": attempts, "has_attempts": !attempts.isEmpty, "event": event,
            ], session: session)
        }
    }

    // MARK: Rendering

    static func page(
        _ title: String, _ template: String, _ context: [String: Any], session: UISession?, problem: String? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        var context = context
        context["csrf"] = session?.csrf ?? ""
        var layout: [String: Any] = ["title": title, "content": UIPages.render(template, context)]
        if let session { layout["csrf"] = session.csrf }
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
