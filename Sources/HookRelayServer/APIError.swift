import HookRelayAdmin
import HookRelayStore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// An API error: `{"error":{"message":"…"}}` with its status and any headers it needs
/// (`Retry-After`, `WWW-Authenticate`). Handlers throw it; Hummingbird's router answers it
/// (``response(from:context:)``).
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String
    var headers: HTTPFields = [:]

    /// What every unexpected error is answered with: its details (which may hold paths or
    /// values) stay in the server log.
    static let unexpected = APIError(status: .internalServerError, message: "internal error; see the server log")

    /// What a transient store error (`StoreOutage.isTransient`: the database unreachable, a lost
    /// connection, a timeout, a lock held too long) is answered with: 503 and `Retry-After`.
    /// Every write of a request is one transaction, so nothing of it was stored.
    static let storeUnavailable = APIError(
        status: .serviceUnavailable, message: "the database is unavailable; nothing of this request was stored; retry",
        headers: [.retryAfter: "\(storeRetryAfter)"])
    /// Seconds: about how long the store waits for a connection before it gives up.
    static let storeRetryAfter = 2

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Routes.json(["error": ["message": message]], status: status)
        response.headers.append(contentsOf: headers)
        return response
    }
}

extension APIError {
    /// An operator action's refusal, with the status its kind has in the API.
    init(_ error: AdminError) {
        let status: HTTPResponse.Status = switch error.kind {
        case .notFound: .notFound
        case .invalid: .unprocessableContent
        case .conflict: .conflict
        }
        self.init(status: status, message: error.description)
    }
}

/// Turns every error into an ``APIError``: an operator's refusal, a body over the route's limit
/// and Hummingbird's own errors (an unknown path, say; a method an API path lacks is 405) by their status; anything else into ``APIError/unexpected``, with one
/// log line naming the path and the error (never the request's headers or body).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    /// The API's paths and methods, for the 405 of a method a path lacks; nil: every unknown route is 404.
    var methods: APIMethods? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as AdminError {
            throw APIError(error)
        } catch is NIOTooManyBytesError {
            // A body over a route's limit that its handler does not name (a web form).
            throw APIError(status: .contentTooLarge, message: "the request body is larger than this route accepts; send a smaller one")
        } catch let error as HTTPError {
            // A path of the API asked with a method it does not have: 405 and the methods it has.
            if error.status == .notFound, let methods, let refusal = methods.refusal(request.method, path: request.uri.path) { throw refusal }
            throw APIError(status: error.status, message: error.body ?? error.status.reasonPhrase)
        } catch where StoreOutage.isTransient(error) {
            // Logged where it happened (the ingest commit, the dispatcher): not once per request.
            throw APIError.storeUnavailable
        } catch {
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            throw APIError.unexpected
        }
    }
}
