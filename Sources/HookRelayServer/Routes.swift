import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayDelivery
import HookRelayStore
import HTTPTypes
import Hummingbird
import NIOCore
import Tracing

enum Routes {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        json(data: AdminJSON.encode(value), status: status)
    }

    static func json(data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func build(_ state: ServerState, token: APIToken) -> Router<ServeRequestContext> {
        let router = Router(context: ServeRequestContext.self)
        router.add(middleware: ErrorMiddleware(logger: state.logger, methods: .contract))
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
        openAPIRoute(router)
        let api = router.group("v1").add(
            middleware: BearerAuth(token: token, tokens: state.tokens, throttle: state.authThrottle, behindProxy: state.configuration.tlsProxy))
        teamRoutes(api, state: state) { context in try context.caller().team }
        teamRoutes(api.group("teams/:team"), state: state) { context in try await prefixedTeam(context, state: state) }
        accessRoutes(api, state: state)
        return router
    }

    /// The routes of a team's objects, on `group` (`/v1`, acting on the caller's team, or
    /// `/v1/teams/:team`): another team's objects do not exist for a caller (404), and a role
    /// lacking the right gets 403.
    static func teamRoutes(
        _ group: RouterGroup<ServeRequestContext>, state: ServerState, team: @escaping @Sendable (ServeRequestContext) async throws -> String
    ) {
        let admin = state.admin
        /// The webhook `id` of the scope's team, or 404.
        @Sendable func owned(_ id: String, _ context: ServeRequestContext, may right: Right) async throws -> Webhook {
            let team = try await team(context)
            let webhook = try await admin.webhook(id)
            guard webhook.team == team else { throw AdminError.notFound("webhook \(id)") }
            try require(context, team, may: right)
            return webhook
        }
        @Sendable func ownedDelivery(_ id: Int64, _ context: ServeRequestContext, may right: Right) async throws -> DeliveryDetail {
            let team = try await team(context)
            let detail = try await admin.delivery(id)
            guard (try? await admin.webhook(detail.record.state.target))?.team == team else { throw AdminError.notFound("delivery \(id)") }
            try require(context, team, may: right)
            return detail
        }
        alertRoutes(group, state: state, team: team)
        group.post("events") { request, context in
            let team = try await team(context)
            try require(context, team, may: .publish)
            // A token that may send to any team, without a team in the path: each event's own.
            let caller = try context.caller()
            let anyTeam = (caller.isAdmin || caller.anyTeam) && context.parameters.get("team") == nil
            let destination: IngestParser.Destination = anyTeam ? .fromEvent : .fixed(team)
            guard let tracer = state.tracer else {
                return try await ingest(request, context: context, state: state, team: destination, span: nil)
            }
            return try await tracedIngest(request, context: context, state: state, team: destination, tracer: tracer)
        }
        group.post("match") { request, context in
            try require(context, try await team(context), may: .read)
            let limit = state.configuration.maxEventBytes
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: limit)
            } catch is NIOTooManyBytesError {
                throw APIError(status: .contentTooLarge, message: "the event is larger than \(ByteCount.format(limit)) (max_event_bytes)")
            }
            return json(data: AdminJSON.match(try await admin.match(Array(buffer: body), team: try await team(context))))
        }

        group.post("webhooks") { request, context in
            let team = try await team(context)
            try require(context, team, may: .manage)
            let limit = state.configuration.teamMaxWebhooks
            if team != Team.defaultID, try await admin.webhooks().count(where: { $0.team == team }) >= limit {
                throw APIError(
                    status: .conflict, message: "team \(team) has \(limit) webhooks, the most team_max_webhooks allows; delete one first")
            }
            let webhook = try await admin.createWebhook(try await decodeObject(request), team: team)
            try await audit(state, context, team, "webhook", webhook.id, "created", ["url": webhook.url])
            try await state.refreshWebhook(webhook.id)
            state.logger.info("webhook created", metadata: ["webhook": "\(webhook.id)"])
            return json(WebhookView(webhook, revealSecret: true), status: .created)
        }
        group.get("webhooks") { _, context in
            let team = try await team(context)
            try require(context, team, may: .read)
            return json(data: AdminJSON.webhooks(try await admin.webhooks().filter { $0.team == team }))
        }
        group.get("webhooks/:id") { _, context in
            json(WebhookView(try await owned(try context.parameters.require("id"), context, may: .read)))
        }
        group.patch("webhooks/:id") { request, context in
            let id = try context.parameters.require("id")
            let team = try await owned(id, context, may: .manage).team
            let fields = try await decodeObject(request)
            let webhook = try await admin.updateWebhook(id, fields)
            try await audit(state, context, team, "webhook", id, "updated", ["fields": fields.keys.sorted().joined(separator: ",")])
            try await state.refreshWebhook(id)
            state.logger.info("webhook changed", metadata: ["webhook": "\(id)"])
            return json(WebhookView(webhook))
        }
        group.delete("webhooks/:id") { _, context in
            let id = try context.parameters.require("id")
            let team = try await owned(id, context, may: .manage).team
            let discarded = try await admin.deleteWebhook(id)
            try await audit(state, context, team, "webhook", id, "deleted", [:])
            try await state.refreshWebhook(id)
            state.logger.info("webhook deleted", metadata: ["webhook": "\(id)", "discarded": "\(discarded)"])
            return json(data: AdminJSON.deleted(id, discardedDeliveries: discarded))
        }
        for (action, paused) in [("pause", true), ("resume", false)] {
            group.post("webhooks/:id/\(action)") { _, context in
                let id = try context.parameters.require("id")
                let team = try await owned(id, context, may: .manage).team
                let webhook = try await admin.setPaused(id, paused)
                try await audit(state, context, team, "webhook", id, paused ? "paused" : "resumed", [:])
                try await state.refreshWebhook(id)
                state.logger.notice(paused ? "webhook paused" : "webhook resumed", metadata: ["webhook": "\(id)"])
                return json(WebhookView(webhook))
            }
        }
        group.post("webhooks/:id/enable") { _, context in
            let id = try context.parameters.require("id")
            let team = try await owned(id, context, may: .manage).team
            let webhook = try await admin.enable(id)
            try await audit(state, context, team, "webhook", id, "enabled", [:])
            try await state.refreshWebhook(id)
            state.logger.notice("webhook enabled", metadata: ["webhook": "\(id)"])
            return json(WebhookView(webhook))
        }
        group.post("webhooks/:id/rotate-secret") { _, context in
            let id = try context.parameters.require("id")
            let team = try await owned(id, context, may: .manage).team
            let webhook = try await admin.rotateSecret(id)
            try await audit(state, context, team, "webhook", id, "secret_rotated", [:])
            try await state.refreshWebhook(id)
            state.logger.notice("webhook secret rotated", metadata: ["webhook": "\(id)"])
            return json(WebhookView(webhook, revealSecret: true))
        }
        group.post("webhooks/:id/retry-failed") { _, context in
            let id = try context.parameters.require("id")
            let team = try await owned(id, context, may: .manage).team
            let count = try await admin.retryFailed(id)
            try await audit(state, context, team, "webhook", id, "retried", ["requeued": "\(count)"])
            state.wakeDispatcher()
            state.logger.notice("failed deliveries re-queued", metadata: ["webhook": "\(id)", "count": "\(count)"])
            return json(data: AdminJSON.requeued(count))
        }
        group.post("webhooks/:id/recover") { request, context in
            let id = try context.parameters.require("id")
            let team = try await owned(id, context, may: .manage).team
            guard let text = request.uri.queryParameters.get("since") else {
                throw APIError(status: .badRequest, message: "give ?since=TIME: \(TimeSpec.forms)")
            }
            let since = try time(text, name: "since")
            let count = try await admin.recover(id, since: since)
            try await audit(state, context, team, "webhook", id, "recovered", ["since": "\(since)", "requeued": "\(count)"])
            state.wakeDispatcher()
            state.logger.notice("deliveries recovered", metadata: ["webhook": "\(id)", "since": "\(since)", "count": "\(count)"])
            return json(data: AdminJSON.requeued(count))
        }
        group.post("webhooks/:id/test") { _, context in
            let id = try context.parameters.require("id")
            let team = try await owned(id, context, may: .manage).team
            let report = try await admin.sendTest(id)
            try await audit(state, context, team, "webhook", id, "tested", ["status": report.status])
            state.logger.info("test event sent", metadata: ["webhook": "\(id)", "status": "\(report.status)"])
            return json(report)
        }
        group.get("webhooks/:id/deliveries") { request, context in
            let webhook = try await owned(try context.parameters.require("id"), context, may: .read)
            return try await deliveries(request, webhook: webhook.id, team: nil, admin: admin)
        }
        group.get("deliveries") { request, context in
            let team = try await team(context)
            try require(context, team, may: .read)
            return try await deliveries(request, webhook: nil, team: team, admin: admin)
        }
        group.get("deliveries/:id") { _, context in
            let detail = try await ownedDelivery(try deliveryID(context), context, may: .read)
            return json(data: AdminJSON.delivery(detail))
        }
        group.post("deliveries/:id/retry") { _, context in
            let id = try deliveryID(context)
            _ = try await ownedDelivery(id, context, may: .manage)
            let team = try await team(context)
            let report = try await admin.retryDelivery(id)
            try await audit(state, context, team, "delivery", "\(id)", "retried", ["status": report.status])
            state.logger.info("delivery retried", metadata: ["delivery": "\(id)", "status": "\(report.status)"])
            return json(report)
        }
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
    /// With `team`, only that team's webhooks' deliveries.
    static func deliveries(_ request: Request, webhook: String?, team: String?, admin: Admin) async throws -> Response {
        let query = request.uri.queryParameters
        var status: DeliveryStatus?
        if let text = query.get("status") {
            guard let value = DeliveryStatus(rawValue: text) else {
                throw APIError(status: .badRequest, message: "status \"\(text)\" must be \(DeliveryStatus.names)")
            }
            status = value
        }
        let since = try query.get("since").map { try time($0, name: "since") }
        let (limit, before) = try page(query)
        let page = try await admin.deliveries(webhook: webhook, team: team, status: status, since: since, before: before, limit: limit)
        return json(data: AdminJSON.deliveries(page, limit: limit))
    }

    /// A page's `limit` (1 to 1000, default ``AdminJSON/defaultPageLimit``) and `cursor` (the id
    /// the next page starts below) from the query: the delivery log's and the audit's.
    static func page(_ query: Parameters) throws -> (limit: Int, before: Int64?) {
        let limit = try query.get("limit").map { text in
            guard let value = Int(text), AdminJSON.pageLimits.contains(value) else {
                throw APIError(status: .badRequest, message: "limit must be a number from 1 to 1000")
            }
            return value
        } ?? AdminJSON.defaultPageLimit
        let before = try query.get("cursor").map { text in
            guard let value = Int64(text), value > 0 else { throw APIError(status: .badRequest, message: "cursor \"\(text)\" is not one this API gave") }
            return value
        }
        return (limit, before)
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

    static func ingest(
        _ request: Request, context: ServeRequestContext, state: ServerState, team: IngestParser.Destination, span: (any Span)?
    ) async throws -> Response {
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
        let parsed: IngestParser.Parsed
        do {
            parsed = try await state.parser.events(
                in: body, ndjson: ndjson, maxEventBytes: state.configuration.maxEventBytes, matchers: state.ingestMatchers, team: team,
                connected: {
                    let presence = await ClientPresence.of(channel)
                    return { channel.isActive && presence?.isGone != true }
                })
        } catch is IngestParser.ClientGone {
            // Nobody reads this; it only ends the request quietly.
            throw APIError(status: .badRequest, message: "the client went away; nothing was accepted")
        }
        var events = parsed.batch
        guard events.count > 0 else { throw APIError(status: .badRequest, message: "the body holds no event") }
        if case .fromEvent = team {
            // A team without webhooks may not exist: every named team must.
            let matchers = state.ingestMatchers
            for named in parsed.teams.keys where named != Team.defaultID && matchers.indices(of: named).isEmpty {
                guard (try? await state.admin.team(named)) != nil else {
                    throw APIError(status: .badRequest, message: "an event names team \"\(named)\", which does not exist; nothing was accepted")
                }
            }
        }
        if let (over, wait) = state.teamIngest.take(parsed.teams, now: state.now()) {
            throw APIError(
                status: .tooManyRequests,
                message: "team \(over) sends more than team_ingest_rate allows; nothing of this request was stored; retry after \(wait) s",
                headers: [.retryAfter: "\(wait)"])
        }
        if let span, let tracer = state.tracer { events.traceparent = TraceHeaders.traceparent(of: span, tracer: tracer) }
        let duplicates = try await state.ingest(events)
        let accepted = duplicates.filter { !$0 }.count
        state.metrics.ingested(accepted)
        span?.ingested(accepted: accepted, duplicates: events.count - accepted, teams: parsed.teams.keys)
        return json(Accepted(accepted: accepted, duplicates: events.count - accepted, ids: parsed.ids), status: .accepted)
    }

    static func newEventID() -> String { "evt_" + Admin.randomHex(12) }

}

/// Refuses requests without a valid API token: 401, saying nothing about what was wrong with
/// it. The configured token is an admin of every team (``Principal/bootstrap``); a stored one
/// has its role and team (``TokenDirectory``). A client that keeps sending wrong tokens is held
/// off with 429 (``AuthThrottle``).
struct BearerAuth: RouterMiddleware {
    typealias Context = ServeRequestContext
    let token: APIToken
    let tokens: TokenDirectory
    let throttle: AuthThrottle
    let behindProxy: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let client = context.client(request, behindProxy: behindProxy)
        if case .wait(let seconds) = throttle.check(client) {
            throw APIError(
                status: .tooManyRequests, message: "too many wrong API tokens from this address; retry after \(seconds) s",
                headers: [.retryAfter: "\(seconds)"])
        }
        let authorization = request.headers[.authorization]
        var context = context
        if token.accepts(authorization: authorization) {
            context.principal = .bootstrap
        } else if let authorization, authorization.utf8.count > 7, authorization.prefix(7).lowercased() == "bearer " {
            context.principal = try await tokens.principal(for: String(authorization.dropFirst(7)))
        }
        guard context.principal != nil else {
            // No token at all guesses nothing; a wrong one counts.
            if authorization != nil { throttle.failed(client) }
            throw APIError(
                status: .unauthorized, message: "a valid API token is required: send Authorization: Bearer TOKEN",
                headers: [.wwwAuthenticate: "Bearer"])
        }
        throttle.succeeded(client)
        return try await next(request, context)
    }
}
