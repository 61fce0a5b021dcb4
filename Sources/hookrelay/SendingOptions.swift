import ArgumentParser
import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayDelivery
import HookRelayServer

/// Where signing secrets come from: a file, the environment, or (discouraged) the command line.
struct SecretOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "File of webhook secrets (whsec_<base64>), one per line; several while a secret is rotated.", valueName: "file"))
    var secretFile: String?

    @Option(help: ArgumentHelp(
        "A webhook secret on the command line: visible to other users in ps and shell history; prefer --secret-file or HOOKRELAY_SECRET.",
        valueName: "secret"))
    var secret: String?

    /// The secrets: --secret-file, else --secret, else HOOKRELAY_SECRET; none means unsigned.
    func secrets() throws -> [WebhookSecret] {
        do {
            if let secretFile {
                guard FileManager.default.isReadableFile(atPath: secretFile) else {
                    throw CommandFailure(status: .noInput, message: "\(secretFile): the secret file cannot be read; check the --secret-file path and its permissions")
                }
                return try WebhookSecret.load(file: secretFile)
            }
            if let secret { return try WebhookSecret.parse(list: secret, source: "--secret") }
            if let value = ProcessInfo.processInfo.environment["HOOKRELAY_SECRET"], !value.isEmpty {
                return try WebhookSecret.parse(list: value, source: "HOOKRELAY_SECRET")
            }
        } catch let error as SecretFileError {
            throw ValidationError(error.description)
        }
        return []
    }
}

/// Secrets and the signature formats to send.
struct SigningOptions: ParsableArguments {
    @OptionGroup var secretOptions: SecretOptions

    @Option(
        name: .customLong("signature-scheme"),
        help: ArgumentHelp(
            "Signatures to send: 'standard' (webhook-signature), 'github' (X-Hub-Signature-256), or both comma-separated (default standard).",
            valueName: "scheme"))
    var schemes: [String] = []

    func secrets() throws -> [WebhookSecret] { try secretOptions.secrets() }

    /// The schemes given, in order, or `standard` when none is.
    func chosenSchemes() throws -> [Signer.Scheme] {
        var chosen: [Signer.Scheme] = []
        for name in schemes.flatMap({ $0.split(separator: ",") }) {
            guard let scheme = Signer.Scheme(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw ValidationError("--signature-scheme '\(name)' is not known; use standard, github, or standard,github")
            }
            if !chosen.contains(scheme) { chosen.append(scheme) }
        }
        return chosen.isEmpty ? [.standard] : chosen
    }

    func signer() throws -> Signer {
        let chosen = Set(try chosenSchemes())
        let secrets = try secrets()
        if secrets.isEmpty, chosen.contains(.github) {
            throw ValidationError("--signature-scheme github needs a secret (--secret-file or HOOKRELAY_SECRET)")
        }
        return Signer(secrets: secrets, schemes: chosen)
    }
}

/// The retry schedule.
struct RetryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Attempts per event and URL, the first included (default 8).", valueName: "n"))
    var maxAttempts: Int?

    @Option(help: ArgumentHelp(
        "First retry delay ceiling; it doubles each attempt (0.5, 500ms, 30s, 5m, 2h; default 1s).", valueName: "duration"))
    var backoffBase: String?

    @Option(help: ArgumentHelp("Largest delay between attempts; also caps Retry-After (default 5m).", valueName: "duration"))
    var backoffMax: String?

    func policy() throws -> RetryPolicy {
        let attempts = maxAttempts ?? 8
        guard attempts >= 1, attempts <= 100 else { throw ValidationError("--max-attempts must be between 1 and 100") }
        let base = try parseDuration(backoffBase ?? "1s", option: "--backoff-base")
        let cap = try parseDuration(backoffMax ?? "5m", option: "--backoff-max")
        guard base <= cap else {
            throw ValidationError("--backoff-base (\(backoffBase ?? "1s")) is larger than --backoff-max (\(backoffMax ?? "5m"))")
        }
        return RetryPolicy(maxAttempts: attempts, base: base, cap: cap)
    }

    func validate() throws { _ = try policy() }

    /// The schedule as `--print-schedule` shows it.
    static func describe(_ policy: RetryPolicy) -> String {
        let (delays, worst) = policy.schedule
        var lines = ["attempt 1: at once"]
        var total = Duration.zero
        for (index, delay) in delays.enumerated() {
            total += delay
            lines.append("attempt \(index + 2): up to \(delay.shortDescription) after attempt \(index + 1) (at most \(total.shortDescription) after the first)")
        }
        lines.append("worst case: the last attempt ends within \(worst.shortDescription) of the first, plus the attempts' own time")
        lines.append("delays are random between 0 and the ceiling shown (full jitter); Retry-After on 429/503 raises a delay up to the ceiling of --backoff-max")
        return lines.joined(separator: "\n")
    }
}

/// Timeouts, address rules and plain HTTP.
struct SendingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Limit for a whole attempt: connect, send, and read the response (default 15s).", valueName: "duration"))
    var timeout: String?

    @Option(help: ArgumentHelp("Limit for connecting (default 5s).", valueName: "duration"))
    var connectTimeout: String?

    @Flag(help: "Allow plain http:// URLs (for testing: events and signatures travel unencrypted).")
    var allowHTTP = false

    @Option(
        name: .customLong("allow-cidr"),
        help: ArgumentHelp("Allow sending to addresses in this otherwise blocked range, e.g. 10.1.2.0/24 (repeatable).", valueName: "cidr"))
    var allowCIDRs: [String] = []

    @Flag(help: "Allow the private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); loopback and link-local stay blocked.")
    var allowPrivate = false

    func validate() throws {
        _ = try configuration(headers: [], concurrency: 1)
    }

    func configuration(headers: [(String, String)], concurrency: Int) throws -> SenderConfiguration {
        var ranges: [CIDR] = []
        for text in allowCIDRs {
            guard let range = CIDR(text) else {
                throw ValidationError("--allow-cidr '\(text)' is not an address range; write it as 10.0.0.0/8 or fd00::/8")
            }
            ranges.append(range)
        }
        if allowPrivate { ranges += AddressGuard.privateRanges }
        let timeout = try parseDuration(timeout ?? "15s", option: "--timeout")
        let connect = try parseDuration(connectTimeout ?? "5s", option: "--connect-timeout")
        guard timeout > .zero, connect > .zero else { throw ValidationError("--timeout and --connect-timeout must be above zero") }
        return SenderConfiguration(
            connectTimeout: connect, timeout: timeout, allowHTTP: allowHTTP,
            addressGuard: AddressGuard(allowed: ranges), headers: headers, connectionsPerHost: concurrency)
    }
}

extension SendingOptions {
    /// Merges these flags into the settings of `serve` (or an admin command working on its
    /// database): the timeouts given override the config file's; --allow-http, --allow-cidr
    /// and --allow-private add to what it allows.
    func apply(to configuration: inout ServeConfiguration) throws {
        let flags = try self.configuration(headers: [], concurrency: configuration.perWebhookConcurrency)
        if allowHTTP { configuration.sender.allowHTTP = true }
        configuration.sender.addressGuard.allowed += flags.addressGuard.allowed
        if timeout != nil { configuration.sender.timeout = flags.timeout }
        if connectTimeout != nil { configuration.sender.connectTimeout = flags.connectTimeout }
    }
}

/// Parses a duration option or says how to write one.
func parseDuration(_ text: String, option: String) throws -> Duration {
    guard let duration = Duration(parsing: text) else {
        throw ValidationError("\(option) '\(text)' is not a duration; use seconds (0.5) or a unit: 500ms, 30s, 5m, 2h")
    }
    return duration
}
