import Foundation
import HookRelayStore

/// The two ticket APIs a webhook with `tickets: update` speaks (issue 19): which URL a webhook
/// must have, where a comment and a close go, and where a created ticket's reference is in the
/// answer. Jira's REST API 2 and GitHub's REST API, as documented.
public enum TicketTracker: Sendable, Equatable {
    case jira, github

    /// The tracker a template posts to; nil for any other template.
    public init?(template: String) {
        switch template {
        case "jira": self = .jira
        case "github-issue": self = .github
        default: return nil
        }
    }

    /// The built-in templates of a comment and of a close.
    var commentTemplate: String { self == .jira ? "jira-comment" : "github-issue-comment" }
    var closeTemplate: String { self == .jira ? "jira-close" : "github-issue-close" }

    /// Why `url` cannot take `tickets: update` (the comment and close URLs are made from it),
    /// or nil.
    public func problem(url: String) -> String? {
        let path = Self.path(of: url)
        if let parts = URLComponents(string: url), parts.query != nil || parts.fragment != nil {
            return "\"tickets\": \"update\" needs the create-issue URL without a query or fragment: the ticket's comments and close are found under its path"
        }
        switch self {
        case .jira where !path.hasSuffix("/rest/api/2/issue"):
            return "\"tickets\": \"update\" needs the URL of Jira's create-issue endpoint, https://HOST/rest/api/2/issue"
        case .github where !Self.isGitHubIssues(path):
            return "\"tickets\": \"update\" needs the URL of GitHub's create-issue endpoint, https://api.github.com/repos/OWNER/REPO/issues"
        default:
            return nil
        }
    }

    /// Why `close` is not this tracker's way to close a ticket, or nil.
    public func problem(close: String) -> String? {
        switch self {
        case .jira where close.isEmpty || !close.allSatisfy(\.isASCIIDigit):
            "\"ticket_close\" for jira is the id of the transition that closes an issue (digits, e.g. \"31\")"
        case .github where close != "close":
            "\"ticket_close\" for github-issue is \"close\""
        default:
            nil
        }
    }

    /// A ticket reference as this tracker makes them (it goes into a URL path): a Jira key
    /// (`SEC-12`), a GitHub issue number.
    func isTicket(_ text: String) -> Bool {
        switch self {
        case .jira:
            guard let dash = text.lastIndex(of: "-"), dash != text.startIndex, text.count <= 64 else { return false }
            let project = text[..<dash], number = text[text.index(after: dash)...]
            return project.first!.isASCIILetterOrDigit && project.allSatisfy { $0.isASCIILetterOrDigit || $0 == "_" }
                && !number.isEmpty && number.allSatisfy(\.isASCIIDigit)
        case .github:
            return !text.isEmpty && text.count <= 18 && text.allSatisfy(\.isASCIIDigit)
        }
    }

    /// Where the comments of `ticket` go.
    func commentURL(_ url: String, ticket: String) -> String {
        Self.trimmed(url) + "/" + ticket + (self == .jira ? "/comment" : "/comments")
    }

    /// Where a close goes: Jira's transitions of the issue, GitHub's issue itself (PATCH).
    func closeURL(_ url: String, ticket: String) -> String {
        Self.trimmed(url) + "/" + ticket + (self == .jira ? "/transitions" : "")
    }

    /// The body that closes: Jira's transition with the closing comment in it (one request);
    /// GitHub's state (its comment went before).
    func closeBody(transition: String, comment: [UInt8]) -> [UInt8] {
        switch self {
        case .jira:
            Array(#"{"transition":{"id":"\#(transition)"},"update":{"comment":[{"add":"#.utf8) + comment + Array("}]}}".utf8)
        case .github:
            Array(#"{"state":"closed","state_reason":"completed"}"#.utf8)
        }
    }

    /// The created ticket's reference in a 2xx answer to the create request: Jira's `key`,
    /// GitHub's `number`. The answer may be cut (only its first 4 KiB are kept): then the
    /// member is looked for in the text, where both APIs put it before any nested object.
    public func ticket(inResponse body: [UInt8]) -> String? {
        let member = self == .jira ? "key" : "number"
        var found: String?
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            let number = (object[member] as? NSNumber).flatMap { $0.doubleValue == Double($0.int64Value) ? "\($0.int64Value)" : nil }
            found = (object[member] as? String) ?? number
        } else {
            let text = String(decoding: body, as: UTF8.self)
            let pattern = self == .jira ? #""key"\s*:\s*"([^"\\]{1,64})""# : #""number"\s*:\s*([0-9]{1,18})"#
            if let match = text.range(of: pattern, options: .regularExpression) {
                let value = text[match].split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                found = value.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return found.flatMap { isTicket($0) ? $0 : nil }
    }

    private static func trimmed(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// The URL's path, without query and trailing slashes.
    private static func path(of url: String) -> String {
        guard let components = URLComponents(string: url) else { return "" }
        return trimmed(components.path)
    }

    private static func isGitHubIssues(_ path: String) -> Bool {
        let parts = path.split(separator: "/")
        guard parts.count >= 4, parts.last == "issues", parts[parts.count - 4] == "repos" else { return false }
        return true
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    fileprivate var isASCIILetterOrDigit: Bool { isASCII && (isLetter || isNumber) }
}
