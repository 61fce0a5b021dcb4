import ArgumentParser
import HookRelayAdmin
import HookRelayCore
import HookRelayServer

#if canImport(Glibc)
import Glibc
#endif

/// `hookrelay match`: which webhooks an event goes to, and why not the others.
struct MatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Read one event on standard input and show which webhooks of hookrelay serve it goes to, and why not the others.",
        discussion: """
            Each webhook's result is would_send, held (the webhook is paused), skipped (it is disabled) \
            or excluded, with the part of its filter that excluded the event. Nothing is stored \
            or sent. See hookrelay-match(1).

            Exit status: 0 success; 64 usage; 65 the input is not one valid JSON event; 66 no such \
            database; 74 a database error.
            """
    )

    @Option(help: ArgumentHelp("Only this team's webhooks (an event reaches its team's only).", valueName: "team"))
    var team: String?

    @OptionGroup(title: "Database") var store: StoreOptions

    func run() async throws {
        try await AdminRun.run {
            let admin = try store.admin()
            if let team { _ = try await admin.team(team) }
            let event = try readStandardInput(limit: admin.configuration.maxEventBytes)
            let reports = try await admin.match(event, team: team)
            return store.output(json: AdminJSON.match(reports), text: AdminText.match(reports))
        }
    }

    /// Standard input, refused when larger than `limit` (max_event_bytes, as the API does).
    func readStandardInput(limit: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else {
                throw CommandFailure(status: .ioError, message: "standard input: \(String(cString: strerror(errno)))")
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            if bytes.count > limit {
                throw CommandFailure(
                    status: .dataError, message: "the event is larger than max_event_bytes (\(ByteCount.format(limit)))")
            }
        }
    }
}
