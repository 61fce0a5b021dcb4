import Foundation
import HookRelayAdmin
import HookRelayCore
@testable import HookRelayServer
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The API's errors: handlers throw ``APIError`` and Hummingbird answers it with the JSON shape,
/// status and headers the API always had; ``ErrorMiddleware`` turns what no handler meant to throw
/// into a generic 500 and one log line (issue 14).
@Suite struct APIErrorTests {
    struct Unexpected: Error, CustomStringConvertible {
        var description: String { "disk I/O error in /var/lib/hookrelay/x.db" }
    }

    @Test func anUnexpectedErrorIsAGeneric500AndOneLogLineWithoutTheRequestsTokenOrBody() async throws {
        let log = LogRecorder()
        let router = Router(context: ServeRequestContext.self)
        router.add(middleware: ErrorMiddleware(logger: Logger(label: "test") { _ in log }))
        router.post("/v1/boom") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 10)
            throw Unexpected()
        }
        try await Application(router: router).test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/boom?token=in-the-query", method: .post, headers: [.authorization: "Bearer secret-token-123"],
                body: ByteBuffer(string: #"{"password":"hunter2"}"#))
            #expect(response.status == .internalServerError)
            #expect(response.headers[.contentType] == "application/json")
            #expect(String(buffer: response.body) == #"{"error":{"message":"internal error; see the server log"}}"#)
        }
        let logged = log.all
        #expect(logged.count == 1, "\(logged)")
        let line = try #require(logged.first)
        #expect(line.level == .error && line.message == "request failed")
        // The path and the error only: not the query, the token or the body.
        #expect(line.metadata == ["path": "/v1/boom", "error": "disk I/O error in /var/lib/hookrelay/x.db"])
    }

    @Test func refusalsKeepTheirStatusMessageAndHeaders() async throws {
        // The held-off wait is an hour, not a second: on a loaded machine the requests below may
        // be seconds apart, and the sixth must still meet the wait the fifth began.
        let serve = try ServeHarness {
            $0.limits.parseBudget = 16
            $0.limits.authBackoff = .seconds(3600)
            $0.limits.authBackoffLimit = .seconds(3600)
        }
        try await serve.run { client in
            func check(
                _ uri: String, method: HTTPRequest.Method = .get, token: String? = ServeHarness.token, body: String? = nil,
                _ status: HTTPResponse.Status, _ message: String, headers: [String: String] = [:]
            ) async throws {
                let response = try await client.execute(
                    uri: uri, method: method, headers: token.map { [.authorization: "Bearer \($0)"] } ?? [:],
                    body: body.map { ByteBuffer(string: $0) })
                #expect(response.status == status, "\(uri)")
                #expect(response.headers[.contentType] == "application/json", "\(uri)")
                let expected = String(decoding: AdminJSON.encode(["error": ["message": message]]), as: UTF8.self)
                #expect(String(buffer: response.body) == expected, "\(uri)")
                for (name, value) in headers {
                    #expect(response.headers.first { $0.name.canonicalName == name }?.value == value, "\(uri) \(name)")
                }
            }
            // An operator's refusal (AdminError), Hummingbird's own 404, and the handlers' own.
            try await check("/v1/webhooks/wh_nope", .notFound, "no webhook wh_nope")
            try await check("/v1/no/such/path", .notFound, "Not Found")
            try await check("/v1/deliveries?limit=0", .badRequest, "limit must be a number from 1 to 1000")
            try await check("/v1/events", method: .post, body: #"{"event_type":"finding"}"#, .serviceUnavailable,
                            "too many event bodies are being read at once (parse_budget); retry shortly", headers: ["retry-after": "1"])
            // A body over a route's limit is a 413 saying so, not a 500.
            let limit = serve.state.configuration.maxEventBytes
            try await check("/v1/match", method: .post, body: String(repeating: " ", count: limit + 1), .contentTooLarge,
                            "the event is larger than \(ByteCount.format(limit)) (max_event_bytes)")
            try await check("/v1/webhooks", token: nil, .unauthorized,
                            "a valid API token is required: send Authorization: Bearer TOKEN", headers: ["www-authenticate": "Bearer"])
            for _ in 0..<5 {
                try await check("/v1/webhooks", token: "wrong-token-0000", .unauthorized,
                                "a valid API token is required: send Authorization: Bearer TOKEN", headers: ["www-authenticate": "Bearer"])
            }
            let held = try await client.execute(uri: "/v1/webhooks", method: .get, headers: [.authorization: "Bearer wrong-token-0000"])
            #expect(held.status == .tooManyRequests)
            let wait = try #require(held.headers[.retryAfter].flatMap { Int($0) })
            #expect((3500...3600).contains(wait), "\(wait)")
            let expected = String(decoding: AdminJSON.encode(["error": ["message": "too many wrong API tokens from this address; retry after \(wait) s"]]), as: UTF8.self)
            #expect(String(buffer: held.body) == expected)
        }
    }
}
