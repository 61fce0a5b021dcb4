import Foundation
import HookRelayAdmin
@testable import HookRelayServer
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing
import Tracing

/// A local OTLP/HTTP collector on 127.0.0.1: takes `POST /v1/traces` in OTLP JSON and keeps
/// the spans; every other request is counted too, so a test can say nothing came at all.
final class OTLPReceiver: Sendable {
    /// One exported span, as far as the tests read it.
    struct ExportedSpan: Sendable, CustomStringConvertible {
        var name: String
        var traceID: String
        var spanID: String
        var parentSpanID: String
        var attributes: [String: String]
        var description: String { "\(name) \(traceID)/\(spanID) ← \(parentSpanID) \(attributes)" }
    }

    private let state = Mutex<(bodies: [String], requests: Int)>(([], 0))

    /// The raw bodies posted to `/v1/traces`.
    var bodies: [String] { state.withLock { $0.bodies } }
    /// Every request that came, whatever its path.
    var requests: Int { state.withLock { $0.requests } }

    /// Runs a receiver and, once it listens, `body` with its base URL; stops it afterwards.
    static func run<T: Sendable>(_ body: @Sendable (OTLPReceiver, String) async throws -> T) async throws -> T {
        let receiver = OTLPReceiver()
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 16 << 20)
            receiver.state.withLock {
                $0.requests += 1
                $0.bodies.append(String(buffer: bytes))
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let (ports, port) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                port.yield(channel.localAddress?.port ?? 0)
                port.finish()
            },
            logger: Logger(label: "otlp", factory: { _ in SwiftLogNoOpLogHandler() }))
        let group = ServiceGroup(services: [application], logger: Logger(label: "otlp", factory: { _ in SwiftLogNoOpLogHandler() }))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            let port = try await next(ports)
            let result = try await body(receiver, "http://127.0.0.1:\(port)")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }

    /// Runs `body` with `serve`'s tracer exporting to `endpoint` (OTLP JSON), then stops the
    /// exporter, which sends every span left before it ends.
    static func tracing<T: Sendable>(to endpoint: String, _ body: @Sendable (any Tracer) async throws -> T) async throws -> T {
        var configuration = TracingConfiguration(endpoint: endpoint)
        configuration.json = true
        let resolved = try #require(try configuration.resolved(environment: [:]))
        let (tracer, service) = try ServeTracing.make(resolved, logger: Logger(label: "otel", factory: { _ in SwiftLogNoOpLogHandler() }))
        let group = ServiceGroup(services: [service], logger: Logger(label: "otel", factory: { _ in SwiftLogNoOpLogHandler() }))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            let result = try await body(tracer)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }

    /// Every span received, from the OTLP JSON bodies.
    func spans() throws -> [ExportedSpan] {
        try bodies.flatMap { body -> [ExportedSpan] in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            let resources = object["resourceSpans"] as? [[String: Any]] ?? []
            return resources.flatMap { resource in
                (resource["scopeSpans"] as? [[String: Any]] ?? []).flatMap { scope in
                    (scope["spans"] as? [[String: Any]] ?? []).map(Self.span)
                }
            }
        }
    }

    private static func span(_ object: [String: Any]) -> ExportedSpan {
        var attributes: [String: String] = [:]
        for attribute in object["attributes"] as? [[String: Any]] ?? [] {
            guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any], let first = value.first else { continue }
            attributes[key] = "\(first.value)"
        }
        return ExportedSpan(
            name: object["name"] as? String ?? "", traceID: hex(object["traceId"]), spanID: hex(object["spanId"]),
            parentSpanID: hex(object["parentSpanId"]), attributes: attributes)
    }

    /// An id as lowercase hex, whether the JSON holds hex (the OTLP specification) or base64
    /// (protobuf's JSON mapping of bytes).
    static func hex(_ value: Any?) -> String {
        guard let text = value as? String, !text.isEmpty else { return "" }
        if text.count % 16 == 0, text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        guard let bytes = Data(base64Encoded: text) else { return text }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }
}
