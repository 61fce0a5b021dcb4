import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayDelivery
import HookRelayStore
import HTTPTypes
import Hummingbird
import NIOCore

enum Routes {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        json(data: AdminJSON.encode(value), status: status)
    }

    static func json(data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func build(_ state: ServerState, token: APIToken) -> Router<ServeRequestContext> {
        let router = Router(context: ServeRequestContext.self)
        router.add(middleware: ErrorMiddleware(logger: state.logger))
        router.get("/healthz") { _, _ in json(["status": "ok"]) }
        router.get("/readyz") { _, _ in
            guard await state.isReady() else { throw APIError(status: .serviceUnavailable, message: "the database is not writable") }
            return json(["status": "ready"])
        }
        // Outside /v1, so no API token is asked for: counts only, nothing of the configuration,
        // the webhooks or the events.
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: try await state.renderMetrics())))
        }
        WebUI.register(on: router, state: state, token: token)
        let api = router.group("v1").add(middleware: BearerAuth(token: token, throttle: state.authThrottle, behindProxy: state.configuration.tlsProxy))
        let admin = state.admin
        api.post("events") { request, context in try await ingest(request, context: context, state: state) }
        api.post("match") { request, _ in
            let limit = state.configuration.maxEventBytes
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: limit)
            } catch is NIOTooManyBytesError {
                throw APIError(status: .contentTooLarge, message: "the event is larger than \(ByteCount.format(limit)) (max_event_bytes)")
            }
            return json(data: AdminJSON.match(try await admin.match(Array(buffer: body))))
        }

        api.post("webhooks") { request, _ in
            let webhook = try await admin.createWebhook(try await decodeObject(request))
            try await state.refreshWebhook(webhook.id)
            state.logger.info("webhook created", metadata: ["webhook": "\(webhook.id)"])
            return json(WebhookView(webhook, revealSecret: true), status: .created)
        }
        api.get("webhooks") { _, _ in json(data: AdminJSON.webhooks(try await admin.webhooks())) }
        api.get("webhooks/:id") { _, context in json(WebhookView(try await admin.webhook(try context.parameters.require("id")))) }
        api.patch("webhooks/:id") { request, context in
            let id = try context.parameters.require("id")
            let webhook = try await admin.updateWebhook(id, try await decodeObject(request))
            try await state.refreshWebhook(id)
            state.logger.info("webhook changed", metadata: ["webhook": "\(id)"])
            return json(WebhookView(webhook))
        }
        api.delete("webhooks/:id") { _, context in
            let id = try context.parameters.require("id")
            let discarded = try await admin.deleteWebhook(id)
            try await state.refreshWebhook(id)
            state.logger.info("webhook deleted", metadata: ["webhook": "\(id)", "discarded": "\(discarded)"])
            return json(data: AdminJSON.deleted(id, discardedDeliveries: discarded))
        }
        for (action, paused) in [("pause", true), ("resume", false)] {
            api.post("webhooks/:id/\(action)") { _, context in
                let id = try context.parameters.require("id")
                let webhook = try await admin.setPaused(id, paused)
                try await state.refreshWebhook(id)
                state.logger.notice(paused ? "webhook paused" : "webhook resumed", metadata: ["webhook": "\(id)"])
                return json(WebhookView(webhook))
            }
        }
        api.post("webhooks/:id/enable") { _, context in
            let id = try context.parameters.require("id")
            let webhook = try await admin.enable(id)
            try await state.refreshWebhook(id)
            state.logger.notice("webhook enabled", metadata: ["webhook": "\(id)"])
            return json(WebhookView(webhook))
        }
        api.post("webhooks/:id/rotate-secret") { _, context in
            let id = try context.parameters.require("id")
            let webhook = try await admin.rotateSecret(id)
            try await state.refreshWebhook(id)
            state.logger.notice("webhook secret rotated", metadata: ["webhook": "\(id)"])
            return json(WebhookView(webhook, revealSecret: true))
        }
        api.post("webhooks/:id/retry-failed") { _, context in
            let id = try context.parameters.require("id")
            let count = try await admin.retryFailed(id)
            state.wakeDispatcher()
            state.logger.notice("failed deliveries re-queued", metadata: ["webhook": "\(id)", "count": "\(count)"])
            return json(data: AdminJSON.requeued(count))
        }
        api.post("webhooks/:id/recover") { request, context in
            let id = try context.parameters.require("id")
            guard let text = request.uri.queryParameters.get("since") else {
                throw APIError(status: .badRequest, message: "give ?since=TIME: \(TimeSpec.forms)")
            }
            let since = try time(text, name: "since")
            let count = try await admin.recover(id, since: since)
            state.wakeDispatcher()
            state.logger.notice("deliveries recovered", metadata: ["webhook": "\(id)", "since": "\(since)", "count": "\(count)"])
            return json(data: AdminJSON.requeued(count))
        }
        api.post("webhooks/:id/test") { _, context in
            let id = try context.parameters.require("id")
            let report = try await admin.sendTest(id)
            state.logger.info("test event sent", metadata: ["webhook": "\(id)", "status": "\(report.status)"])
            return json(report)
        }
        api.get("webhooks/:id/deliveries") { request, context in
            try await deliveries(request, webhook: try context.parameters.require("id"), admin: admin)
        }
        api.get("deliveries") { request, _ in try await deliveries(request, webhook: nil, admin: admin) }
        api.get("deliveries/:id") { _, context in
            let detail = try await admin.delivery(try deliveryID(context))
            return json(data: AdminJSON.delivery(detail))
        }
        api.post("deliveries/:id/retry") { _, context in
            let id = try deliveryID(context)
            let report = try await admin.retryDelivery(id)
            state.logger.info("delivery retried", metadata: ["delivery": "\(id)", "status": "\(report.status)"])
            return json(report)
        }
        return router
    }

    static func time(_ text: String, name: String) throws -> Int64 {
        guard let time = TimeSpec.parse(text, now: UnixTime.now()) else {
            throw APIError(status: .badRequest, message: "\(name) \"\(text)\" is not a time: give \(TimeSpec.forms)")
        }
        return time
    }

    static func deliveryID(_ context: ServeRequestContext) throws -> Int64 {
        let text = try context.parameters.require("id")
        guard let id = Int64(text), id > 0 else { throw APIError(status: .notFound, message: "no delivery \(text)") }
        return id
    }

    /// A page of the delivery log, newest first; `next_cursor` fetches the next one.
    static func deliveries(_ request: Request, webhook: String?, admin: Admin) async throws -> Response {
        let query = request.uri.queryParameters
        var status: DeliveryStatus?
        if let text = query.get("status") {
            guard let value = DeliveryStatus(rawValue: text) else {
                throw APIError(status: .badRequest, message: "status \"\(text)\" must be pending, delivered, failed or skipped")
            }
            status = value
        }
        let since = try query.get("since").map { try time($0, name: "since") }
        var limit = AdminJSON.defaultPageLimit
        if let text = query.get("limit") {
            guard let value = Int(text), AdminJSON.pageLimits.contains(value) else {
                throw APIError(status: .badRequest, message: "limit must be a number from 1 to 1000")
            }
            limit = value
        }
        var before: Int64?
        if let text = query.get("cursor") {
            guard let value = Int64(text), value > 0 else { throw APIError(status: .badRequest, message: "cursor \"\(text)\" is not one this API gave") }
            before = value
        }
        let page = try await admin.deliveries(webhook: webhook, status: status, since: since, before: before, limit: limit)
        return json(data: AdminJSON.deliveries(page, limit: limit))
    }

    static func decodeObject(_ request: Request) async throws -> [String: Any] {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 1 << 20)
        } catch is NIOTooManyBytesError {
            throw APIError(status: .contentTooLarge, message: "the webhook settings are larger than 1 MiB")
        } catch {
            throw APIError(status: .badRequest, message: "the request body cannot be read (\(error))")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            throw APIError(status: .badRequest, message: "the body must be a JSON object")
        }
        return object
    }

    // MARK: Events

    struct Accepted: Encodable {
        var accepted: Int
        var duplicates: Int
        var ids: [String]
    }

    static func ingest(_ request: Request, context: ServeRequestContext, state: ServerState) async throws -> Response {
        let ndjson = request.headers[.contentType]?.lowercased().hasPrefix("application/x-ndjson") ?? false
        let limit = state.configuration.maxIngestBody(ndjson: ndjson)
        let tooLarge = APIError(
            status: .contentTooLarge,
            message: "the request body is larger than \(ByteCount.format(limit)); send smaller batches (max_event_bytes)")
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        // Refused before it is read; the connection's lingering close lets the client see it.
        if let declared, declared > limit { throw tooLarge }
        // A body of unknown length (chunked) may be as large as the limit.
        let reserved = min(declared ?? limit, limit)
        guard state.parser.reserve(reserved) else {
            throw APIError(
                status: .serviceUnavailable, message: "too many event bodies are being read at once (parse_budget); retry shortly",
                headers: [.retryAfter: "1"])
        }
        defer { state.parser.release(reserved) }
        let body: ByteBuffer
        do {
            // A batch may hold many events; one event may not exceed max_event_bytes.
            body = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        } catch {
            // A malformed chunked body, say: not a size problem.
            throw APIError(status: .badRequest, message: "the request body cannot be read (\(error)); nothing was accepted")
        }
        let channel = context.channel
        let events: IngestBatch
        do {
            events = try await state.parser.events(
                in: body, ndjson: ndjson, maxEventBytes: state.configuration.maxEventBytes, matchers: state.ingestMatchers,
                connected: {
                    let presence = await ClientPresence.of(channel)
                    return { channel.isActive && presence?.isGone != true }
                })
        } catch is IngestParser.ClientGone {
            // Nobody reads this; it only ends the request quietly.
            throw APIError(status: .badRequest, message: "the client went away; nothing was accepted")
        }
        guard events.count > 0 else { throw APIError(status: .badRequest, message: "the body holds no event") }
        let duplicates = try await state.ingest(events)
        let accepted = duplicates.filter { !$0 }.count
        state.metrics.ingested(accepted)
        return json(Accepted(accepted: accepted, duplicates: events.count - accepted, ids: events.ids), status: .accepted)
    }

    static func newEventID() -> String { "evt_" + Admin.randomHex(12) }

}

/// Refuses requests without the API token: 401, saying nothing about what was wrong with it.
/// A client that keeps sending wrong tokens is held off with 429 (``AuthThrottle``).
struct BearerAuth: RouterMiddleware {
    typealias Context = ServeRequestContext
    let token: APIToken
    let throttle: AuthThrottle
    let behindProxy: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let client = context.client(request, behindProxy: behindProxy)
        if case .wait(let seconds) = throttle.check(client) {
            throw APIError(
                status: .tooManyRequests, message: "too many wrong API tokens from this address; retry after \(seconds) s",
                headers: [.retryAfter: "\(seconds)"])
        }
        guard token.accepts(authorization: request.headers[.authorization]) else {
            // No token at all guesses nothing; a wrong one counts.
            if request.headers[.authorization] != nil { throttle.failed(client) }
            throw APIError(
                status: .unauthorized, message: "a valid API token is required: send Authorization: Bearer TOKEN",
                headers: [.wwwAuthenticate: "Bearer"])
        }
        throttle.succeeded(client)
        return try await next(request, context)
    }
}
