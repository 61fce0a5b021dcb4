import ArgumentParser
import HookRelayCore

#if canImport(Glibc)
import Glibc
#endif

@main
struct HookRelay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hookrelay",
        abstract: "Send security events as signed webhooks, in pipelines, from cron, or as a daemon.",
        discussion: """
            hookrelay reads JSON events (findings, scan completions, asset changes) and works on \
            them in stages that compose in shell pipelines:

              scanner-export | hookrelay filter --min-severity high | hookrelay deliver --url URL

            Diagnostics go to standard error prefixed "hookrelay: "; standard output carries data \
            only. Exit statuses follow sysexits(3): 0 success, 64 usage, 65 invalid input data, \
            66 input missing, 69 endpoint unavailable, 74 I/O error, 75 temporary failure.
            """,
        version: HookRelayVersion.string,
        subcommands: [
            FilterCommand.self, DeliverCommand.self, ServeCommand.self, WebhooksCommand.self, DeliveriesCommand.self,
            MatchCommand.self, TeamsCommand.self, TokensCommand.self, AuditCommand.self, RenderCommand.self, SignCommand.self,
            VerifyCommand.self, ReceiveCommand.self,
        ]
    )

    /// Runs the command; errors are printed as `hookrelay: message` with their sysexits status.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            Diagnostics().report(failure.message)
            Glibc.exit(failure.status.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                let text = fullMessage(for: error)
                if !text.isEmpty { print(text) }
            } else {
                let message = message(for: error)
                if !message.isEmpty {
                    Diagnostics().report(message)
                    if code.rawValue == ExitStatus.usage.rawValue {
                        Diagnostics().report("see 'hookrelay help' or the man pages for usage")
                    }
                }
            }
            Glibc.exit(code.rawValue)
        }
    }
}

/// A failure the command has already described, with its exit status.
struct CommandFailure: Error {
    let status: ExitStatus
    let message: String
}

/// Ends the process with `status`, as the subcommands' `run()` do once their library call returns.
func exitProcess(with status: ExitStatus) throws -> Never {
    throw ExitCode(status.rawValue)
}
