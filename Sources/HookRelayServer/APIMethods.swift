import Foundation
import HTTPTypes

/// The methods each `/v1` path has, read from the API's contract (``OpenAPIDocument``), so that a
/// request with a method its path lacks is answered 405 with `Allow` instead of 404: the
/// document and the answer cannot disagree, and ``OpenAPIContractTests`` checks the document
/// against the routes.
struct APIMethods: Sendable {
    /// A path of the document: its segments, nil where a `{parameter}` matches any one segment.
    struct Route: Sendable {
        var segments: [String?]
        var methods: [String]
    }

    let routes: [Route]

    static let contract = APIMethods(document: Routes.openAPIDocument)

    init(document: Data) {
        let object = (try? JSONSerialization.jsonObject(with: document)) as? [String: Any]
        let paths = object?["paths"] as? [String: Any] ?? [:]
        let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        routes = paths.map { path, item in
            let operations = (item as? [String: Any] ?? [:]).keys.filter(methods.contains)
            let segments = path.split(separator: "/").map { $0.hasPrefix("{") ? nil : String($0) }
            return Route(segments: segments, methods: methods.filter(operations.contains).map { $0.uppercased() })
        }
    }

    /// The methods of the path `path` matches, in a fixed order; empty when no path matches.
    func allowed(for path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        var allowed: [String] = []
        for route in routes where route.segments.count == segments.count {
            let matches = zip(route.segments, segments).allSatisfy { literal, given in literal.map { $0 == given } ?? !given.isEmpty }
            if matches { allowed += route.methods.filter { !allowed.contains($0) } }
        }
        return allowed
    }

    /// The 405 for `method` on `path`, or nil when the path is not the API's (a 404 then) or has the method.
    func refusal(_ method: HTTPRequest.Method, path: String) -> APIError? {
        let allowed = allowed(for: path)
        guard !allowed.isEmpty, !allowed.contains(method.rawValue) else { return nil }
        return APIError(
            status: .methodNotAllowed, message: "\(path) takes \(allowed.joined(separator: ", ")), not \(method.rawValue)",
            headers: [.allow: allowed.joined(separator: ", ")])
    }
}
