import Foundation

/// How a webhook with a ticket template (`jira`, `github-issue`) treats a finding it has sent
/// before (issue 19): a new ticket each time (`create`, the default), or one ticket per finding
/// that later occurrences comment on and a report of the fix closes (`update`).
public struct TicketSettings: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        case create, update
    }

    public var mode: Mode
    /// What closes a ticket when its finding is reported fixed: for Jira the id of the
    /// transition to apply, for GitHub `close`; nil: a closing comment only.
    public var close: String?
    /// The values of the finding's `status` that report it fixed.
    public var fixedStatuses: [String]
    /// Templates (a built-in name or a file) that replace the built-in comment and close
    /// bodies; nil: `TEMPLATE-comment`, `TEMPLATE-close`.
    public var commentTemplate: String?
    public var closeTemplate: String?

    public static let defaultFixedStatuses = ["fixed", "resolved"]

    public init(
        mode: Mode = .update, close: String? = nil, fixedStatuses: [String] = TicketSettings.defaultFixedStatuses,
        commentTemplate: String? = nil, closeTemplate: String? = nil
    ) {
        self.mode = mode
        self.close = close
        self.fixedStatuses = fixedStatuses
        self.commentTemplate = commentTemplate
        self.closeTemplate = closeTemplate
    }

    enum CodingKeys: String, CodingKey {
        case mode, close
        case fixedStatuses = "fixed_statuses", commentTemplate = "comment_template", closeTemplate = "close_template"
    }
}

/// What a delivery of a webhook with `tickets: update` does with its finding's ticket, as the
/// ledger (``TicketLedger``) answers in one transaction.
public enum TicketStep: Sendable, Equatable {
    /// No ticket yet: this delivery creates it, and holds the finding until it has, so that no
    /// other delivery creates a second one meanwhile.
    case create
    /// The ticket the finding has; `closeCommented`: this delivery already added its closing
    /// comment (GitHub closes with a second request, which failed).
    case existing(ticket: String, closeCommented: Bool)
    /// Another delivery (`creator`, pending) is creating the ticket: try again at `until`.
    case wait(until: Int64, creator: Int64)
}

/// What a delivery did to a ticket, shown in the delivery log with the ticket.
public enum TicketAction: String, Sendable, Equatable, Codable {
    case created, commented, closed
}

/// A delivery's ticket, as the log shows it.
public struct TicketNote: Sendable, Equatable {
    public var ticket: String
    public var action: TicketAction

    public init(ticket: String, action: TicketAction) {
        self.ticket = ticket
        self.action = action
    }
}

/// The tickets of the webhooks with `tickets: update`, by finding fingerprint: what a delivery
/// must do (``ticketStep(webhook:fingerprint:delivery:now:)``) and what it did. Deleting a
/// webhook forgets its tickets.
public protocol TicketLedger {
    /// The step of `delivery` for its finding: creates the finding's row (held by `delivery`)
    /// when there is none, takes over the creation from a delivery that no longer waits to be
    /// sent (failed, or gone), or says whom to wait for.
    func ticketStep(webhook: String, fingerprint: String, delivery: Int64, now: Int64) throws -> TicketStep
    /// `delivery` created `ticket` for the finding; nil: the response named none, so the finding
    /// is forgotten and its next occurrence creates a ticket again.
    func ticketCreated(webhook: String, fingerprint: String, delivery: Int64, ticket: String?, now: Int64) throws
    /// `delivery` added the closing comment (before the request that closes).
    func ticketCloseCommented(webhook: String, fingerprint: String, delivery: Int64, now: Int64) throws
    /// The ticket is closed, or gone from the tracker: forgotten; the next occurrence creates one.
    func forgetTicket(webhook: String, fingerprint: String) throws
    /// Notes on `delivery` what it did to which ticket (the delivery log shows it).
    func noteTicket(delivery: Int64, _ note: TicketNote) throws
    /// The finding's ticket, if it has one.
    func ticket(webhook: String, fingerprint: String) throws -> String?
}
