import Foundation
import HookRelayCore
import HookRelayStore

/// The admin commands' output for people: tables with a header line and columns aligned with
/// spaces, and `name: value` lines for one item. Empty values are `-`; times are UTC RFC 3339.
/// Scripts read `--json` (``AdminJSON``) instead.
public enum AdminText {
    /// Rows as columns aligned with two spaces between them; the last column is not padded.
    /// Control characters in cells are shown escaped: a stored description or a receiver's
    /// answer cannot move the cursor, recolour the terminal or forge a row.
    public static func table(_ rows: [[String]]) -> String {
        let rows = rows.map { $0.map(JSONString.printable) }
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] + 2 - cell.count)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }

    /// `name: value` lines with the values aligned.
    public static func fields(_ pairs: [(String, String)]) -> String {
        table(pairs.map { [$0.0 + ":", $0.1] })
    }

    /// Unix milliseconds as `2026-11-29T10:17:00Z`.
    public static func time(_ milliseconds: Int64) -> String { UnixTime.iso8601(milliseconds) }

    static func text(_ value: String?) -> String {
        guard let value, !value.isEmpty else { return "-" }
        return value
    }

    /// One line of at most `limit` characters, control characters as spaces.
    static func line(_ value: String, limit: Int = 60) -> String {
        let flat = String(value.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
        return flat.count > limit ? String(flat.prefix(limit - 1)) + "…" : flat
    }

    // MARK: Webhooks

    /// The event types a webhook takes: `finding,scan_completed`, or `all`.
    public static func events(_ webhook: Webhook) -> String {
        webhook.events.isEmpty ? "all" : webhook.events.joined(separator: ",")
    }

    /// The severities a webhook takes: `>=high`, `critical,low`, or `all`.
    public static func severity(_ webhook: Webhook) -> String {
        if let minimum = webhook.minSeverity { return ">=\(minimum)" }
        return webhook.severities.isEmpty ? "all" : webhook.severities.map(\.description).joined(separator: ",")
    }

    public static func webhooks(_ webhooks: [Webhook]) -> String {
        table([["ID", "URL", "STATE", "PAUSED", "EVENTS", "SEVERITY"]] + webhooks.map { webhook in
            [webhook.id, webhook.url, webhook.state.rawValue, webhook.paused ? "yes" : "no", events(webhook), severity(webhook)]
        })
    }

    /// One webhook; its whole secret only when `revealSecret` (at creation), else its first characters.
    /// `log`: how far back the delivery log goes (`webhooks show`).
    public static func webhook(_ webhook: Webhook, revealSecret: Bool = false, log: LogHorizon? = nil) -> String {
        let secret = webhook.secrets.first ?? ""
        var pairs: [(String, String)] = [
            ("id", webhook.id), ("team", webhook.team), ("url", webhook.url), ("description", text(webhook.description)),
            ("events", events(webhook)), ("severity", severity(webhook)),
        ]
        pairs += webhook.headers.sorted { $0.key < $1.key }.map { ("header", "\($0.key): \(HeaderField.masked(name: $0.key, value: $0.value))") }
        pairs.append(("template", webhook.template))
        pairs += webhook.templateVariables.sorted { $0.key < $1.key }.map { ("template var", "\($0.key)=\($0.value)") }
        pairs += [("rate limit", webhook.rateLimit?.description ?? "none"), ("ordering", webhook.fifo ? "fifo" : "none")]
        pairs.append(("trace context", webhook.traceContext ? "yes" : "no"))
        pairs.append(("dedupe window", dedupeWindow(webhook)))
        if webhook.dedupe.fingerprintFields != nil || webhook.dedupe.fingerprintIDField != nil {
            let rule = webhook.dedupe.rule
            pairs.append(("fingerprint", "id \(rule.idPath ?? "none"), fields \(rule.fields.joined(separator: ","))"))
        }
        pairs.append(("digest", webhook.digest.map { "\($0.windowDescription), bypass \($0.bypass?.description ?? "none"), top \($0.top)" } ?? "off"))
        if let tickets = webhook.tickets {
            pairs.append(("tickets", "\(tickets.mode.rawValue), fixed when status is \(tickets.fixedStatuses.joined(separator: " or "))"))
            pairs.append(("ticket close", tickets.close ?? "a closing comment only"))
            if tickets.commentTemplate != nil { pairs.append(("ticket comment template", "the webhook's own")) }
            if tickets.closeTemplate != nil { pairs.append(("ticket close template", "the webhook's own")) }
        }
        pairs.append(revealSecret ? ("secret", secret) : ("secret prefix", String(secret.prefix(10))))
        pairs.append(("client certificate", webhook.clientCertificateSummary ?? "none"))
        pairs.append(("ca", webhook.caSummary ?? "the system's"))
        if webhook.signingSecrets(now: UnixTime.now()).count > 1, let until = webhook.previousSecretUntil {
            pairs.append(("previous secret until", time(until)))
        }
        pairs += [
            ("state", webhook.state.rawValue), ("paused", webhook.paused ? "yes" : "no"),
            ("consecutive failures", String(webhook.consecutiveFailures)),
            ("created", time(webhook.createdAt)), ("updated", time(webhook.updatedAt)),
        ]
        if let log { pairs.append(("delivery log", log.text)) }
        return fields(pairs)
    }

    /// `30d (the template's default)`, `12h, severity ignored`, `off`.
    static func dedupeWindow(_ webhook: Webhook) -> String {
        guard let window = webhook.dedupeWindow else { return "off" }
        var text = window.shortDescription
        if webhook.dedupe.window == nil { text += " (the template's default)" }
        if webhook.dedupe.ignoresSeverity { text += ", severity ignored" }
        return text
    }

    // MARK: Deliveries

    /// A page of the delivery log, newest first.
    public static func deliveries(_ page: [DeliveryRecord]) -> String {
        table([["ID", "WEBHOOK", "WEBHOOK-ID", "STATUS", "ATTEMPTS", "HTTP", "CREATED", "ERROR"]] + page.map { record in
            let state = record.state
            return [
                String(state.id), state.target, state.messageID, state.status.rawValue, String(state.attempts),
                state.lastHTTPStatus.map(String.init) ?? "-", time(record.createdAt), text(state.lastError.map { line($0) }),
            ]
        })
    }

    /// A delivery, its attempts (responses on one line, cut at 60 characters), and its event as received.
    public static func delivery(_ detail: DeliveryDetail) -> String {
        let state = detail.record.state
        var output = fields([
            ("id", String(state.id)), ("webhook", state.target), ("webhook-id", state.messageID), ("status", state.status.rawValue),
            ("attempts", String(state.attempts)), ("last http status", state.lastHTTPStatus.map(String.init) ?? "-"),
            ("last error", text(state.lastError)), ("last latency", state.lastLatencyMilliseconds.map { "\($0) ms" } ?? "-"),
            ("next attempt", state.status == .pending ? time(state.nextAttemptAt) : "-"),
            ("ref", state.ref.map { "delivery \($0)" } ?? "-"),
            ("ticket", detail.record.ticket.map { "\($0.ticket) (\($0.action.rawValue))" } ?? "-"),
            ("created", time(detail.record.createdAt)), ("updated", time(detail.record.updatedAt)),
        ])
        output += "\n"
        output += table([["STARTED", "HTTP", "LATENCY", "ERROR", "RESPONSE"]] + detail.attempts.map { attempt in
            [
                time(attempt.startedAt), attempt.httpStatus.map(String.init) ?? "-", "\(attempt.latencyMilliseconds) ms",
                text(attempt.error.map { line($0, limit: 40) }), text(line(String(decoding: attempt.responseBody, as: UTF8.self))),
            ]
        })
        output += "\nevent:\n" + String(decoding: detail.event, as: UTF8.self) + "\n"
        return output
    }

    /// The outcome of a test event or a retry.
    public static func report(_ report: AttemptReport) -> String {
        fields([
            ("delivery", String(report.deliveryID)), ("webhook-id", report.messageID), ("status", report.status),
            ("http status", report.httpStatus.map(String.init) ?? "-"), ("latency", "\(report.latencyMilliseconds) ms"),
            ("error", text(report.error)),
        ])
    }

    // MARK: Match

    /// Where an event would go: `would_send`, `held` (paused), `skipped` (disabled) or `excluded`, and why.
    public static func match(_ reports: [MatchReport]) -> String {
        table([["WEBHOOK", "URL", "RESULT", "REASON"]] + reports.map { report in
            let reason = switch report.outcome {
            case "held": "the webhook is paused"
            case "skipped": "the webhook is disabled"
            case nil: report.reason ?? "-"
            default: "-"
            }
            return [report.webhook, report.url, report.outcome ?? "excluded", reason]
        })
    }
}
