import Foundation
import HookRelayAdmin
import Testing

/// Where traces go: `otel_endpoint`, the `OTEL_*` environment, and the messages for what cannot
/// be an OTLP/HTTP endpoint (issue 17).
@Suite struct TracingConfigurationTests {
    private func configuration(_ toml: String) throws -> ServeConfiguration { try ServeConfiguration.fromTOML(toml) }

    @Test func offUnlessAnEndpointIsGiven() throws {
        #expect(try ServeConfiguration().tracing.resolved(environment: [:]) == nil)
        #expect(try ServeConfiguration().tracing.resolved(environment: ["OTEL_SERVICE_NAME": "x"]) == nil)
    }

    @Test func theConfigKeyNamesTheCollectorsBaseURL() throws {
        let tracing = try configuration(#"otel_endpoint = "http://collector:4318""#).tracing
        let resolved = try #require(try tracing.resolved(environment: [:]))
        #expect(resolved.tracesURL == "http://collector:4318/v1/traces")
        #expect(resolved.serviceName == "hookrelay")
        #expect(!resolved.json)
        #expect(try TracingConfiguration(endpoint: "https://c.example/otlp/").resolved(environment: [:])?.tracesURL == "https://c.example/otlp/v1/traces")
    }

    @Test func theEnvironmentWins() throws {
        let tracing = TracingConfiguration(endpoint: "http://collector:4318")
        let resolved = try #require(try tracing.resolved(environment: [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://other:4318", "OTEL_SERVICE_NAME": "relay-eu", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        ]))
        #expect(resolved.tracesURL == "http://other:4318/v1/traces")
        #expect(resolved.serviceName == "relay-eu")
        #expect(resolved.json)
        #expect(try TracingConfiguration().resolved(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://other:4318"]) != nil)
        #expect(try tracing.resolved(environment: ["OTEL_SDK_DISABLED": "true"]) == nil)
    }

    @Test func anInvalidEndpointIsRefusedWithTheReason() throws {
        for bad in ["collector:4318", "ftp://collector", "http://", "http://c:4318/?key=1", ""] {
            #expect(throws: ServeConfiguration.Problem.self, "otel_endpoint \(bad)") { try configuration("otel_endpoint = \"\(bad)\"") }
        }
        do {
            _ = try configuration(#"otel_endpoint = "localhost:4318""#)
            Issue.record("accepted")
        } catch let problem as ServeConfiguration.Problem {
            #expect(problem.description.hasSuffix("""
                otel_endpoint "localhost:4318" must be an OTLP/HTTP collector's base URL, http:// or https:// with a host and no query, \
                such as http://localhost:4318 (spans go to its /v1/traces)
                """))
        }
        #expect(throws: ServeConfiguration.Problem.self) {
            try TracingConfiguration().resolved(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "not a url"])
        }
        #expect(throws: ServeConfiguration.Problem.self) {
            try TracingConfiguration(endpoint: "http://c:4318").resolved(environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"])
        }
        #expect(throws: ServeConfiguration.Problem.self) { try configuration("otel_endpoint = 4318") }
    }
}
