import Foundation
import HookRelayAdmin
@testable import HookRelayServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// What schemathesis found when it fuzzed `serve` against docs/openapi.yaml
/// (OpenAPIContractTests), each fixed and kept fixed here, in process.
@Suite struct OpenAPIFindingsTests {
    /// The contract is served without a token, and is the document the routes answer 405 from.
    @Test func theContractIsServedWithoutAToken() async throws {
        let serve = try ServeHarness()
        try await serve.run(dispatching: false) { client in
            let response = try await client.execute(uri: "/v1/openapi.json", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
            #expect(object?["openapi"] as? String == "3.1.0")
            #expect((object?["paths"] as? [String: Any])?["/v1/webhooks/{id}"] != nil)
        }
    }

    /// Found: a method a path does not have (PUT /v1/webhooks, TRACE …) was 404, as for a path
    /// that does not exist; schemathesis' unsupported_method wants 405 with `Allow`.
    @Test func aMethodThePathLacksIs405WithAllow() async throws {
        let serve = try ServeHarness()
        try await serve.run(dispatching: false) { client in
            let id = try await serve.webhook()
            for (uri, method, allow) in [
                ("/v1/webhooks", HTTPRequest.Method.put, "GET, POST"),
                ("/v1/webhooks/\(id)", .post, "GET, DELETE, PATCH"),
                ("/v1/teams/default/webhooks/\(id)/pause", .get, "POST"),
                ("/v1/deliveries/7", .delete, "GET"),
                ("/v1/openapi.json", .post, "GET"),
            ] {
                // With or without a token: which methods a path has is in the public contract.
                for headers: HTTPFields in [[:], [.authorization: "Bearer \(ServeHarness.token)"]] {
                    let response = try await client.execute(uri: uri, method: method, headers: headers)
                    #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                    #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                    let body = String(buffer: response.body)
                    #expect(body == #"{"error":{"message":"\#(uri) takes \#(allow), not \#(method.rawValue)"}}"#, "\(body)")
                }
            }
            // A path the API does not have stays 404, whatever the method.
            for (uri, method) in [("/v1/nothing", HTTPRequest.Method.get), ("/v1/webhooks/a/b/c", .post), ("/v1", .put)] {
                let response = try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer \(ServeHarness.token)"])
                #expect(response.status == .notFound, "\(method) \(uri)")
            }
        }
    }
}
