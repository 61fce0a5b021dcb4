import HookRelayCore
import HookRelayStore
import PostgresNIO

/// Teams, their tokens and the audit log of `serve` (``AccessRepository``), in the tables of
/// migration 3. Changes run in durable transactions; deleting a team deletes its webhooks as
/// ``beginDeletingWebhook(id:)`` does, in the same transaction.
extension PostgresStore {
    static let teamColumns = "id, name, created_at, updated_at"

    static func team(_ row: PostgresRow) throws -> Team {
        let (id, name, createdAt, updatedAt) = try row.decode((String, String, Int64, Int64).self)
        var team = Team(id: id, name: name, now: createdAt)
        team.updatedAt = updatedAt
        return team
    }

    static let tokenColumns = "id, digest, role, team, any_team, description, created_at, last_used_at, expires_at"

    static func token(_ row: PostgresRow) throws -> AccessToken {
        let (id, digest, role, team, anyTeam, description, createdAt, lastUsedAt, expiresAt) = try row.decode(
            (String, String, String, String, Bool, String, Int64, Int64?, Int64?).self)
        guard let role = TokenRole(rawValue: role) else {
            // The table's CHECK allows only the known roles: a newer hookrelay would have migrated.
            throw PostgresStoreError(message: "token \(id) has the unknown role '\(role)'", location: "")
        }
        return AccessToken(
            id: id, digest: digest, role: role, team: team, anyTeam: anyTeam, description: description,
            createdAt: createdAt, lastUsedAt: lastUsedAt, expiresAt: expiresAt)
    }

    static let auditColumns = "id, at, actor, role, team, object_kind, object_id, action, detail"

    static func auditEntry(_ row: PostgresRow) throws -> AuditEntry {
        let (id, at, actor, role, team, kind, objectID, action, detail) = try row.decode(
            (Int64, Int64, String, String, String, String, String, String, String).self)
        return AuditEntry(
            id: id, at: at, actor: actor, role: role, team: team, objectKind: kind, objectID: objectID, action: action, detail: detail)
    }

    // MARK: Teams

    public func teams() throws -> [Team] {
        try run("reading teams") { session in
            try await session.rows("SELECT \(unescaped: Self.teamColumns) FROM teams ORDER BY id COLLATE \"C\"").map(Self.team)
        }
    }

    public func team(id: String) throws -> Team? {
        try run("reading a team") { session in
            try await session.rows("SELECT \(unescaped: Self.teamColumns) FROM teams WHERE id = \(id)").first.map(Self.team)
        }
    }

    public func createTeam(_ team: Team) throws -> Bool {
        try transaction("creating a team") { session in
            try await session.count("""
                WITH added AS (
                    INSERT INTO teams (id, name, created_at, updated_at) VALUES (\(team.id), \(team.name), \(team.createdAt), \(team.updatedAt))
                    ON CONFLICT (id) DO NOTHING RETURNING 1)
                SELECT count(*) FROM added
                """) == 1
        }
    }

    public func renameTeam(id: String, name: String, now: Int64) throws -> Team? {
        try transaction("renaming a team") { session in
            try await session.rows("""
                UPDATE teams SET name = \(name), updated_at = \(now) WHERE id = \(id) RETURNING \(unescaped: Self.teamColumns)
                """).first.map(Self.team)
        }
    }

    /// The team's keys through `messages_team_events` (migration 4): `LIKE 'TEAM %'` with the
    /// index's own condition, so the planner takes it.
    public func discardEvents(ofTeam team: String, limit: Int) throws -> Int {
        guard team != Team.defaultID else { return 0 }
        // Team ids have `_`, a LIKE wildcard: escaped.
        let pattern = team.replacingOccurrences(of: "_", with: "\\_") + " %"
        return try transaction("deleting a deleted team's events") { session in
            try await session.count("""
                WITH gone AS (
                    DELETE FROM messages WHERE id IN (
                        SELECT id FROM messages WHERE strpos(webhook_id, ' ') > 0 AND webhook_id LIKE \(pattern) LIMIT \(Int64(limit)))
                    RETURNING 1)
                SELECT count(*) FROM gone
                """)
        }
    }

    /// Deletes the team, its tokens and its webhooks in one transaction; the webhooks' pending
    /// deliveries are marked for discarding (``discardPending(of:)`` removes them), and their
    /// audit entries stay.
    public func deleteTeam(id: String) throws -> Bool {
        try transaction("deleting a team") { session in
            // The team's row locked first: a webhook or token saved into it meanwhile waits, then
            // fails on its foreign key instead of outliving the team.
            guard try await !session.rows("SELECT 1 FROM teams WHERE id = \(id) FOR UPDATE").isEmpty else { return false }
            try await session.execute("DELETE FROM tokens WHERE team = \(id)")
            let webhooks = try await session.texts("DELETE FROM webhooks WHERE team = \(id) RETURNING id")
            if !webhooks.isEmpty {
                try await Self.webhooksChanged(in: session)
                try await session.execute("""
                    INSERT INTO discarding (endpoint) SELECT w.id FROM unnest(\(webhooks)::text[]) AS w(id) ON CONFLICT DO NOTHING
                    """)
            }
            try await session.execute("DELETE FROM teams WHERE id = \(id)")
            return true
        }
    }

    // MARK: Tokens

    public func tokens(team: String?) throws -> [AccessToken] {
        try run("reading tokens") { session in
            if let team {
                return try await session.rows("""
                    SELECT \(unescaped: Self.tokenColumns) FROM tokens WHERE team = \(team) ORDER BY created_at, id COLLATE "C"
                    """).map(Self.token)
            }
            return try await session.rows("SELECT \(unescaped: Self.tokenColumns) FROM tokens ORDER BY created_at, id COLLATE \"C\"").map(Self.token)
        }
    }

    public func token(digest: String) throws -> AccessToken? {
        try run("reading a token") { session in
            try await session.rows("SELECT \(unescaped: Self.tokenColumns) FROM tokens WHERE digest = \(digest)").first.map(Self.token)
        }
    }

    /// Inserts or replaces a token (by its id).
    public func saveToken(_ token: AccessToken) throws {
        try transaction("saving a token") { session in
            try await session.execute("""
                INSERT INTO tokens (id, digest, role, team, any_team, description, created_at, last_used_at, expires_at)
                VALUES (\(token.id), \(token.digest), \(token.role.rawValue), \(token.team), \(token.anyTeam), \(token.description),
                    \(token.createdAt), \(token.lastUsedAt), \(token.expiresAt))
                ON CONFLICT (id) DO UPDATE SET digest = excluded.digest, role = excluded.role, team = excluded.team,
                    any_team = excluded.any_team, description = excluded.description, created_at = excluded.created_at,
                    last_used_at = excluded.last_used_at, expires_at = excluded.expires_at
                """)
        }
    }

    public func revokeToken(id: String, team: String?) throws -> Bool {
        try transaction("revoking a token") { session in
            try await session.count("""
                WITH gone AS (DELETE FROM tokens WHERE id = \(id) AND (\(team)::text IS NULL OR team = \(team)::text) RETURNING 1)
                SELECT count(*) FROM gone
                """) == 1
        }
    }

    public func touchToken(id: String, now: Int64) throws {
        try transaction("recording a token's use") { session in
            try await session.execute("UPDATE tokens SET last_used_at = \(now) WHERE id = \(id)")
        }
    }

    // MARK: Audit

    /// Appends an entry; its `id` is the table's (the entry's own is ignored).
    public func appendAudit(_ entry: AuditEntry) throws {
        try transaction("recording an audit entry") { session in
            try await session.execute("""
                INSERT INTO audit (at, actor, role, team, object_kind, object_id, action, detail)
                VALUES (\(entry.at), \(entry.actor), \(entry.role), \(entry.team), \(entry.objectKind), \(entry.objectID),
                    \(entry.action), \(entry.detail))
                """)
        }
    }

    public func audit(team: String?, before: Int64?, limit: Int) throws -> [AuditEntry] {
        let before = before ?? .max, limit = Int64(max(limit, 0))
        return try run("reading the audit log") { session in
            if let team {
                return try await session.rows("""
                    SELECT \(unescaped: Self.auditColumns) FROM audit WHERE team = \(team) AND id < \(before) ORDER BY id DESC LIMIT \(limit)
                    """).map(Self.auditEntry)
            }
            return try await session.rows("""
                SELECT \(unescaped: Self.auditColumns) FROM audit WHERE id < \(before) ORDER BY id DESC LIMIT \(limit)
                """).map(Self.auditEntry)
        }
    }
}
