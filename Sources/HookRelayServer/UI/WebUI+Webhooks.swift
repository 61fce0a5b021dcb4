import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayStore
import Hummingbird

/// The webhook and delivery pages: the team shown's webhooks (``UISession/team``); another
/// team's webhook or delivery does not exist for a team's token (404 page); a viewer reads
/// them without forms, and its POSTs are refused (403, nothing changed). Every change is
/// audited as the API audits it.
extension WebUI {
    static func registerWebhooks(on router: Router<ServeRequestContext>, _ ui: UIRoutes) {
        let (state, sessions, admin) = (ui.state, ui.sessions, ui.admin)

        router.get("/ui", use: ui.page { _, _, session in
            let now = UnixTime.now()
            let webhooks = try await admin.webhooks().filter { $0.team == session.team }
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
            return page("Webhooks", "webhooks", ["webhooks": rows, "has_webhooks": !rows.isEmpty, "team": session.team], session: session)
        })
        // Any other address under /ui: an HTML page, as a browser expects, not the API's JSON.
        router.get("/ui/**", use: ui.page { request, _, session in
            notFound("page \(request.uri.path)", session: session)
        })
        router.get("/ui/webhooks/new", use: ui.page { _, _, session in
            try ui.requireManage(session, session.team)
            return page("Add a webhook", "new", [
                "team": session.team, "form": settingsForm(nil, action: "/ui/webhooks?team=\(session.team)", submit: "Add webhook", csrf: session.csrf),
            ], session: session)
        })
        router.post("/ui/webhooks", use: ui.action(WebhookForm.self) { _, _, session, form in
            try ui.requireManage(session, session.team)
            let webhook: Webhook
            do {
                webhook = try await admin.createWebhook(try form.webhookFields(), team: session.team)
            } catch let error as AdminError where error.kind == .invalid {
                // The form again, as it was typed, with the reason: retyping it all is what a
                // refused URL cost before.
                return page("Add a webhook", "new", [
                    "team": session.team,
                    "form": settingsForm(nil, action: "/ui/webhooks?team=\(session.team)", submit: "Add webhook", csrf: session.csrf, typed: form),
                ], session: session, problem: error.description, status: .unprocessableContent)
            }
            try await state.refreshWebhook(webhook.id)
            try await ui.audit(session, webhook.team, "webhook", webhook.id, "created", ["url": webhook.url])
            state.logger.info("webhook created", metadata: ["webhook": "\(webhook.id)", "team": "\(webhook.team)"])
            return page("Webhook added", "secret", [
                "heading": "Webhook added", "id": webhook.id, "url": webhook.url, "secret": webhook.secrets.first ?? "",
            ], session: session)
        })
        router.get("/ui/webhooks/:id", use: ui.page { request, context, session in
            try await webhookPage(try await ui.webhook(try context.parameters.require("id"), session), request: request, session: session)
        })
        router.post("/ui/webhooks/:id/update", use: ui.action(WebhookForm.self) { _, context, session, form in
            let webhook = try await ui.webhook(try context.parameters.require("id"), session, manage: true)
            let fields = try form.webhookFields()
            _ = try await admin.updateWebhook(webhook.id, fields)
            try await state.refreshWebhook(webhook.id)
            try await ui.audit(session, webhook.team, "webhook", webhook.id, "updated", ["fields": fields.keys.sorted().joined(separator: ",")])
            state.logger.info("webhook changed", metadata: ["webhook": "\(webhook.id)"])
            sessions.flash(session.id, notice: "Settings saved.")
            return redirect("/ui/webhooks/\(webhook.id)")
        })
        router.post("/ui/webhooks/:id/test", use: ui.action { _, context, session, _ in
            let webhook = try await ui.webhook(try context.parameters.require("id"), session, manage: true)
            let report = try await admin.sendTest(webhook.id)
            try await ui.audit(session, webhook.team, "webhook", webhook.id, "tested", ["status": report.status])
            state.logger.info("test event sent", metadata: ["webhook": "\(webhook.id)", "status": "\(report.status)"])
            sessions.flash(session.id, notice: "Test event \(report.status): " + describe(report))
            return redirect("/ui/webhooks/\(webhook.id)")
        })
        for (name, paused) in [("pause", true), ("resume", false)] {
            router.post("/ui/webhooks/:id/\(name)", use: ui.action { _, context, session, _ in
                let webhook = try await ui.webhook(try context.parameters.require("id"), session, manage: true)
                _ = try await admin.setPaused(webhook.id, paused)
                try await state.refreshWebhook(webhook.id)
                try await ui.audit(session, webhook.team, "webhook", webhook.id, paused ? "paused" : "resumed")
                state.logger.notice(paused ? "webhook paused" : "webhook resumed", metadata: ["webhook": "\(webhook.id)"])
                sessions.flash(session.id, notice: paused ? "Paused: deliveries wait until you resume." : "Resumed: waiting deliveries are being sent.")
                return redirect("/ui/webhooks/\(webhook.id)")
            })
        }
        router.post("/ui/webhooks/:id/enable", use: ui.action { _, context, session, _ in
            let webhook = try await ui.webhook(try context.parameters.require("id"), session, manage: true)
            _ = try await admin.enable(webhook.id)
            try await state.refreshWebhook(webhook.id)
            try await ui.audit(session, webhook.team, "webhook", webhook.id, "enabled")
            state.logger.notice("webhook enabled", metadata: ["webhook": "\(webhook.id)"])
            sessions.flash(session.id, notice: "Enabled: new events reach it again.")
            return redirect("/ui/webhooks/\(webhook.id)")
        })
        router.post("/ui/webhooks/:id/retry-failed", use: ui.action { _, context, session, _ in
            let webhook = try await ui.webhook(try context.parameters.require("id"), session, manage: true)
            let count = try await admin.retryFailed(webhook.id)
            state.wakeDispatcher()
            try await ui.audit(session, webhook.team, "webhook", webhook.id, "retried", ["requeued": "\(count)"])
            state.logger.notice("failed deliveries re-queued", metadata: ["webhook": "\(webhook.id)", "count": "\(count)"])
            sessions.flash(session.id, notice: "\(count) failed \(count == 1 ? "delivery" : "deliveries") queued again.")
            return redirect("/ui/webhooks/\(webhook.id)")
        })
        router.post("/ui/webhooks/:id/rotate-secret", use: ui.action { _, context, session, _ in
            let webhook = try await admin.rotateSecret(try await ui.webhook(try context.parameters.require("id"), session, manage: true).id)
            try await state.refreshWebhook(webhook.id)
            try await ui.audit(session, webhook.team, "webhook", webhook.id, "secret_rotated")
            state.logger.notice("webhook secret rotated", metadata: ["webhook": "\(webhook.id)"])
            return page("New secret", "secret", [
                "heading": "New signing secret", "id": webhook.id, "url": webhook.url, "secret": webhook.secrets.first ?? "",
                "rotated": true,
            ], session: session)
        })
        router.get("/ui/webhooks/:id/delete", use: ui.page { _, context, session in
            let webhook = try await ui.webhook(try context.parameters.require("id"), session, manage: true)
            let pending = try await state.read { try $0.activity(webhook: webhook.id, since: 0).pending }
            return page("Delete webhook", "delete", ["id": webhook.id, "url": webhook.url, "pending": pending], session: session)
        })
        router.post("/ui/webhooks/:id/delete", use: ui.action { _, context, session, _ in
            let webhook = try await ui.webhook(try context.parameters.require("id"), session, manage: true)
            let discarded = try await admin.deleteWebhook(webhook.id)
            try await state.refreshWebhook(webhook.id)
            try await ui.audit(session, webhook.team, "webhook", webhook.id, "deleted")
            state.logger.info("webhook deleted", metadata: ["webhook": "\(webhook.id)", "discarded": "\(discarded)"])
            sessions.flash(session.id, notice: "Deleted; \(discarded) pending \(discarded == 1 ? "delivery" : "deliveries") discarded.")
            return redirect("/ui")
        })
        router.get("/ui/deliveries/:id", use: ui.page { _, context, session in
            let id = try deliveryID(context)
            let (detail, webhook) = try await ui.delivery(id, session)
            return deliveryPage(id, detail, webhook, session: session)
        })
        router.post("/ui/deliveries/:id/retry", use: ui.action { _, context, session, _ in
            let id = try deliveryID(context)
            let (_, webhook) = try await ui.delivery(id, session, manage: true)
            let report = try await admin.retryDelivery(id)
            try await ui.audit(session, webhook?.team ?? Team.defaultID, "delivery", "\(id)", "retried", ["status": report.status])
            state.logger.info("delivery retried", metadata: ["delivery": "\(id)", "status": "\(report.status)"])
            sessions.flash(session.id, notice: "Retried: \(report.status), " + describe(report))
            return redirect("/ui/deliveries/\(id)")
        })

        @Sendable func webhookPage(_ webhook: Webhook, request: Request, session: UISession) async throws -> Response {
            let id = webhook.id
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
            let horizon = try await admin.logHorizon()
            let heldBehind: Int64? = webhook.fifo ? try await state.read { try $0.oldestPending(webhook: id) } : nil
            let rows: [[String: Any]] = deliveries.map { record in
                [
                    "id": record.state.id, "event_id": record.state.messageID, "status": record.state.status.rawValue,
                    "attempts": record.state.attempts, "http_status": record.state.lastHTTPStatus.map(String.init) ?? "–",
                    "error": record.state.lastError ?? "", "created": time(record.createdAt),
                    "ref": Self.ref(of: record.state),
                    "ticket": record.ticket.map { ["ticket": $0.ticket, "action": $0.action.rawValue] } as Any? ?? false,
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
            let filters: [[String: Any]] = ([nil] + DeliveryStatus.allCases).map { option in
                ["label": option?.rawValue ?? "all", "href": option.map { base + "?status=\($0.rawValue)" } ?? base, "current": option == status]
            }
            // `false`, not nil: an Optional in `[String: Any]` is a value to Mustache, and printed "nil".
            var older: Any = false
            if hasOlder, let last = deliveries.last {
                older = base + "?" + (status.map { "status=\($0.rawValue)&" } ?? "") + "cursor=\(last.state.id)"
            }
            let chart = UIChart(hours: hours, now: now)
            let manage = session.principal.mayManage(webhook.team)
            return page(webhook.url, "webhook", [
                "id": id, "url": webhook.url, "state": webhook.state.rawValue, "paused": webhook.paused, "team": webhook.team,
                "consecutive_failures": webhook.consecutiveFailures > 0 ? webhook.consecutiveFailures as Any : false,
                "secret_prefix": String((webhook.secrets.first ?? "").prefix(10)),
                "buttons": buttons, "filters": filters, "deliveries": rows, "has_deliveries": !rows.isEmpty, "older": older,
                "log_horizon": "The delivery log is " + horizon.text + ".",
                // `false`, not nil (see `older`).
                "held_behind": heldBehind.map { $0 as Any } ?? false,
                "chart": chart.svg, "chart_caption": chart.caption, "filter": filterSummary(webhook),
                "form": manage ? settingsForm(webhook, action: base + "/update", submit: "Save settings", csrf: session.csrf) : "",
            ], session: session)
        }

        @Sendable func deliveryPage(_ id: Int64, _ detail: DeliveryDetail, _ webhook: Webhook?, session: UISession) -> Response {
            let state = detail.record.state
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
                "ref": Self.ref(of: state),
                "ticket": detail.record.ticket.map { ["ticket": $0.ticket, "action": $0.action.rawValue] } as Any? ?? false,
                "attempt_rows": attempts, "has_attempts": !attempts.isEmpty, "event": event,
            ], session: session)
        }
    }

    /// A settled delivery's link to the related one, for the pages (`false`: none).
    static func ref(of state: DeliveryState) -> Any {
        guard let ref = state.ref else { return false }
        let label = state.status == .digested ? "in digest" : "duplicate of"
        return ["id": ref, "label": label]
    }
}
