import ArgumentParser
import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayStore

/// `hookrelay teams …`, `hookrelay tokens …` and `hookrelay audit list`: the teams of `serve`,
/// their API tokens and the audit log, in its database (the file's permissions, or the
/// database's, are the access control: these act as an admin).
struct TeamsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teams",
        abstract: "List, create, show and delete the teams of hookrelay serve, in its database.",
        discussion: """
            A team owns webhooks, tokens and audit entries; "default" always exists and holds \
            every webhook made without a team. Exit status: 0 success; 64 usage; 65 an invalid \
            value; 66 no such database or team; 74 a database error. See hookrelay-teams(1).
            """,
        subcommands: [List.self, Show.self, Add.self, Delete.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the teams.")
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            try await AdminRun.run {
                let teams = try await store.admin().teams()
                return store.output(
                    json: AdminJSON.encode(["teams": teams.map(TeamView.init)]),
                    text: AdminText.table([["ID", "NAME", "CREATED"]] + teams.map { [$0.id, $0.name, AdminText.time($0.createdAt)] }))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one team with its webhooks and tokens.")
        @Argument(help: "The team's id.") var team: String
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            try await AdminRun.run {
                let admin = try store.admin()
                let shown = try await admin.team(team)
                let webhooks = try await admin.webhooks().filter { $0.team == team }
                let tokens = try await admin.tokens(team: team)
                return store.output(
                    json: AdminJSON.encode(TeamView(shown)),
                    text: AdminText.fields([
                        ("id", shown.id), ("name", shown.name), ("created", AdminText.time(shown.createdAt)),
                        ("webhooks", webhooks.map(\.id).joined(separator: " ")), ("tokens", tokens.map(\.id).joined(separator: " ")),
                    ]))
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a team.")
        @Argument(help: "Its id: lowercase letters, digits, - and _, up to 64.") var team: String
        @Option(help: ArgumentHelp("Its name (default: the id).", valueName: "text")) var name: String?
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            try await AdminRun.run {
                let admin = try store.admin()
                var fields: [String: Any] = ["id": team]
                if let name { fields["name"] = name }
                let created = try await admin.createTeam(fields)
                try await store.audit(admin, team: created.id, "team", created.id, "created", ["name": created.name])
                return store.output(json: AdminJSON.encode(TeamView(created)), text: "created team \(created.id)\n")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a team with its webhooks (their pending deliveries discarded) and its tokens.")
        @Argument(help: "The team's id.") var team: String
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            try await AdminRun.run {
                let admin = try store.admin()
                let webhooks = try await admin.deleteTeam(team)
                try await store.audit(admin, team: team, "team", team, "deleted", ["webhooks": "\(webhooks.count)"])
                return store.output(
                    json: AdminJSON.encode(["deleted": team]), text: "deleted team \(team) and its \(webhooks.count) webhooks\n")
            }
        }
    }
}

struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Create, list and revoke the API tokens of hookrelay serve, in its database.",
        discussion: """
            Roles: admin (every team, teams and tokens), team_admin (its team), viewer (reads its \
            team), publisher (sends events: to its team, or to any team with --any-team). Only \
            a token's digest is stored: it is printed once, by tokens add. Exit status: 0 \
            success; 64 usage; 65 an invalid value; 66 no such database, team or token; 74 a \
            database error. See hookrelay-teams(1).
            """,
        subcommands: [List.self, Add.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tokens (never the tokens themselves).")
        @Option(help: ArgumentHelp("Only this team's.", valueName: "team")) var team: String?
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            try await AdminRun.run {
                let tokens = try await store.admin().tokens(team: team)
                return store.output(
                    json: AdminJSON.encode(["tokens": tokens.map { TokenView($0) }]),
                    text: AdminText.table([["ID", "ROLE", "TEAM", "CREATED", "LAST USED", "EXPIRES", "DESCRIPTION"]] + tokens.map {
                        [
                            $0.id, $0.role.rawValue + ($0.anyTeam ? " (any team)" : ""), $0.team, AdminText.time($0.createdAt),
                            $0.lastUsedAt.map { AdminText.time($0) } ?? "-", $0.expiresAt.map { AdminText.time($0) } ?? "-",
                            $0.description.isEmpty ? "-" : $0.description,
                        ]
                    }))
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it, shown this once.")
        @Option(help: ArgumentHelp("admin, team_admin, viewer or publisher.", valueName: "role")) var role: String
        @Option(help: ArgumentHelp("Its team.", valueName: "team")) var team = Team.defaultID
        @Option(help: ArgumentHelp("What it is for.", valueName: "text")) var description: String?
        @Option(help: ArgumentHelp(
            "When it stops working: an RFC 3339 time, Unix seconds, or a duration from now (30d); default never.", valueName: "time"))
        var expiresAt: String?
        @Flag(help: "A publisher that may send events to any team.") var anyTeam = false
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            try await AdminRun.run {
                let admin = try store.admin()
                var fields: [String: Any] = ["role": role, "team": team, "any_team": anyTeam]
                if let description { fields["description"] = description }
                if let expiresAt { fields["expires_at"] = expiresAt }
                let (token, secret) = try await admin.createToken(fields, team: team)
                try await store.audit(admin, team: token.team, "token", token.id, "created", ["role": token.role.rawValue])
                return store.output(
                    json: AdminJSON.encode(TokenView(token, secret: secret)),
                    text: "\(secret)\n", status: .success)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: it stops working within a second.")
        @Argument(help: "The token's id (tok_…).") var id: String
        @OptionGroup(title: "Database") var store: StoreOptions

        func run() async throws {
            try await AdminRun.run {
                let admin = try store.admin()
                guard let token = try await admin.token(id, team: nil, byAdmin: true) else {
                    throw AdminError.notFound("token \(id)")
                }
                try await admin.revokeToken(id, team: nil)
                try await store.audit(admin, team: token.team, "token", id, "revoked", [:])
                return store.output(json: AdminJSON.encode(["revoked": id]), text: "revoked \(id)\n")
            }
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read the audit log of hookrelay serve: every change, who made it, newest first.",
        subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List audit entries, newest first.")
        @Option(help: ArgumentHelp("Only this team's.", valueName: "team")) var team: String?
        @Option(help: ArgumentHelp("At most this many (1 to 1000).", valueName: "n")) var limit = 50
        @Option(help: ArgumentHelp("Entries older than this entry id (the next page).", valueName: "id")) var before: Int64?
        @OptionGroup(title: "Database") var store: StoreOptions

        func validate() throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000") }
        }

        func run() async throws {
            try await AdminRun.run {
                let entries = try await store.admin().audit(team: team, before: before, limit: limit)
                return store.output(
                    json: AdminJSON.encode(AuditPage(entries: entries.map(AuditView.init), nextCursor: nil)),
                    text: AdminText.table([["ID", "TIME", "ACTOR", "TEAM", "OBJECT", "ACTION", "DETAIL"]] + entries.map {
                        ["\($0.id)", AdminText.time($0.at), $0.actor, $0.team, "\($0.objectKind) \($0.objectID)", $0.action, $0.detail]
                    }))
            }
        }
    }
}

extension StoreOptions {
    /// Records a change of `webhook` in its team's audit log.
    func audit(_ admin: Admin, webhook: Webhook, _ action: String, _ detail: [String: String]) async throws {
        try await audit(admin, team: webhook.team, "webhook", webhook.id, action, detail)
    }

    /// Records an admin command's change in the audit log: its actor is "admin command" and the
    /// OS user that ran it.
    func audit(_ admin: Admin, team: String, _ kind: String, _ id: String, _ action: String, _ detail: [String: String]) async throws {
        let user = ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
        try await admin.record(actor: "admin command (\(user))", role: TokenRole.admin.rawValue, team: team, kind, id, action, detail)
    }
}
