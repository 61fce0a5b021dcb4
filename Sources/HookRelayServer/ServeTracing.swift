import Foundation
import HookRelayAdmin
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// `serve`'s OpenTelemetry tracer (swift-otel, OTLP/HTTP): made only when an endpoint is
/// configured. Nothing is bootstrapped globally: the tracer is handed to the routes and the
/// attempts, so with traces off no span is ever made.
enum ServeTracing {
    /// The tracer and the service that batches and exports its spans (it flushes what is left
    /// when the service group stops).
    static func make(_ resolved: TracingConfiguration.Resolved, logger: Logger) throws -> (tracer: any Tracer, service: any Service) {
        var otel = OTel.Configuration.default
        otel.serviceName = resolved.serviceName
        otel.logs.enabled = false
        otel.metrics.enabled = false
        otel.traces.enabled = true
        otel.traces.exporter = .otlp
        otel.traces.otlpExporter.endpoint = resolved.tracesURL
        otel.traces.otlpExporter.protocol = resolved.json ? .httpJSON : .httpProtobuf
        otel.propagators = [.traceContext]
        otel.diagnosticLogger = .custom(logger)
        otel.diagnosticLogLevel = .warning
        let (tracer, service) = try OTel.makeTracingBackend(configuration: otel)
        // The host only: a URL may hold credentials.
        let host = URLComponents(string: resolved.tracesURL)?.host ?? "?"
        logger.notice("exporting traces over OTLP/HTTP", metadata: ["host": "\(host)", "service": "\(resolved.serviceName)"])
        return (tracer, service)
    }
}
