import Foundation

/// Where `serve` exports its traces: OpenTelemetry over OTLP/HTTP, off unless an endpoint is
/// given (the config key `otel_endpoint`, or `OTEL_EXPORTER_OTLP_ENDPOINT`, which wins, as the
/// OpenTelemetry specification has it).
public struct TracingConfiguration: Sendable, Equatable {
    /// The collector's OTLP/HTTP base URL, such as `http://localhost:4318`: spans go to its
    /// `/v1/traces`. Nil: off, unless the environment names one.
    public var endpoint: String?
    /// The spans' `service.name` (`OTEL_SERVICE_NAME` wins).
    public var serviceName = "hookrelay"
    /// Spans as OTLP JSON rather than protobuf (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json` wins).
    public var json = false

    public init(endpoint: String? = nil) { self.endpoint = endpoint }

    /// What is exported, once the environment has had its say; nil: traces are off.
    public struct Resolved: Sendable, Equatable {
        /// Where spans are posted: the base URL's `/v1/traces`.
        public var tracesURL: String
        public var serviceName: String
        public var json: Bool
    }

    /// The endpoint and service name after the environment's `OTEL_EXPORTER_OTLP_ENDPOINT`,
    /// `OTEL_SERVICE_NAME` and `OTEL_SDK_DISABLED`; nil when no endpoint is set (or the SDK is
    /// disabled). Throws when the endpoint is not an http(s) URL with a host.
    public func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Resolved? {
        if environment["OTEL_SDK_DISABLED"]?.lowercased() == "true" { return nil }
        let fromEnvironment = environment["OTEL_EXPORTER_OTLP_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
        guard let base = fromEnvironment ?? endpoint else { return nil }
        try Self.check(base, source: fromEnvironment != nil ? "OTEL_EXPORTER_OTLP_ENDPOINT" : "otel_endpoint")
        let name = environment["OTEL_SERVICE_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? serviceName
        let protocolName = environment["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] ?? environment["OTEL_EXPORTER_OTLP_PROTOCOL"]
        if let protocolName, !["http/protobuf", "http/json"].contains(protocolName) {
            throw ServeConfiguration.Problem(description: """
                OTEL_EXPORTER_OTLP_PROTOCOL "\(protocolName)" is not supported: hookrelay exports traces over OTLP/HTTP, \
                http/protobuf (the default) or http/json
                """)
        }
        return Resolved(
            tracesURL: base.hasSuffix("/") ? base + "v1/traces" : base + "/v1/traces", serviceName: name,
            json: protocolName.map { $0 == "http/json" } ?? json)
    }

    /// Refuses what is not an OTLP/HTTP base URL: `http://` or `https://`, a host, no query.
    static func check(_ text: String, source: String) throws {
        let problem = ServeConfiguration.Problem(description: """
            \(source) "\(text)" must be an OTLP/HTTP collector's base URL, http:// or https:// with a host and no query, \
            such as http://localhost:4318 (spans go to its /v1/traces)
            """)
        guard let url = URLComponents(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
              let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil
        else { throw problem }
    }
}
