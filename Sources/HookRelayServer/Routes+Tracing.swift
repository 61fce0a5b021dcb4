import HookRelayAdmin
import HTTPTypes
import Hummingbird
import Tracing

/// The ingest span, while traces are exported: one per `POST /v1/events`, a child of the
/// request's W3C `traceparent` (and `tracestate`) when it has one. Its own `traceparent` is
/// stored with the events, the parent of their attempts' spans. It holds the accepted and
/// duplicate counts and the teams: never the body, a header or the query.
extension Routes {
    static let ingestSpanName = "POST /v1/events"

    static func tracedIngest(
        _ request: Request, context: ServeRequestContext, state: ServerState, team: IngestParser.Destination, tracer: any Tracer
    ) async throws -> Response {
        var parent = ServiceContext.topLevel
        tracer.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        let span = tracer.startSpan(ingestSpanName, context: parent, ofKind: .server)
        defer { span.end() }
        span.attributes["http.request.method"] = "POST"
        span.attributes["http.route"] = "/v1/events"
        do {
            let response = try await ingest(request, context: context, state: state, team: team, span: span)
            span.attributes["http.response.status_code"] = Int(response.status.code)
            return response
        } catch {
            // The status only: an error's text stays in the server log.
            let status = (error as? APIError)?.status ?? APIError.unexpected.status
            span.attributes["http.response.status_code"] = Int(status.code)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }
}

/// Reads the W3C trace context from a request's header fields.
struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}

extension Span {
    /// What one ingest request stored: the accepted and duplicate events, and their teams.
    func ingested(accepted: Int, duplicates: Int, teams: some Sequence<String>) {
        attributes["hookrelay.events.accepted"] = accepted
        attributes["hookrelay.events.duplicates"] = duplicates
        attributes["hookrelay.team"] = teams.sorted().joined(separator: ",")
    }
}
