import Foundation
import HookRelayAdmin
import HookRelayCore
@testable import HookRelayServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// What schemathesis found (or, for the 405, would have) when it fuzzed `serve` against
/// docs/openapi.yaml (OpenAPIContractTests), each fixed and kept fixed here, in process; and
/// that the router and the document name the same operations.
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

    /// A method a path does not have (PUT /v1/webhooks, TRACE …) was 404, as for a path that does
    /// not exist; schemathesis' unsupported_method check wants 405 with `Allow`. (Fixed before
    /// its first run, so schemathesis never reported it; this keeps it fixed.)
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

    /// Found: `since=0.5` was taken as half a second ago, while `since=1` is 1970 (Unix seconds):
    /// a duration must carry its unit.
    @Test func aBareFractionIsNoDuration() async throws {
        let serve = try ServeHarness()
        try await serve.run(dispatching: false) { client in
            let id = try await serve.webhook()
            for query in ["since=0.5", "since=1.5e3", "since=-1"] {
                let answer = try await client.call(.get, "deliveries?\(query)")
                #expect(answer.status == .badRequest, "\(query): \(answer.text)")
                #expect(answer.text.contains("is not a time"), "\(answer.text)")
                #expect(try await client.call(.post, "webhooks/\(id)/recover?\(query)").status == .badRequest, "\(query)")
            }
            for query in ["since=0.5s", "since=1", "since=24h", "since=2026-11-29T10:00:00Z"] {
                #expect(try await client.call(.get, "deliveries?\(query)").status == .ok, "\(query)")
            }
        }
    }

    /// Found: an admin's `?team=` that is no team id (empty, say) listed nothing with 200, as if
    /// it named a team without entries.
    @Test func aTeamFilterThatIsNoTeamIdIs400() async throws {
        let serve = try ServeHarness()
        try await serve.run(dispatching: false) { client in
            for path in ["tokens?team=", "audit?team=", "tokens?team=Acme", "audit?team=a%20b"] {
                let answer = try await client.call(.get, path)
                #expect(answer.status == .badRequest, "\(path): \(answer.text)")
                #expect(answer.text.contains("is not a team id"), "\(answer.text)")
            }
            #expect(try await client.call(.get, "tokens?team=default").status == .ok)
            #expect(try await client.call(.get, "audit?team=nobody").status == .ok)
        }
    }

    /// Found: `POST /v1/tokens` ignored a `team` that is not a string (the token went to the
    /// caller's team), and a `description`, `expires_at` or `any_team` of the wrong type.
    @Test func aTokenFieldOfTheWrongTypeIs422() async throws {
        let serve = try ServeHarness()
        try await serve.run(dispatching: false) { client in
            for (body, field) in [
                (#"{"role":"viewer","team":{}}"#, "team"), (#"{"role":"viewer","description":5}"#, "description"),
                (#"{"role":"viewer","expires_at":30}"#, "expires_at"), (#"{"role":"publisher","any_team":1}"#, "any_team"),
            ] {
                let answer = try await client.call(.post, "tokens", body)
                #expect(answer.status == .unprocessableContent, "\(body): \(answer.text)")
                #expect(answer.text.contains(#"\"\#(field)\" must be"#), "\(answer.text)")
            }
            let tokens = try await client.call(.get, "tokens")
            #expect((tokens["tokens"] as? [Any])?.isEmpty == true, "nothing was made: \(tokens.text)")
            #expect(try await client.call(.post, "tokens", #"{"role":"publisher","any_team":true}"#).status == .created)
        }
    }

    /// The document and the router agree: every `/v1` route serve registers is in
    /// docs/openapi.yaml with its method, and every operation there is a route (so a route added
    /// without its contract, or documented without its code, fails here before schemathesis).
    @Test func everyRouteIsInTheDocumentAndBack() throws {
        let serve = try ServeHarness()
        let router = Routes.build(serve.state, token: APIToken(ServeHarness.token))
        let served = Set(router.routes.map { route in
            let path = route.path.description.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            return "\(route.method.rawValue) /" + path.joined(separator: "/")
        }.filter { $0.contains(" /v1/") })
        let documented = Set(APIMethods.contract.routes.flatMap { route in
            route.methods.map { method in
                "\(method) /" + route.segments.map { $0 ?? "{}" }.joined(separator: "/")
            }
        })
        // The document names parameters; the comparison needs only where they are.
        let servedShapes = Set(served.map { $0.replacing(#/\{[a-z_]+\}/#, with: "{}") })
        #expect(servedShapes.count >= 50, "\(servedShapes.sorted())")
        #expect(servedShapes.subtracting(documented).isEmpty, "routes missing from docs/openapi.yaml: \(servedShapes.subtracting(documented).sorted())")
        #expect(documented.subtracting(servedShapes).isEmpty, "documented but not served: \(documented.subtracting(servedShapes).sorted())")
    }
}

