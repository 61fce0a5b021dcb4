import Foundation
import HookRelayCore
import HookRelayStore

/// Teams, their tokens and the audit log: shared by the API and (later) the admin commands.
extension Admin {
    // MARK: Teams

    public func teams() async throws -> [Team] {
        try await reader.withStore { try $0.teams() }
    }

    public func team(_ id: String) async throws -> Team {
        guard let team = try await reader.withStore({ try $0.team(id: id) }) else { throw AdminError.notFound("team \(id)") }
        return team
    }

    /// `{"id": "acme", "name": "Acme Corp"}`; the name defaults to the id.
    public func createTeam(_ fields: [String: Any]) async throws -> Team {
        guard let id = fields["id"] as? String else { throw AdminError.invalid("\"id\" is required: lowercase letters, digits, - and _, up to 64") }
        guard Team.isValidID(id) else {
            throw AdminError.invalid("team id \"\(id)\" must be 1 to 64 lowercase letters, digits, - and _")
        }
        let name = try Self.teamName(fields["name"]) ?? id
        let team = Team(id: id, name: name, now: now())
        guard try await store.withStore({ try $0.createTeam(team) }) else {
            throw AdminError(kind: .conflict, description: "team \(id) exists already")
        }
        return team
    }

    public func renameTeam(_ id: String, _ fields: [String: Any]) async throws -> Team {
        guard let name = try Self.teamName(fields["name"]) else { throw AdminError.invalid("give \"name\", the team's new name") }
        let now = now()
        guard let team = try await store.withStore({ try $0.renameTeam(id: id, name: name, now: now) }) else {
            throw AdminError.notFound("team \(id)")
        }
        return team
    }

    private static func teamName(_ value: Any?) throws -> String? {
        guard let value else { return nil }
        guard let name = value as? String, !name.isEmpty, name.count <= 200, StoredText.isClean(name, allowing: []),
              !name.contains(where: \.isNewline) else {
            throw AdminError.invalid("\"name\" must be text of 1 to 200 characters on one line, without control characters")
        }
        return name
    }

    /// Deletes a team, its tokens, its webhooks and its events: the team, tokens and webhooks in
    /// one transaction (nothing of them is usable or sent again from then on), then the
    /// webhooks' pending deliveries and the team's events in short batches, so that ingest and
    /// the dispatcher get in between. Returns the ids of the webhooks deleted.
    public func deleteTeam(_ id: String) async throws -> [String] {
        guard id != Team.defaultID else { throw AdminError.invalid("the default team cannot be deleted") }
        let webhooks = try await store.withStore { store -> [String]? in
            let ids = try store.webhooks().filter { $0.team == id }.map(\.id)
            return try store.deleteTeam(id: id) ? ids : nil
        }
        guard let webhooks else { throw AdminError.notFound("team \(id)") }
        for webhook in webhooks {
            while try await !store.withStore({ try $0.discardPending(of: webhook) }).done {
                try? await Task.sleep(for: Self.bulkPause)
            }
        }
        while try await store.withStore({ try $0.discardEvents(ofTeam: id, limit: Self.bulkBatch) }) == Self.bulkBatch {
            try? await Task.sleep(for: Self.bulkPause)
        }
        return webhooks
    }

    /// Events deleted per transaction when a team goes.
    static let bulkBatch = 1_000

    // MARK: Tokens

    /// A new token of `fields` (`role`, `team`, `description`, `expires_at`, `any_team`): the
    /// stored token, and the token itself, which is never shown again.
    public func createToken(_ fields: [String: Any], team defaultTeam: String) async throws -> (token: AccessToken, secret: String) {
        guard let roleName = fields["role"] as? String, let role = TokenRole(rawValue: roleName) else {
            throw AdminError.invalid("\"role\" must be one of \(TokenRole.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let team = (fields["team"] as? String) ?? defaultTeam
        _ = try await self.team(team)
        for key in ["description", "expires_at"] where fields[key] != nil && !(fields[key] is String) {
            throw AdminError.invalid("\"\(key)\" must be a string")
        }
        if let value = fields["any_team"], !Self.isJSONBoolean(value) { throw AdminError.invalid("\"any_team\" must be true or false") }
        let description = (fields["description"] as? String) ?? ""
        guard description.count <= 500 else { throw AdminError.invalid("\"description\" may be 500 characters at most") }
        guard StoredText.isClean(description) else {
            throw AdminError.invalid("\"description\" must be text without control characters (a tab is allowed)")
        }
        var expiresAt: Int64?
        if let value = fields["expires_at"] {
            // A duration is from now (30d: in 30 days).
            guard let text = value as? String,
                  let time = (text.last?.isLetter == true ? Duration(parsing: text).map { now() + $0.milliseconds } : nil)
                      ?? TimeSpec.parse(text, now: now()), time > now()
            else {
                throw AdminError.invalid("\"expires_at\" must be a future time: an RFC 3339 time, Unix seconds, or a duration from now (30d)")
            }
            expiresAt = time
        }
        let anyTeam = (fields["any_team"] as? Bool) ?? false
        guard !anyTeam || role == .publisher else { throw AdminError.invalid("\"any_team\" is for publisher tokens only") }
        let secret = APIToken.generate()
        let token = AccessToken(
            id: "tok_" + Self.randomHex(8), digest: AccessToken.digest(of: secret), role: role, team: team, anyTeam: anyTeam,
            description: description, createdAt: now(), expiresAt: expiresAt)
        try await store.withStore { try $0.saveToken(token) }
        return (token, secret)
    }

    /// The tokens of `team` (nil: every team's) that the caller may see and revoke: a team
    /// admin (`byAdmin` false) only those below admin and for its team alone.
    public func tokens(team: String?, byAdmin: Bool = true) async throws -> [AccessToken] {
        try await reader.withStore { try $0.tokens(team: team) }.filter { $0.isManageable(byAdmin: byAdmin) }
    }

    /// One of ``tokens(team:byAdmin:)``, or nil.
    public func token(_ id: String, team: String?, byAdmin: Bool) async throws -> AccessToken? {
        try await tokens(team: team, byAdmin: byAdmin).first { $0.id == id }
    }

    public func revokeToken(_ id: String, team: String?) async throws {
        guard try await store.withStore({ try $0.revokeToken(id: id, team: team) }) else { throw AdminError.notFound("token \(id)") }
    }

    // MARK: Audit

    /// Records a change in the audit log: who (`actor`, `role`), in which team, to which
    /// object, and what changed (`detail`, stored as sorted JSON; never a secret).
    public func record(
        actor: String, role: String, team: String, _ kind: String, _ id: String, _ action: String, _ detail: [String: String]
    ) async throws {
        let text = String(decoding: (try? JSONSerialization.data(withJSONObject: detail, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
        let entry = AuditEntry(at: now(), actor: actor, role: role, team: team, objectKind: kind, objectID: id, action: action, detail: text)
        try await store.withStore { try $0.appendAudit(entry) }
    }

    public func audit(team: String?, before: Int64?, limit: Int) async throws -> [AuditEntry] {
        try await reader.withStore { try $0.audit(team: team, before: before, limit: limit) }
    }
}
