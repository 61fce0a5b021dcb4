import ArgumentParser
import Foundation
import HookRelayCore
import HookRelayDelivery

struct DeliverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver",
        abstract: "POST JSON events to webhook URLs, signed, with retries and an optional durable spool.",
        discussion: """
            Reads events like 'filter' does and POSTs each, byte for byte, to every --url, signed \
            per Standard Webhooks. Failed attempts (non-2xx, timeouts, refused connections) are \
            retried with exponential backoff and full jitter. Prints one NDJSON result line per \
            event and URL: webhook_id, url, status (delivered, failed, pending), attempts, \
            http_status, error, latency_ms.

            With --spool FILE every event is committed to a SQLite file before it is sent, so an \
            interrupted run loses nothing: 'hookrelay deliver --spool FILE --drain' (from cron) \
            sends what is due.

            A drain sends each URL's deliveries as the spooling run asked (the spool records its \
            address rules, headers as given, signature schemes, timeouts and retries; secrets and \
            ${VAR} values come from the drain's environment), and holds back what it may not send.

            Exit status: 0 all delivered; 64 usage error; 65 invalid input records; 66 an input \
            file is missing; 69 a URL is gone (410), not allowed, or held back by a drain; 74 I/O \
            error; 75 some deliveries are still pending or failed (run again, or --retry-failed).
            """
    )

    @Option(name: .customLong("url"), help: ArgumentHelp("Webhook URL to POST every event to (repeatable).", valueName: "url"))
    var urls: [String] = []

    @Option(
        name: .customLong("header"),
        help: ArgumentHelp("Extra request header 'Name: value' (repeatable); ${VAR} in the value is read from the environment.", valueName: "header"))
    var headers: [String] = []

    @OptionGroup(title: "Signing") var signing: SigningOptions

    @OptionGroup(title: "Payload") var templates: TemplateOptions

    @OptionGroup(title: "Digest") var digest: DigestOptions

    @OptionGroup(title: "Retries") var retries: RetryOptions

    @OptionGroup(title: "Sending") var sending: SendingOptions

    @OptionGroup(title: "Proxy and TLS") var egress: EgressOptions

    @OptionGroup(title: "De-duplication") var dedupe: DedupeOptions

    @Option(help: ArgumentHelp("Deliveries in flight at once.", valueName: "n"))
    var concurrency: Int = 16

    @Option(help: ArgumentHelp("SQLite spool file: events are committed here before they are sent.", valueName: "file"))
    var spool: String?

    @Flag(help: "Send what the spool holds that is due, without reading input (what cron runs).")
    var drain = false

    @Flag(help: "Put the spool's failed deliveries back in the queue, then drain.")
    var retryFailed = false

    @Option(help: ArgumentHelp(
        "With --spool: how long to stay for retries not yet due ('forever' by default, 0 with --drain); what is left stays pending in the spool.",
        valueName: "duration"))
    var wait: String?

    @Option(help: ArgumentHelp(
        "With --spool: how long a claim holds a delivery before another process may send it (default: --timeout + --connect-timeout + 30s).",
        valueName: "duration"))
    var lease: String?

    @Option(help: ArgumentHelp(
        "With --spool: at the end of the run, delete the deliveries that finished longer ago than this, their attempts, and events with nothing left to send (0 deletes every finished one).",
        valueName: "age"))
    var prune: String?

    @Flag(help: "Print no result lines and no summary.")
    var quiet = false

    @Flag(help: "Print the retry schedule these options give, and exit.")
    var printSchedule = false

    @Flag(help: "Send without a signature (no secret given): only for receivers that check nothing.")
    var unsigned = false

    @OptionGroup(title: "Input") var input: InputOptions

    /// The checks that need every option: run from `run()`, after the parser has refused unknown
    /// options (ArgumentParser calls `validate()` before it reports those, so a mistyped
    /// `--alow-http` was answered "give at least one --url").
    func checkOptions() throws {
        if printSchedule { return }
        if digest.digest.map({ $0 != "off" }) == true, dedupe.dedupeWindow != nil {
            throw ValidationError("--digest and --dedupe-window cannot be used together yet; de-duplicate with filter --unique before deliver --digest")
        }
        if drain || retryFailed {
            guard spool != nil else { throw ValidationError("--drain and --retry-failed work on a spool; give --spool FILE") }
            guard urls.isEmpty else { throw ValidationError("--drain sends to the URLs stored in the spool; leave out --url") }
            guard input.files.isEmpty else { throw ValidationError("--drain reads no input; leave out the input files") }
            guard templates.template == "raw", templates.variables.isEmpty else {
                throw ValidationError("the spool holds bodies rendered when they were spooled; leave out --template with --drain")
            }
            guard digest.digest == nil else { throw ValidationError("--digest gathers the input's events; --drain reads none") }
            guard dedupe.dedupeWindow == nil else {
                throw ValidationError("--dedupe-window decides as events are read; --drain reads none (what the spool holds was decided when it was spooled)")
            }
            guard headers.isEmpty, signing.schemes.isEmpty else {
                throw ValidationError(
                    "the spool remembers each URL's headers and signature schemes from the run that spooled it; leave out --header and --signature-scheme with --drain")
            }
        } else if urls.isEmpty {
            throw ValidationError("give at least one --url to deliver to (or --spool FILE --drain)")
        }
        guard concurrency >= 1, concurrency <= 4096 else { throw ValidationError("--concurrency must be between 1 and 4096") }
        if let wait {
            guard spool != nil else {
                throw ValidationError("--wait needs --spool: without one, unsent events would be lost, so the run stays until every event is delivered or failed")
            }
            guard wait == "forever" || Duration(parsing: wait) != nil else {
                throw ValidationError("--wait '\(wait)' is not a duration; use seconds or a unit (30s, 5m, 2h) or 'forever'")
            }
        }
        if let prune {
            guard spool != nil else { throw ValidationError("--prune needs --spool: without one, nothing is kept after the run") }
            guard Duration(parsing: prune) != nil else {
                throw ValidationError("--prune '\(prune)' is not a duration; use seconds or a unit (30s, 12h, 30d)")
            }
        }
        if let lease {
            guard spool != nil else { throw ValidationError("--lease needs --spool: only a spool is shared with other processes") }
            _ = try leaseDuration(lease)
        }
        for url in urls {
            do {
                _ = try Endpoint(url, allowHTTP: sending.allowHTTP)
            } catch {
                throw ValidationError(error.description)
            }
        }
        _ = try givenHeaders()
        _ = try templates.payloadTemplate()
        _ = try egress.egressProxy()
        _ = try egress.tls()
    }

    /// What the command line gives: the settings of its own URLs, and on a drain what changes
    /// those the spool recorded (ranges added, timeouts and retries replaced).
    func patch() throws -> TargetSettings.Patch {
        let sender = try sending.configuration(headers: [], concurrency: 1)
        let policy = try retries.policy()
        var patch = TargetSettings.Patch()
        patch.allowHTTP = sending.allowHTTP
        patch.allowCIDR = sender.addressGuard.allowed.map(\.description)
        if sending.timeout != nil { patch.timeoutMilliseconds = sender.timeout.milliseconds }
        if sending.connectTimeout != nil { patch.connectTimeoutMilliseconds = sender.connectTimeout.milliseconds }
        if retries.maxAttempts != nil { patch.maxAttempts = policy.maxAttempts }
        if retries.backoffBase != nil { patch.backoffBaseMilliseconds = policy.base.milliseconds }
        if retries.backoffMax != nil { patch.backoffMaxMilliseconds = policy.cap.milliseconds }
        return patch
    }

    /// `--lease`, refused when shorter than an attempt may take: another process could then
    /// send a delivery whose attempt is still running.
    func leaseDuration(_ text: String) throws -> Duration {
        let lease = try parseDuration(text, option: "--lease")
        let sender = try sending.configuration(headers: [], concurrency: 1)
        let attempt = sender.timeout + sender.connectTimeout
        guard lease >= attempt else {
            throw ValidationError("--lease (\(text)) must be at least --timeout + --connect-timeout (\(attempt.shortDescription))")
        }
        return lease
    }

    /// `--header` lines as the spool records them (`${VAR}` unexpanded), read and checked as
    /// every header is (``HeaderField/parseLines(_:)``), and checked again with `${VAR}` taken
    /// from the environment, as a drain of the spool would send them.
    func givenHeaders() throws -> [TargetSettings.Header] {
        do {
            var settings = TargetSettings()
            settings.headers = try HeaderField.parseLines(headers).map { TargetSettings.Header(name: $0.name, value: $0.value) }
            _ = try settings.expandedHeaders(environment: ProcessInfo.processInfo.environment)
            return settings.headers
        } catch {
            throw ValidationError("--header: \(error)")
        }
    }

    func run() async throws {
        try checkOptions()
        signal(SIGPIPE, SIG_IGN)
        let policy = try retries.policy()
        if printSchedule {
            print(RetryOptions.describe(policy))
            return
        }
        var configuration = DeliverRun.Configuration()
        configuration.mode = retryFailed ? .retryFailed : drain ? .drain : .send
        configuration.records = input.records
        configuration.urls = urls
        configuration.template = try templates.payloadTemplate()
        configuration.digest = try digest.settings(template: templates.template)
        let signer = try signing.signer()
        if signer.isUnsigned, !unsigned, !(drain || retryFailed) {
            throw ValidationError(
                "no signing secret: give --secret-file FILE or HOOKRELAY_SECRET (whsec_...), or --unsigned to send unsigned requests")
        }
        if unsigned, !signer.isUnsigned {
            throw ValidationError("--unsigned and a secret (--secret-file, --secret or HOOKRELAY_SECRET) contradict; drop one")
        }
        configuration.secrets = signer.secrets
        configuration.patch = try patch()
        var settings = TargetSettings().applying(configuration.patch)
        settings.headers = try givenHeaders()
        settings.signatureSchemes = unsigned ? [] : try signing.chosenSchemes().map(\.rawValue)
        configuration.settings = settings
        configuration.concurrency = concurrency
        configuration.proxy = try egress.egressProxy()
        configuration.tls = try egress.tls()
        configuration.spool = spool
        configuration.lease = try lease.map(leaseDuration)
        configuration.prune = prune.flatMap { Duration(parsing: $0) }
        switch wait {
        case "forever": configuration.wait = nil
        case let text?: configuration.wait = Duration(parsing: text)
        case nil: configuration.wait = (drain || retryFailed) ? .zero : nil
        }
        if let window = try dedupe.window() {
            configuration.dedupe = DeliverDedupe(
                window: window, ignoresSeverity: dedupe.dedupeIgnoresSeverity == true, rule: try dedupe.fingerprint.checkedRule(),
                layout: configuration.layout)
        }
        configuration.quiet = quiet
        configuration.progress = isatty(2) == 1
        let status = await DeliverRun(configuration: configuration).run(output: OutputBuffer(fd: 1))
        try exitProcess(with: status)
    }
}
