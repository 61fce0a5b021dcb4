import ArgumentParser
import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayServer
import HookRelayStore

/// `hookrelay deliveries …`: the delivery log of `serve`, read and retried in its database file.
struct DeliveriesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries",
        abstract: "List and show the deliveries of hookrelay serve, with their attempts, and retry one.",
        discussion: """
            Works on the SQLite database of hookrelay serve (--db, or the db of --config) through \
            the same functions as its HTTP API, with no API token, also while serve runs. Output \
            is a table with aligned columns, or the API's JSON with --json. See hookrelay-deliveries(1).

            Exit status: 0 success; 64 usage; 66 no such database, webhook or delivery; 69 the \
            retry was not delivered; 74 a database error; 75 an attempt of that delivery is in progress.
            """,
        subcommands: [List.self, Show.self, Retry.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List deliveries, newest first, a page at a time.",
            discussion: "When more remain, the --cursor of the next page is said on standard error.")

        @Option(help: ArgumentHelp("Only the deliveries of this webhook.", valueName: "id"))
        var webhook: String?

        @Option(help: ArgumentHelp("Only deliveries in this status: pending, delivered, failed, skipped, suppressed or digested.", valueName: "status"))
        var status: String?

        @Option(help: ArgumentHelp(
            "Only deliveries of events stored since: an RFC 3339 time, Unix seconds, or a duration ago (24h).", valueName: "time"))
        var since: String?

        @Option(help: ArgumentHelp("Deliveries per page, 1 to 1000.", valueName: "n"))
        var limit: Int = AdminJSON.defaultPageLimit

        @Option(help: ArgumentHelp("Where the page starts: the cursor the previous page gave.", valueName: "cursor"))
        var cursor: String?

        @Option(help: ArgumentHelp("Only the deliveries of this team's webhooks.", valueName: "team")) var team: String?

        @OptionGroup(title: "Database") var store: StoreOptions

        func validate() throws {
            if let status, DeliveryStatus(rawValue: status) == nil {
                throw ValidationError("--status '\(status)' must be \(DeliveryStatus.names)")
            }
            guard AdminJSON.pageLimits.contains(limit) else {
                throw ValidationError("--limit must be from \(AdminJSON.pageLimits.lowerBound) to \(AdminJSON.pageLimits.upperBound)")
            }
            if let cursor, (Int64(cursor) ?? 0) <= 0 { throw ValidationError("--cursor '\(cursor)' is not one a page gave") }
        }

        func run() async throws {
            let since = try since.map { try parseTime($0, option: "--since") }
            try await AdminRun.run {
                let admin = try store.admin()
                let webhook = try await webhook.asyncMap { try await admin.webhookID(matching: $0) }
                if let team { _ = try await admin.team(team) }
                let page = try await admin.deliveries(
                    webhook: webhook, team: team, status: status.flatMap(DeliveryStatus.init(rawValue:)), since: since,
                    before: cursor.flatMap { Int64($0) }, limit: limit)
                if !store.json, let next = AdminJSON.nextCursor(page, limit: limit) {
                    Diagnostics().report("more deliveries: the next page is --cursor \(next)")
                }
                return store.output(json: AdminJSON.deliveries(page, limit: limit), text: AdminText.deliveries(page))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a delivery, its attempts with their responses, and its event as received.")

        @OptionGroup var delivery: DeliveryArgument
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            let id = try delivery.number
            try await AdminRun.run {
                let detail = try await store.admin().delivery(id)
                return store.output(json: AdminJSON.delivery(detail), text: AdminText.delivery(detail))
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make one attempt of a delivery now, whatever its status, and print how it went.",
            discussion: """
                A failure leaves a pending delivery on its schedule and any other one failed. Exits \
                with status 69 when the receiver did not answer 2xx.
                """)

        @OptionGroup var delivery: DeliveryArgument
        @OptionGroup(title: "Database") var store: StoreOptions
        @OptionGroup(title: "Sending") var sending: SendingOptions

        func run() async throws {
            let id = try delivery.number
            try await AdminRun.run {
                let admin = try store.admin(sending: sending)
                let detail = try await admin.delivery(id)
                let report = try await admin.retryDelivery(id)
                let team = (try? await admin.webhook(detail.record.state.target))?.team ?? Team.defaultID
                try await store.audit(admin, team: team, "delivery", "\(id)", "retried", ["status": report.status])
                return store.output(
                    json: AdminJSON.report(report), text: AdminText.report(report),
                    status: report.status == "delivered" ? .success : .unavailable)
            }
        }
    }
}
