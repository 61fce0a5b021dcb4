import Foundation
import HookRelayStore

/// The JSON form of a delivery in the log.
struct DeliveryView: Encodable {
    var id: Int64
    var webhook: String
    var messageID: String
    var status: String
    var attempts: Int
    var lastHTTPStatus: Int?
    var lastError: String?
    var lastLatencyMilliseconds: Int?
    var nextAttemptAt: Int64?
    /// A suppressed delivery's first delivery; a digested one's digest.
    var ref: Int64?
    /// The ticket it created, commented on or closed, and which of these.
    var ticket: String?
    var ticketAction: String?
    var createdAt: Int64
    var updatedAt: Int64

    enum CodingKeys: String, CodingKey {
        case id, webhook, status, attempts, ref, ticket
        case ticketAction = "ticket_action"
        case messageID = "webhook_id", lastHTTPStatus = "last_http_status", lastError = "last_error"
        case lastLatencyMilliseconds = "last_latency_ms", nextAttemptAt = "next_attempt_at"
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    init(_ record: DeliveryRecord) {
        id = record.state.id
        webhook = record.state.target
        messageID = record.state.messageID
        status = record.state.status.rawValue
        attempts = record.state.attempts
        lastHTTPStatus = record.state.lastHTTPStatus
        lastError = record.state.lastError
        lastLatencyMilliseconds = record.state.lastLatencyMilliseconds
        nextAttemptAt = record.state.status == .pending ? record.state.nextAttemptAt : nil
        ref = record.state.ref
        ticket = record.ticket?.ticket
        ticketAction = record.ticket?.action.rawValue
        createdAt = record.createdAt
        updatedAt = record.updatedAt
    }
}

struct AttemptView: Encodable {
    var startedAt: Int64
    var httpStatus: Int?
    var latencyMilliseconds: Int
    var error: String?
    var responseBody: String

    enum CodingKeys: String, CodingKey {
        case error, startedAt = "started_at", httpStatus = "http_status", latencyMilliseconds = "latency_ms"
        case responseBody = "response_body"
    }

    init(_ entry: AttemptEntry) {
        startedAt = entry.startedAt
        httpStatus = entry.httpStatus
        latencyMilliseconds = entry.latencyMilliseconds
        error = entry.error
        responseBody = String(decoding: entry.responseBody, as: UTF8.self)
    }
}
