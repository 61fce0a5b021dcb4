import ArgumentParser
import HookRelayAdmin
import HookRelayCore
import HookRelayServer

#if canImport(Glibc)
import Glibc
#endif

struct ReceiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Receive webhooks: check each request's signature and write each event once to standard output.",
        discussion: """
            Listens for webhook POSTs, checks each one's Standard Webhooks signature and timestamp \
            (or GitHub's x-hub-signature-256) against the secrets, answers 204, and writes each \
            verified event to standard output as one NDJSON line, flushed at once. A webhook-id \
            already written (among the last 100,000) is acknowledged again but not written twice. \
            Refused requests (401, 400, 405, 413) get a line on standard error with the reason. \
            SIGTERM or SIGINT stop it. See hookrelay-receive(1).

              hookrelay receive --listen 127.0.0.1:9000 --secret-file secret | hookrelay filter --event finding

            Exit status: 0 stopped by a signal or a closed standard output; 64 usage error; \
            66 the secret file cannot be read; 69 the address cannot be listened on; 74 standard \
            output cannot be written.
            """
    )

    @Option(help: ArgumentHelp("Address to listen on, HOST:PORT (port 0 picks a free one, reported on standard error).", valueName: "host:port"))
    var listen: String = "127.0.0.1:9000"

    @OptionGroup(title: "Secrets") var secretOptions: SecretOptions

    @Flag(help: "Accept requests without checking any signature (no secret needed; for trying senders out only).")
    var unsigned = false

    @Option(help: ArgumentHelp("Largest accepted distance between webhook-timestamp and now.", valueName: "duration"))
    var tolerance: String = "5m"

    @Option(help: ArgumentHelp("HTTP status to answer verified requests with; outside 2xx their events are not written.", valueName: "code"))
    var status: Int = 204

    @Option(help: ArgumentHelp("Answer the first N verified requests 503 without writing them, to rehearse retries.", valueName: "n"))
    var failFirst: Int = 0

    @Flag(help: "Write {\"headers\":{...},\"body\":EVENT} lines instead of the events alone.")
    var headers = false

    @Option(help: ArgumentHelp("Largest accepted body; larger ones are answered 413 (bytes, or with k, M or G).", valueName: "size"))
    var maxBody: String = "1M"

    func run() async throws {
        var configuration = ReceiveConfiguration()
        do {
            // The same HOST:PORT rules as serve's --listen.
            var address = ServeConfiguration()
            try address.setListen(listen)
            configuration.host = address.host
            configuration.port = address.port
        } catch let problem as ServeConfiguration.Problem {
            throw ValidationError("--listen: \(problem.description)")
        }
        guard (200...599).contains(status) else { throw ValidationError("--status must be an HTTP status between 200 and 599") }
        guard failFirst >= 0 else { throw ValidationError("--fail-first must be 0 or more") }
        guard let maxBodyBytes = ByteCount.parse(maxBody) else {
            throw ValidationError("--max-body '\(maxBody)' is not a size; give bytes or a number with k, M or G (e.g. 1M)")
        }
        let tolerance = try parseDuration(tolerance, option: "--tolerance")
        let secrets = try secretOptions.secrets()
        if secrets.isEmpty, !unsigned {
            throw ValidationError(
                "no secret: give --secret-file FILE or HOOKRELAY_SECRET (whsec_...), or --unsigned to accept unsigned requests")
        }
        if unsigned, !secrets.isEmpty {
            throw ValidationError("--unsigned and a secret (--secret-file, --secret or HOOKRELAY_SECRET) contradict; drop one")
        }
        configuration.secrets = secrets
        configuration.acceptUnsigned = unsigned
        configuration.tolerance = tolerance.components.seconds
        configuration.status = status
        configuration.failFirst = failFirst
        configuration.maxBodyBytes = maxBodyBytes
        configuration.includeHeaders = headers

        // A closed standard output is reported by write(2), and stops the receiver quietly.
        signal(SIGPIPE, SIG_IGN)
        do throws(ReceiveError) {
            try await Receive(configuration: configuration).run()
        } catch {
            throw CommandFailure(status: error.exitStatus, message: error.description)
        }
    }
}
