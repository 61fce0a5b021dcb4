import HTTPTypes
import Hummingbird
import NIOCore

/// The request context of `serve`'s routes: Hummingbird's basics, plus the connection, so a
/// route can tell which client asked (``client``) and whether it is still there.
struct ServeRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// Who called, once ``BearerAuth`` has accepted the token.
    var principal: Principal?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    var remoteAddress: SocketAddress? { channel.remoteAddress }

    /// The caller of a route behind ``BearerAuth``.
    func caller() throws -> Principal {
        guard let principal else { throw APIError(status: .unauthorized, message: "a valid API token is required: send Authorization: Bearer TOKEN") }
        return principal
    }

    /// Reads the web page's form posts (``SessionForm``); the API reads its JSON bodies itself.
    var requestDecoder: URLEncodedFormDecoder { URLEncodedFormDecoder() }

    /// The largest form body read (1 MiB); the API's bodies have limits of their own.
    var maxUploadSize: Int { 1 << 20 }

    /// The client as the backoff on wrong tokens counts it: its IP address; behind a declared
    /// TLS proxy, the last address the proxy added to `X-Forwarded-For`.
    func client(_ request: Request, behindProxy: Bool) -> String {
        if behindProxy, let forwarded = request.headers[values: .xForwardedFor].last,
           let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty {
            return last
        }
        return remoteAddress?.ipAddress ?? "unknown"
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
