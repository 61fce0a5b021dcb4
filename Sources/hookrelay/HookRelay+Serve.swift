import ArgumentParser
import HookRelayAdmin
import HookRelayCore
import HookRelayServer
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: durable event ingest over HTTP, webhook subscriptions, delivery with retries.",
        discussion: """
            Stores every event POSTed to /v1/events in a SQLite database before answering 202, \
            and delivers it to each enabled webhook whose filter it matches, signed per Standard \
            Webhooks, with retries on a schedule (5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h, 24h, +-20%). \
            Webhooks turn unhealthy after repeated failures and disabled after failing for days or \
            on 410. SIGTERM or SIGINT stop it gracefully. The API and config keys are in \
            hookrelay-serve(1).

            One serve per SQLite database: a second is refused, naming the first one's pid \
            (DB.lock). Nothing is created before the listen address is bound.

            Exit status: 0 stopped by a signal; 64 usage or configuration error; 69 the address \
            cannot be listened on, or another serve uses the database; 74 the database cannot be \
            opened or written.
            """
    )

    @Option(help: ArgumentHelp(
        "SQLite database file (created and migrated on first start), or a postgres:// URL (default: HOOKRELAY_DB, else the config's db, else hookrelay.db).",
        valueName: "path|url"))
    var db: String?

    @Option(help: ArgumentHelp("Address to listen on, HOST:PORT (default 127.0.0.1:8080; port 0 picks a free one).", valueName: "host:port"))
    var listen: String?

    @Option(help: ArgumentHelp("TOML or JSON config file; flags override its keys.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp(
        "File holding the API token (default: HOOKRELAY_TOKEN, else DB.token, generated on the first start).",
        valueName: "file"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("Log lines as 'text' or 'json' (on standard error).", valueName: "format"))
    var logFormat: String?

    @Option(help: ArgumentHelp("Deliveries in flight at once (default 32).", valueName: "n"))
    var concurrency: Int?

    @OptionGroup(title: "Sending") var sending: SendingOptions

    func run() async throws {
        var configuration = ServeConfiguration()
        do {
            if let config { try configuration.apply(file: config) }
            configuration.setDatabase(flag: db)
            if let listen { try configuration.setListen(listen) }
            if let tokenFile { configuration.tokenFile = tokenFile }
        } catch let problem as ServeConfiguration.Problem {
            throw ValidationError(problem.description)
        }
        if let logFormat {
            guard let format = ServeConfiguration.LogFormat(rawValue: logFormat) else {
                throw ValidationError("--log-format must be 'text' or 'json'")
            }
            configuration.logFormat = format
        }
        if let concurrency {
            guard (1...4096).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 4096") }
            configuration.concurrency = concurrency
        }
        try sending.apply(to: &configuration)
        do {
            try configuration.checkLease()
        } catch let problem as ServeConfiguration.Problem {
            // Only the config file sets a lease.
            throw ValidationError("\(config ?? "config"): \(problem.description)")
        }

        let format = configuration.logFormat
        LoggingSystem.bootstrap { _ in LineLogHandler(format: format) }
        let logger = Logger(label: "hookrelay")
        do {
            try await HookRelayServer.run(configuration, logger: logger)
        } catch let problem as ServeConfiguration.Problem {
            throw CommandFailure(status: .usage, message: problem.description)
        } catch let problem as ServeStartupError {
            throw CommandFailure(status: problem.exitStatus, message: problem.description)
        } catch {
            throw CommandFailure(
                status: .ioError,
                message: "serve on \(configuration.host):\(configuration.port) with \(Database.displayName(configuration.database)) stopped: \(error)")
        }
    }
}
