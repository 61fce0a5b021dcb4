import HookRelayCore

/// The settings of `hookrelay receive`, a webhook receiver for trying senders out.
public struct ReceiveConfiguration: Sendable {
    /// The address to listen on; port 0 picks a free one (reported on standard error).
    public var host: String
    public var port: Int
    /// Standard Webhooks secrets; a signature matching any of them verifies (rotation).
    public var secrets: [WebhookSecret]
    /// Accept requests without checking any signature (and then no secret is needed).
    public var acceptUnsigned: Bool
    /// Largest accepted distance in seconds between `webhook-timestamp` and now.
    public var tolerance: Int64
    /// The answer to a verified request; outside 2xx the event is not written.
    public var status: Int
    /// The first this many verified requests are answered 503 and not written.
    public var failFirst: Int
    /// Larger bodies are answered 413.
    public var maxBodyBytes: Int
    /// Write `{"headers":{…},"body":EVENT}` instead of the event alone.
    public var includeHeaders: Bool
    /// How many recent webhook-ids are remembered to write each event once.
    public var rememberedIDs: Int

    public static let defaultRememberedIDs = 100_000

    public init(
        host: String = "127.0.0.1", port: Int = 9000, secrets: [WebhookSecret] = [], acceptUnsigned: Bool = false,
        tolerance: Int64 = 300, status: Int = 204, failFirst: Int = 0, maxBodyBytes: Int = 1 << 20,
        includeHeaders: Bool = false, rememberedIDs: Int = Self.defaultRememberedIDs
    ) {
        self.host = host
        self.port = port
        self.secrets = secrets
        self.acceptUnsigned = acceptUnsigned
        self.tolerance = tolerance
        self.status = status
        self.failFirst = failFirst
        self.maxBodyBytes = maxBodyBytes
        self.includeHeaders = includeHeaders
        self.rememberedIDs = rememberedIDs
    }

    /// `host:port` as a URL writes it (`[::1]:9000`).
    func address(port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Why `hookrelay receive` stopped other than by a signal or a closed standard output.
public enum ReceiveError: Error, Sendable, CustomStringConvertible {
    /// The listen socket could not be bound (address in use, no permission, unknown host).
    case cannotListen(address: String, reason: String)
    /// Standard output could not be written.
    case output(OutputError)
    /// The server failed while running.
    case failed(String)

    public var description: String {
        switch self {
        case let .cannotListen(address, reason):
            return "cannot listen on \(address): \(reason); choose another --listen address (port 0 picks a free one)"
        case let .output(error): return "\(error); stopped"
        case let .failed(reason): return "the receiver stopped: \(reason)"
        }
    }

    /// The sysexits(3) status to end with.
    public var exitStatus: ExitStatus {
        switch self {
        case .cannotListen: return .unavailable
        case .output, .failed: return .ioError
        }
    }
}
