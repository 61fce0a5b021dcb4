import ArgumentParser
import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayServer
import HookRelayStore
import HookRelayTemplates

/// `hookrelay webhooks …`: the webhooks of `serve`, changed in its database file through the
/// same library functions as its API.
struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "List, create, change, test and delete the webhooks of hookrelay serve, in its database file.",
        discussion: """
            Works on the SQLite database of hookrelay serve (--db, or the db of --config) through \
            the same functions as its HTTP API, with no API token: the file's permissions are the \
            access control. It works while serve runs, which picks the changes up within a second. \
            Output is a table with aligned columns, or the API's JSON with --json. See \
            hookrelay-webhooks(1).

            Exit status: 0 success; 64 usage; 65 an invalid setting; 66 no such database or \
            webhook; 69 the test event was not delivered; 74 a database error.
            """,
        subcommands: [
            List.self, Show.self, Add.self, Update.self, Delete.self, Pause.self, Resume.self, Enable.self,
            RotateSecret.self, Test.self, TestAlert.self, RetryFailed.self, Recover.self,
        ]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the webhooks, oldest first.")

        @Option(help: ArgumentHelp("Only this team's webhooks.", valueName: "team")) var team: String?
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            try await AdminRun.run {
                let webhooks = try await store.admin().webhooks().filter { team == nil || $0.team == team }
                return store.output(json: AdminJSON.webhooks(webhooks), text: AdminText.webhooks(webhooks))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one webhook (its secret's first characters only).")

        @OptionGroup var webhook: WebhookArgument
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            try await AdminRun.run {
                let admin = try store.admin()
                let id = try await admin.webhookID(matching: webhook.id)
                let shown = try await admin.webhook(id)
                let log = try await admin.logHorizon()
                return store.output(json: AdminJSON.webhook(shown), text: AdminText.webhook(shown, log: log))
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a webhook and print it with its signing secret, shown this once.",
            discussion: "The database must exist (hookrelay serve makes it), unless --create is given.")

        @Option(help: ArgumentHelp("Where to POST the events: an https URL (http with --allow-http).", valueName: "url"))
        var url: String

        @OptionGroup(title: "Webhook settings") var settings: WebhookSettings
        @OptionGroup(title: "Database") var store: StoreOptions
        @OptionGroup(title: "Sending") var sending: SendingOptions

        @Flag(help: "Create the database when it does not exist (it is removed again if the webhook is refused).")
        var create = false

        @Option(help: ArgumentHelp("The team that owns it.", valueName: "team")) var team = Team.defaultID

        func run() async throws {
            var fields = try settings.fields()
            fields["url"] = url
            let path = try store.configuration(sending: sending).database
            let existed = Database.isURL(path) || FileManager.default.fileExists(atPath: path)
            do {
                try await AdminRun.run {
                    let admin = try store.admin(sending: sending, create: create)
                    _ = try await admin.team(team)
                    let created = try await admin.createWebhook(fields, team: team)
                    try await store.audit(admin, webhook: created, "created", ["url": created.url])
                    return store.output(created, revealSecret: true)
                }
            } catch let failure as CommandFailure {
                // A refused webhook leaves no new, empty database behind.
                if create, !existed {
                    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
                }
                throw failure
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change the settings given and keep the others; print the webhook.",
            discussion: "--severity or --min-severity replaces both; --header replaces every header; --secret replaces the secret at once.")

        @OptionGroup var webhook: WebhookArgument

        @Option(help: ArgumentHelp("A new URL.", valueName: "url"))
        var url: String?

        @OptionGroup(title: "Webhook settings") var settings: WebhookSettings

        @Flag(help: "Send events of every type (clears --event).")
        var allEvents = false

        @Flag(help: "Send events of every severity (clears --min-severity and --severity).")
        var allSeverities = false

        @Flag(help: "Remove every extra header.")
        var noHeaders = false

        @OptionGroup(title: "Database") var store: StoreOptions
        @OptionGroup(title: "Sending") var sending: SendingOptions

        func validate() throws {
            if allEvents, !settings.events.isEmpty { throw ValidationError("use either --all-events or --event, not both") }
            if allSeverities, settings.minSeverity != nil || !settings.severities.isEmpty {
                throw ValidationError("use either --all-severities or --min-severity/--severity, not both")
            }
            if noHeaders, !settings.headers.isEmpty { throw ValidationError("use either --no-headers or --header, not both") }
        }

        func run() async throws {
            var fields = try settings.fields()
            if let url { fields["url"] = url }
            if allEvents { fields["events"] = [String]() }
            if allSeverities { fields["severities"] = [String]() }
            if noHeaders { fields["headers"] = [String: String]() }
            guard !fields.isEmpty else { throw ValidationError("give a setting to change, such as --url or --event") }
            try await AdminRun.run {
                let admin = try store.admin(sending: sending)
                let id = try await admin.webhookID(matching: webhook.id)
                let changed = try await admin.updateWebhook(id, fields)
                try await store.audit(admin, webhook: changed, "updated", ["fields": fields.keys.sorted().joined(separator: ",")])
                return store.output(changed)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a webhook and its pending deliveries; print how many were discarded.")

        @OptionGroup var webhook: WebhookArgument
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            try await AdminRun.run {
                let admin = try store.admin()
                let id = try await admin.webhookID(matching: webhook.id)
                let deleted = try await admin.webhook(id)
                let discarded = try await admin.deleteWebhook(id)
                try await store.audit(admin, webhook: deleted, "deleted", [:])
                return store.output(
                    json: AdminJSON.deleted(id, discardedDeliveries: discarded),
                    text: "deleted \(id); \(deliveries(discarded, "pending")) discarded\n")
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hold the webhook's deliveries (new events are still recorded) until it is resumed.")

        @OptionGroup var webhook: WebhookArgument
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws { try await setPaused(webhook.id, true, store: store) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send the deliveries of a paused webhook again.")

        @OptionGroup var webhook: WebhookArgument
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws { try await setPaused(webhook.id, false, store: store) }
    }

    static func setPaused(_ id: String, _ paused: Bool, store: StoreOptions) async throws {
        try await AdminRun.run {
            let admin = try store.admin()
            let webhook = try await admin.setPaused(try await admin.webhookID(matching: id), paused)
            try await store.audit(admin, webhook: webhook, paused ? "paused" : "resumed", [:])
            return store.output(webhook)
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a webhook healthy again, whatever its state, with its failures reset.")

        @OptionGroup var webhook: WebhookArgument
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            try await AdminRun.run {
                let admin = try store.admin()
                let id = try await admin.webhookID(matching: webhook.id)
                let enabled = try await admin.enable(id)
                try await store.audit(admin, webhook: enabled, "enabled", [:])
                return store.output(enabled)
            }
        }
    }

    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret",
            abstract: "Give the webhook a new signing secret and print it; the old one signs beside it for 24 hours.")

        @OptionGroup var webhook: WebhookArgument
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            try await AdminRun.run {
                let admin = try store.admin()
                let id = try await admin.webhookID(matching: webhook.id)
                let rotated = try await admin.rotateSecret(id)
                try await store.audit(admin, webhook: rotated, "secret_rotated", [:])
                return store.output(json: AdminJSON.webhook(rotated, revealSecret: true), text: (rotated.secrets.first ?? "") + "\n")
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a signed sample finding to the webhook now (paused or disabled too) and print how it went.",
            discussion: "Exits with status 69 when the receiver did not answer 2xx.")

        @OptionGroup var webhook: WebhookArgument
        @OptionGroup(title: "Database") var store: StoreOptions
        @OptionGroup(title: "Sending") var sending: SendingOptions

        func run() async throws {
            try await AdminRun.run {
                let admin = try store.admin(sending: sending)
                let id = try await admin.webhookID(matching: webhook.id)
                let report = try await admin.sendTest(id)
                try await store.audit(admin, webhook: try await admin.webhook(id), "tested", ["status": report.status])
                return store.output(
                    json: AdminJSON.report(report), text: AdminText.report(report),
                    status: report.status == "delivered" ? .success : .unavailable)
            }
        }
    }

    struct RetryFailed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry-failed", abstract: "Queue the webhook's failed deliveries again; print how many.")

        @OptionGroup var webhook: WebhookArgument
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            try await AdminRun.run {
                let admin = try store.admin()
                let id = try await admin.webhookID(matching: webhook.id)
                let count = try await admin.retryFailed(id)
                try await store.audit(admin, webhook: try await admin.webhook(id), "retried", ["requeued": "\(count)"])
                return store.output(json: AdminJSON.requeued(count), text: "\(deliveries(count, "failed")) of \(id) queued again\n")
            }
        }
    }

    struct Recover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send again every event stored since a time that the webhook's filter matched; print how many.")

        @OptionGroup var webhook: WebhookArgument

        @Option(help: ArgumentHelp("From when: an RFC 3339 time, Unix seconds, or a duration ago (24h).", valueName: "time"))
        var since: String

        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            let time = try parseTime(since, option: "--since")
            try await AdminRun.run {
                let admin = try store.admin()
                let id = try await admin.webhookID(matching: webhook.id)
                let count = try await admin.recover(id, since: time)
                try await store.audit(admin, webhook: try await admin.webhook(id), "recovered", ["since": "\(time)", "requeued": "\(count)"])
                return store.output(json: AdminJSON.requeued(count), text: "\(deliveries(count)) of \(id) queued again\n")
            }
        }
    }
}

/// "1 failed delivery", "2 failed deliveries".
func deliveries(_ count: Int, _ adjective: String? = nil) -> String {
    ([String(count)] + (adjective.map { [$0] } ?? []) + [count == 1 ? "delivery" : "deliveries"]).joined(separator: " ")
}
