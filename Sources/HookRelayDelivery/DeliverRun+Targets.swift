import HookRelayCore
import HookRelayStore
import Synchronization

/// How one URL's deliveries are sent in a `deliver` run.
struct TargetRoute: Sendable {
    let endpoint: Endpoint
    let sender: HTTPSender
    let headers: [(String, String)]
    let signer: Signer
    let retry: RetryPolicy
}

/// Each URL's settings and route in a `deliver` run: the command line's for the run's own
/// `--url`s, and for the URLs an earlier run spooled, what that run recorded in the spool with
/// the command line's changes (``TargetSettings/Patch``). URLs whose deliveries this run may not
/// send are held: nothing more of theirs is claimed in this run.
final class TargetRoutes: Sendable {
    private struct State {
        var stored: [String: TargetSettings] = [:]
        var routes: [String: Result<TargetRoute, TargetSettings.Problem>] = [:]
        /// One sender (connection pool, address guard) per distinct address rules and timeouts.
        var senders: [TargetSettings: HTTPSender] = [:]
        var held: Set<String> = []
    }

    private let state = Mutex(State())
    private let own: Set<String>
    private let settings: TargetSettings
    private let patch: TargetSettings.Patch

    init(configuration: DeliverRun.Configuration) {
        own = Set(configuration.urls)
        settings = configuration.settings
        patch = configuration.patch
    }

    /// Records the settings of the run's own `urls` in the spool, and reads those of the others.
    func load(spool: SQLiteSpool, urls: [String], now: Int64, diagnostics: Diagnostics) throws {
        try spool.saveTargetSettings(Dictionary(urls.map { ($0, settings.json) }, uniquingKeysWith: { first, _ in first }), now: now)
        var stored: [String: TargetSettings] = [:]
        for (url, json) in try spool.targetSettings() where !own.contains(url) {
            do {
                stored[url] = try TargetSettings(json: json)
            } catch {
                diagnostics.report("\(spool.connection.path): the settings recorded for \(url) do not read (\(error)); sending with this run's options")
            }
        }
        state.withLock { $0.stored = stored }
    }

    func isOwn(_ url: String) -> Bool { own.contains(url) }

    /// The settings `url` is sent with.
    private func settings(for url: String, stored: [String: TargetSettings]) -> TargetSettings {
        if own.contains(url) { return settings }
        return stored[url].map { $0.applying(patch) } ?? settings
    }

    /// The longest attempt any URL of the run may take, plus 30 s: the default lease.
    var longestLease: Duration { longest(DeliverRun.Configuration.defaultLease) }

    /// The longest an attempt to any target may take (``DeliverRun/Configuration/longestAttempt(_:)``).
    var longestAttempt: Duration { longest(DeliverRun.Configuration.longestAttempt) }

    private func longest(_ of: (TargetSettings) -> Duration) -> Duration {
        let stored = state.withLock { $0.stored }
        return stored.keys.map { of(settings(for: $0, stored: stored)) }.reduce(of(settings), max)
    }

    func route(for url: String, configuration: DeliverRun.Configuration) throws(TargetSettings.Problem) -> TargetRoute {
        try state.withLock { state throws(TargetSettings.Problem) -> TargetRoute in
            if let route = state.routes[url] { return try route.get() }
            let result = Result { () throws(TargetSettings.Problem) -> TargetRoute in
                let target = settings(for: url, stored: state.stored)
                let endpoint: Endpoint
                do {
                    endpoint = try Endpoint(url, allowHTTP: target.allowHTTP)
                } catch {
                    throw TargetSettings.Problem(description: "\(error)")
                }
                var key = target
                (key.headers, key.signatureSchemes, key.maxAttempts) = ([], [], 0)
                (key.backoffBaseMilliseconds, key.backoffMaxMilliseconds) = (0, 0)
                let sender: HTTPSender
                if let existing = state.senders[key] {
                    sender = existing
                } else {
                    var senderConfiguration = try target.senderConfiguration(connectionsPerHost: configuration.concurrency)
                    senderConfiguration.proxy = configuration.proxy
                    senderConfiguration.tls = configuration.tls
                    sender = HTTPSender(configuration: senderConfiguration)
                    state.senders[key] = sender
                }
                return TargetRoute(
                    endpoint: endpoint, sender: sender, headers: try target.expandedHeaders(environment: configuration.environment),
                    signer: try target.signer(secrets: configuration.secrets), retry: target.retryPolicy)
            }
            state.routes[url] = result
            return try result.get()
        }
    }

    /// Holds `url` for the rest of the run; true the first time.
    func hold(_ url: String) -> Bool {
        state.withLock { $0.held.insert(url).inserted }
    }

    var held: Set<String> { state.withLock { $0.held } }

    func shutdown() {
        for sender in state.withLock({ Array($0.senders.values) }) { sender.shutdown() }
    }
}
