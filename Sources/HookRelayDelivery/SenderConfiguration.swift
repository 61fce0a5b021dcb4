import HookRelayCore

/// How hookrelay sends: timeouts, plain-HTTP and address rules, fixed headers.
public struct SenderConfiguration: Sendable {
    public var connectTimeout: Duration
    /// The whole attempt: connecting, sending, and reading the response.
    public var timeout: Duration
    public var allowHTTP: Bool
    public var addressGuard: AddressGuard
    /// Extra headers sent with every request.
    public var headers: [(String, String)]
    /// The most response-body bytes read before the connection is dropped.
    public var maxResponseBytes: Int
    /// Connections kept per host.
    public var connectionsPerHost: Int
    /// The proxy requests go through (config `proxy`, `--proxy`); nil: straight to the receiver.
    public var proxy: EgressProxy?
    /// Client certificate and trust added for every receiver (config `ca_file`, `deliver`'s
    /// `--client-cert`, `--client-key`, `--ca-file`); a webhook's own replace parts of it.
    public var tls: TLSOptions

    public init(
        connectTimeout: Duration = .seconds(5),
        timeout: Duration = .seconds(15),
        allowHTTP: Bool = false,
        addressGuard: AddressGuard = AddressGuard(),
        headers: [(String, String)] = [],
        maxResponseBytes: Int = 64 << 10,
        connectionsPerHost: Int = 64,
        proxy: EgressProxy? = nil,
        tls: TLSOptions = TLSOptions()
    ) {
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.allowHTTP = allowHTTP
        self.addressGuard = addressGuard
        self.headers = headers
        self.maxResponseBytes = maxResponseBytes
        self.connectionsPerHost = connectionsPerHost
        self.proxy = proxy
        self.tls = tls
    }
}

/// The result of one HTTP attempt.
public struct SendResult: Sendable {
    public typealias Verdict = AttemptVerdict

    public var verdict: Verdict
    public var httpStatus: Int?
    public var error: String?
    public var latencyMilliseconds: Int
    public var responseBody: [UInt8]
    /// From `Retry-After` on 429 and 503.
    public var retryAfter: Duration?
    /// No response in time: the connect timeout or the attempt's deadline ran out.
    public var timedOut = false

    public init(
        verdict: Verdict, httpStatus: Int? = nil, error: String? = nil, latencyMilliseconds: Int = 0, responseBody: [UInt8] = [],
        retryAfter: Duration? = nil, timedOut: Bool = false
    ) {
        self.verdict = verdict
        self.httpStatus = httpStatus
        self.error = error
        self.latencyMilliseconds = latencyMilliseconds
        self.responseBody = responseBody
        self.retryAfter = retryAfter
        self.timedOut = timedOut
    }
}

/// Refused before connecting: the SSRF guard's answer.
public struct BlockedAddress: Error, Sendable, CustomStringConvertible {
    public let host: String
    public let address: IPAddress
    public let range: CIDR

    public var description: String {
        let allow = address.isIPv4 ? "\(address)/32" : "\(address)/128"
        let isPrivate = AddressGuard.privateRanges.contains(range)
        return "address \(address) of \(host) is in the blocked range \(range); allow it with --allow-cidr \(allow)"
            + (isPrivate ? " (or --allow-private for all private ranges)" : "")
    }
}
