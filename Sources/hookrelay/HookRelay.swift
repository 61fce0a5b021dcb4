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
        subcommands: [FilterCommand.self]
    )
}

/// Ends the process with `status`, as the subcommands' `run()` do once their library call returns.
func exitProcess(with status: ExitStatus) throws -> Never {
    throw ExitCode(status.rawValue)
}
