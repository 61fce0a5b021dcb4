import Foundation
import Hummingbird

extension Routes {
    /// The API's OpenAPI document (docs/openapi.yaml, embedded as JSON by `make openapi`).
    static let openAPIDocument = Data(OpenAPIDocument.json.utf8)

    /// `GET /v1/openapi.json`: the contract, without a token (it holds nothing of this
    /// installation), so a client generator or a fuzzer can fetch it.
    static func openAPIRoute(_ router: Router<ServeRequestContext>) {
        router.get("/v1/openapi.json") { _, _ in json(data: openAPIDocument) }
    }
}
