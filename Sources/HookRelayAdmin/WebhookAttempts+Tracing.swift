import HookRelayCore
import HookRelayDelivery
import HookRelayStore
import Tracing

/// The attempt span: a child of the ingest span whose `traceparent` was stored with the event,
/// so an attempt made later, or by another instance, joins the trace its event started. It
/// holds the webhook, the host, the attempt's number, HTTP status and outcome: never the URL's
/// path or query, a header, a body or a secret.
extension WebhookAttempts {
    public static let spanName = "webhook attempt"

    func traced(_ job: ClaimedDelivery, webhook: Webhook?, occasion: OutcomePolicy.Occasion, tracer: any Tracer) async -> (DeliveryOutcome, gone: Bool) {
        var parent = ServiceContext.topLevel
        if let traceparent = job.traceparent {
            tracer.extract(["traceparent": traceparent], into: &parent, using: TraceHeaders())
        }
        let span = tracer.startSpan(Self.spanName, context: parent, ofKind: .client)
        defer { span.end() }
        span.attributes["hookrelay.webhook.id"] = job.target
        span.attributes["hookrelay.message.id"] = job.messageID
        span.attributes["hookrelay.delivery.id"] = Int(job.id)
        span.attributes["hookrelay.attempt.number"] = job.attempts + 1
        return await attempt(job, webhook: webhook, occasion: occasion, span: span)
    }

    /// The W3C `traceparent` naming `span` as the parent: what a webhook that asks for it gets.
    func traceparent(of span: any Span) -> String? {
        tracer.flatMap { TraceHeaders.traceparent(of: span, tracer: $0) }
    }
}

/// W3C trace context headers in a dictionary, by lowercase name.
public struct TraceHeaders: Extractor, Injector {
    public init() {}

    public func extract(key: String, from carrier: [String: String]) -> String? { carrier[key.lowercased()] }

    public func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key.lowercased()] = value }

    /// The W3C `traceparent` that names `span` as the parent.
    public static func traceparent(of span: any Span, tracer: any Tracer) -> String? {
        var headers: [String: String] = [:]
        tracer.inject(span.context, into: &headers, using: TraceHeaders())
        return headers["traceparent"]
    }
}

extension Span {
    /// Before sending: where to (the host only), and how (POST; a ticket's close on GitHub PATCH).
    func sending(to endpoint: Endpoint, method: RequestMethod) {
        attributes["server.address"] = endpoint.host
        attributes["http.request.method"] = method.rawValue
    }

    /// The attempt's result: its HTTP status and outcome class (`2xx`, `timeout`, `blocked`, …).
    func sent(_ result: SendResult, _ outcome: DeliveryOutcome) {
        if let status = result.httpStatus { attributes["http.response.status_code"] = status }
        attributes["hookrelay.attempt.outcome"] = result.outcomeClass.rawValue
        finished(outcome)
    }

    /// An attempt recorded without sending (the webhook deleted or disabled, an invalid URL, a
    /// template that does not render): `not_sent`.
    func notSent(_ outcome: DeliveryOutcome) {
        attributes["hookrelay.attempt.outcome"] = "not_sent"
        finished(outcome)
    }

    /// What comes next: `delivered`, `retry`, `failed`, or settled without sending
    /// (`suppressed`, `digested`); an error status unless delivered or settled.
    private func finished(_ outcome: DeliveryOutcome) {
        let next = switch outcome.next {
        case .delivered: "delivered"
        case .failed: "failed"
        case .retry: "retry"
        case let .settled(settlement, _): settlement.rawValue
        }
        attributes["hookrelay.delivery.next"] = next
        if case .settled = outcome.next { return }
        if outcome.next != .delivered { setStatus(SpanStatus(code: .error)) }
    }
}
