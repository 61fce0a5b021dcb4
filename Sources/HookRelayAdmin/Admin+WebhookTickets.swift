import Foundation
import HookRelayCore
import HookRelayStore
import HookRelayTemplates

/// A webhook's ticket fields (issue 19): `tickets` (`create`, `update`), `ticket_close`,
/// `ticket_fixed_statuses`, `ticket_comment_template`, `ticket_close_template`.
extension Admin {
    static let ticketFields: Set = ["tickets", "ticket_close", "ticket_fixed_statuses", "ticket_comment_template", "ticket_close_template"]

    /// The largest inline comment or close template.
    static let maxTicketTemplateBytes = 16 * 1024

    /// Sets the ticket fields given in `object` on `webhook`, checked against its template
    /// (already applied). Its URL is checked by ``checkTicketURL(of:)`` once it is set.
    func applyTickets(_ object: [String: Any], to webhook: inout Webhook) throws {
        func invalid(_ message: String) -> AdminError { AdminError.invalid(message) }
        var settings = webhook.tickets ?? TicketSettings(mode: .create)
        if let value = object["tickets"] {
            if value is NSNull {
                settings.mode = .create
            } else {
                guard let text = value as? String, let mode = TicketSettings.Mode(rawValue: text) else {
                    throw invalid("\"tickets\" must be \"create\" (a ticket per delivery) or \"update\" (one per finding, commented and closed)")
                }
                settings.mode = mode
            }
        }
        let tracker = TicketTracker(template: webhook.template)
        if settings.mode == .update, tracker == nil {
            throw invalid("\"tickets\": \"update\" needs the jira or github-issue template; this webhook's is \(webhook.template)")
        }
        if let given = object.keys.sorted().first(where: { Self.ticketFields.contains($0) && $0 != "tickets" }), settings.mode != .update {
            throw invalid("\"\(given)\" applies to a webhook with \"tickets\": \"update\"")
        }
        if let value = object["ticket_close"] {
            if value is NSNull {
                settings.close = nil
            } else {
                guard let text = value as? String else { throw invalid("\"ticket_close\" must be a string, or null") }
                if let problem = tracker?.problem(close: text) { throw invalid(problem) }
                settings.close = text
            }
        } else if let close = settings.close, let problem = tracker?.problem(close: close) {
            // The template changed to the other tracker: what closed there does not here.
            throw invalid(problem)
        }
        if let value = object["ticket_fixed_statuses"] {
            guard let statuses = value as? [String], (1...16).contains(statuses.count),
                  statuses.allSatisfy({ !$0.isEmpty && $0.count <= 64 && StoredText.isClean($0, allowing: []) })
            else {
                throw invalid("\"ticket_fixed_statuses\" must be 1 to 16 values of the finding's status, e.g. [\"fixed\", \"resolved\"]")
            }
            settings.fixedStatuses = statuses
        }
        for (field, path) in [("ticket_comment_template", \TicketSettings.commentTemplate), ("ticket_close_template", \.closeTemplate)] {
            guard let value = object[field] else { continue }
            if value is NSNull {
                settings[keyPath: path] = nil
                continue
            }
            guard let source = value as? String, !source.isEmpty else { throw invalid("\"\(field)\" must be a Mustache template (a string), or null") }
            guard source.utf8.count <= Self.maxTicketTemplateBytes else { throw invalid("\"\(field)\" is longer than 16 KiB") }
            do {
                let template = try PayloadTemplate(source: source, name: field, variables: webhook.templateVariables)
                _ = try template.render(Self.sampleFinding)
            } catch {
                throw invalid("\"\(field)\": \(error)")
            }
            settings[keyPath: path] = source
        }
        webhook.tickets = settings.mode == .create ? nil : settings
    }

    /// With `tickets: update`, the comment and close URLs are made from the webhook's: it must
    /// be the tracker's create-issue endpoint.
    func checkTicketURL(of webhook: Webhook) throws {
        guard webhook.tickets?.mode == .update, let tracker = TicketTracker(template: webhook.template) else { return }
        if let problem = tracker.problem(url: webhook.url) { throw AdminError.invalid(problem) }
    }

    /// What a comment or close template is tried on when given.
    static let sampleFinding = Array(#"""
        {"id":"evt_sample","type":"finding","finding":{"id":"fnd_1","title":"SQL injection","severity":"high","asset":"api.example.com","url":"https://api.example.com/login","parameter":"user","status":"open"}}
        """#.utf8)
}
