import ArgumentParser
import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayStore

extension WebhooksCommand {
    /// `hookrelay webhooks test-alert`: an `alert.test` to every alert destination of a team.
    struct TestAlert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test-alert",
            abstract: "Send a signed alert.test to the team's alert destinations (the config's alerts and the team's) now, and print how each went.",
            discussion: "Exits with status 69 when a destination did not answer 2xx, 65 when the team has none.")

        @Option(help: ArgumentHelp("The team whose destinations to test.", valueName: "team")) var team = Team.defaultID
        @OptionGroup(title: "Database") var store: StoreOptions
        @OptionGroup(title: "Sending") var sending: SendingOptions

        func run() async throws {
            try await AdminRun.run {
                let admin = try store.admin(sending: sending)
                _ = try await admin.team(team)
                // As serve would: the config's alerts are the stored ones.
                try await admin.syncConfiguredAlerts(try store.configuration(sending: sending).alerts)
                let results = try await admin.testAlerts(team: team)
                try await store.audit(admin, team: team, "team", team, "alerts_tested", ["destinations": "\(results.count)"])
                let delivered = results.allSatisfy { $0.report.status == "delivered" }
                let views = results.map { AlertTestView(destination: AlertView($0.destination), report: $0.report) }
                return store.output(
                    json: AdminJSON.encode(["results": views]), text: AdminText.alertTests(views), status: delivered ? .success : .unavailable)
            }
        }
    }
}
