import ArgumentParser
import Foundation

/// The ticket settings of `webhooks add|update` (issue 19), as the API's `tickets` fields.
struct TicketOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "With the jira or github-issue template: create (a ticket per delivery, the default) or update (one ticket per finding, "
            + "commented on when seen again, closed when reported fixed).",
        valueName: "mode"))
    var tickets: String?

    @Option(help: ArgumentHelp(
        "How a fixed finding's ticket is closed: Jira, the transition id (e.g. 31); GitHub, close (default: a closing comment only).",
        valueName: "how"))
    var ticketClose: String?

    @Flag(help: "Close with a comment only (update).")
    var noTicketClose = false

    @Option(help: ArgumentHelp(
        "The finding statuses that report it fixed (repeatable, or comma-separated; default fixed, resolved).", valueName: "status"))
    var ticketFixedStatus: [String] = []

    @Option(help: ArgumentHelp("A Mustache file replacing the built-in comment on a finding seen again.", valueName: "file"))
    var ticketCommentTemplate: String?

    @Option(help: ArgumentHelp("A Mustache file replacing the built-in closing comment.", valueName: "file"))
    var ticketCloseTemplate: String?

    func validate() throws {
        if noTicketClose, ticketClose != nil { throw ValidationError("--no-ticket-close removes how tickets are closed; leave out --ticket-close") }
    }

    /// The API fields these flags give (a template file's text inline).
    func fields() throws -> [String: Any] {
        var fields: [String: Any] = [:]
        if let tickets { fields["tickets"] = tickets }
        if let ticketClose { fields["ticket_close"] = ticketClose }
        if noTicketClose { fields["ticket_close"] = NSNull() }
        let statuses = ticketFixedStatus.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        if !statuses.isEmpty { fields["ticket_fixed_statuses"] = statuses }
        for (file, field, option) in [
            (ticketCommentTemplate, "ticket_comment_template", "--ticket-comment-template"),
            (ticketCloseTemplate, "ticket_close_template", "--ticket-close-template"),
        ] {
            guard let file else { continue }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandFailure(status: .noInput, message: "\(option): \(file) cannot be read")
            }
            fields[field] = String(decoding: data, as: UTF8.self)
        }
        return fields
    }
}
