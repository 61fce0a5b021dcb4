import Foundation
import HookRelayCore
import HookRelayDelivery
import HookRelayStore
import HTTPTypes
import Hummingbird

/// An API error: `{"error":{"message":"…"}}` with its status.
struct APIError: Error {
    let status: HTTPResponse.Status
    let message: String
}

/// The JSON form of a webhook. The secret is shown whole only in the response that created it.
struct WebhookView: Encodable {
    var id: String
    var url: String
    var description: String
    var events: [String]
    var minSeverity: String?
    var severities: [String]
    var headers: [String: String]
    var secret: String?
    var secretPrefix: String
    var state: String
    var consecutiveFailures: Int
    var createdAt: Int64
    var updatedAt: Int64

    enum CodingKeys: String, CodingKey {
        case id, url, description, events, severities, headers, secret, state
        case minSeverity = "min_severity", secretPrefix = "secret_prefix"
        case consecutiveFailures = "consecutive_failures", createdAt = "created_at", updatedAt = "updated_at"
    }

    init(_ webhook: Webhook, revealSecret: Bool = false) {
        id = webhook.id
        url = webhook.url
        description = webhook.description
        events = webhook.events
        minSeverity = webhook.minSeverity?.description
        severities = webhook.severities.map(\.description)
        headers = webhook.headers
        secret = revealSecret ? webhook.secrets.first : nil
        secretPrefix = String((webhook.secrets.first ?? "").prefix(10))
        state = webhook.state.rawValue
        consecutiveFailures = webhook.consecutiveFailures
        createdAt = webhook.createdAt
        updatedAt = webhook.updatedAt
    }
}

enum Routes {
    static let reservedHeaders: Set = [
        "content-type", "content-length", "host", "user-agent", "webhook-id", "webhook-timestamp", "webhook-signature",
        "transfer-encoding", "connection",
    ]

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(["error": ["message": message]], status: status)
    }

    static func build(_ state: ServerState) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware(logger: state))
        router.get("/healthz") { _, _ in json(["status": "ok"]) }
        router.get("/readyz") { _, _ in
            await state.isReady() ? json(["status": "ready"]) : error(.serviceUnavailable, "the database is not writable")
        }
        // Outside /v1, so no API token is asked for: counts only, nothing of the configuration,
        // the webhooks or the events.
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: try await state.renderMetrics())))
        }
        let api = router.group("v1")
        api.post("events") { request, _ in try await ingest(request, state: state) }
        api.post("webhooks") { request, _ in try await createWebhook(request, state: state) }
        api.get("webhooks") { _, _ in json(["webhooks": try await state.storedWebhooks().map { WebhookView($0) }]) }
        api.get("webhooks/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let webhook = try await state.storedWebhook(id) else { throw APIError(status: .notFound, message: "no webhook \(id)") }
            return json(WebhookView(webhook))
        }
        api.patch("webhooks/:id") { request, context in
            try await updateWebhook(request, id: try context.parameters.require("id"), state: state)
        }
        api.delete("webhooks/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let discarded = try await state.delete(id) else { throw APIError(status: .notFound, message: "no webhook \(id)") }
            return json(Deleted(deleted: id, discardedDeliveries: discarded))
        }
        api.post("webhooks/:id/enable") { _, context in
            let id = try context.parameters.require("id")
            guard let webhook = try await state.enable(id) else { throw APIError(status: .notFound, message: "no webhook \(id)") }
            state.logger.notice("webhook enabled", metadata: ["webhook": "\(id)"])
            return json(WebhookView(webhook))
        }
        return router
    }

    struct Deleted: Encodable {
        var deleted: String
        var discardedDeliveries: Int

        enum CodingKeys: String, CodingKey {
            case deleted, discardedDeliveries = "discarded_deliveries"
        }
    }

    // MARK: Events

    struct Accepted: Encodable {
        var accepted: Int
        var duplicates: Int
        var ids: [String]
    }

    static func ingest(_ request: Request, state: ServerState) async throws -> Response {
        let limit = state.configuration.maxEventBytes
        let ndjson = request.headers[.contentType]?.lowercased().hasPrefix("application/x-ndjson") ?? false
        let body: ByteBuffer
        do {
            // A batch may hold many events; one event may not exceed the limit.
            body = try await request.body.collect(upTo: ndjson ? limit * 64 : limit)
        } catch {
            throw APIError(
                status: .contentTooLarge,
                message: "the request body is larger than \(ByteCount.format(ndjson ? limit * 64 : limit)); send smaller batches (max_event_bytes)")
        }
        let reader = RecordReaderConfiguration(selector: EventLayout().selector, maxRecordSize: limit)
        var events: [IngestedEvent] = []
        var index = 0
        do {
            try body.withUnsafeReadableBytes { bytes in
                try RecordReader.records(in: bytes, configuration: reader) { record in
                    index += 1
                    if !ndjson, index > 1 {
                        throw APIError(status: .badRequest, message: "several JSON values in the body; send one event, or use content-type application/x-ndjson")
                    }
                    let eventID = EventLayout().id(of: record)
                    let id = eventID.map { MessageID.make(eventID: $0, body: record.bytes) } ?? Self.newEventID()
                    events.append(IngestedEvent(id: id, body: Array(record.bytes), targets: state.targets(for: record)))
                }
            }
        } catch let invalid as InvalidRecord {
            if case .tooLarge = invalid.error.reason {
                throw APIError(
                    status: .contentTooLarge,
                    message: "event \(index + 1) at byte \(invalid.offset) is larger than max_event_bytes (\(ByteCount.format(limit))); nothing was accepted")
            }
            throw APIError(status: .badRequest, message: "record \(index + 1) at byte \(invalid.offset): \(invalid.error); nothing was accepted")
        }
        guard !events.isEmpty else { throw APIError(status: .badRequest, message: "the body holds no event") }
        let duplicates = try await state.ingest(events)
        let accepted = duplicates.filter { !$0 }.count
        state.metrics.ingested(accepted)
        return json(Accepted(accepted: accepted, duplicates: events.count - accepted, ids: events.map(\.id)), status: .accepted)
    }

    static func newEventID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "evt_" + (0..<12).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    // MARK: Webhooks

    /// The fields a create or update request may hold.
    static let webhookKeys: Set = ["url", "events", "min_severity", "severities", "description", "headers", "secret"]

    static func decodeObject(_ request: Request) async throws -> [String: Any] {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 1 << 20)
        } catch {
            throw APIError(status: .contentTooLarge, message: "the webhook settings are larger than 1 MiB")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            throw APIError(status: .badRequest, message: "the body must be a JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !webhookKeys.contains($0) }) {
            throw APIError(status: .unprocessableContent, message: "unknown field \"\(unknown)\"; the fields are \(webhookKeys.sorted().joined(separator: ", "))")
        }
        return object
    }

    static func createWebhook(_ request: Request, state: ServerState) async throws -> Response {
        let object = try await decodeObject(request)
        guard object["url"] is String else { throw APIError(status: .unprocessableContent, message: "\"url\" is required") }
        var generator = SystemRandomNumberGenerator()
        let id = "wh_" + (0..<12).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        var webhook = Webhook(id: id, url: "", secrets: [WebhookSecret.generate().text], now: ServerState.now())
        try await apply(object, to: &webhook, state: state)
        try await state.create(webhook)
        state.logger.info("webhook created", metadata: ["webhook": "\(id)", "url": "\(webhook.url)"])
        return json(WebhookView(webhook, revealSecret: true), status: .created)
    }

    static func updateWebhook(_ request: Request, id: String, state: ServerState) async throws -> Response {
        guard var webhook = try await state.storedWebhook(id) else { throw APIError(status: .notFound, message: "no webhook \(id)") }
        let object = try await decodeObject(request)
        try await apply(object, to: &webhook, state: state)
        webhook.updatedAt = ServerState.now()
        guard let stored = try await state.update(webhook) else { throw APIError(status: .notFound, message: "no webhook \(id)") }
        state.logger.info("webhook changed", metadata: ["webhook": "\(id)"])
        return json(WebhookView(stored))
    }

    /// Validates the fields and sets them on `webhook`; 422 names the first bad one.
    static func apply(_ object: [String: Any], to webhook: inout Webhook, state: ServerState) async throws {
        func invalid(_ message: String) -> APIError { APIError(status: .unprocessableContent, message: message) }
        if let value = object["url"] {
            guard let url = value as? String else { throw invalid("\"url\" must be a string") }
            do {
                _ = try await state.sender.check(url)
            } catch let problem as Endpoint.Problem {
                throw invalid(problem.description)
            } catch {
                throw invalid("\(url): \(error)")
            }
            webhook.url = url
        }
        if let value = object["events"] {
            guard let events = value as? [String], events.allSatisfy({ !$0.isEmpty }) else {
                throw invalid("\"events\" must be an array of event types, e.g. [\"finding\"]")
            }
            webhook.events = events
        }
        if object["min_severity"] != nil, object["severities"] != nil {
            throw invalid("give either \"min_severity\" or \"severities\", not both")
        }
        if let value = object["min_severity"] {
            if value is NSNull {
                webhook.minSeverity = nil
            } else {
                guard let text = value as? String, let severity = Severity(text) else {
                    throw invalid("\"min_severity\" must be one of \(Severity.allNames)")
                }
                webhook.minSeverity = severity
                webhook.severities = []
            }
        }
        if let value = object["severities"] {
            guard let texts = value as? [String], let severities = Optional(texts.compactMap(Severity.init)), severities.count == texts.count else {
                throw invalid("\"severities\" must be an array of \(Severity.allNames)")
            }
            webhook.severities = severities
            webhook.minSeverity = nil
        }
        if let value = object["description"] {
            guard let text = value as? String else { throw invalid("\"description\" must be a string") }
            webhook.description = text
        }
        if let value = object["headers"] {
            guard let headers = value as? [String: String] else { throw invalid("\"headers\" must be an object of strings") }
            for (name, text) in headers {
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_".contains($0) }) else {
                    throw invalid("header name \"\(name)\" is not valid")
                }
                guard !reservedHeaders.contains(name.lowercased()) else { throw invalid("hookrelay sets the \(name) header itself") }
                guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                    throw invalid("the value of header \(name) holds a control character")
                }
            }
            webhook.headers = headers
        }
        if let value = object["secret"] {
            guard let text = value as? String else { throw invalid("\"secret\" must be a string (whsec_<base64>)") }
            do {
                webhook.secrets = [try WebhookSecret(text).text]
            } catch {
                throw invalid("\"secret\": \(error)")
            }
        }
    }
}

/// Turns errors into `{"error":{"message":"…"}}` responses; unexpected ones are logged, and
/// their details (which may hold paths or values) are not sent.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: ServerState

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return Routes.error(error.status, error.message)
        } catch let error as HTTPError {
            return Routes.error(error.status, error.body ?? error.status.reasonPhrase)
        } catch {
            logger.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return Routes.error(.internalServerError, "internal error; see the server log")
        }
    }
}
