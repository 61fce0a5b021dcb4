import HookRelayCore

/// Teams, tokens and the audit log on SQLite (``AccessRepository``).
extension SQLiteSpool {
    private static let teamColumns = "id, name, created_at, updated_at"
    private static let tokenColumns = "id, digest, role, team, any_team, description, created_at, last_used_at, expires_at"
    private static let auditColumns = "id, at, actor, role, team, object_kind, object_id, action, detail"

    private static func team(_ row: Statement) -> Team {
        var team = Team(id: row.text(0) ?? "", name: row.text(1) ?? "", now: row.int(2))
        team.updatedAt = row.int(3)
        return team
    }

    private static func token(_ row: Statement) -> AccessToken {
        AccessToken(
            id: row.text(0) ?? "", digest: row.text(1) ?? "", role: row.text(2).flatMap(TokenRole.init(rawValue:)) ?? .viewer,
            team: row.text(3) ?? Team.defaultID, anyTeam: row.int(4) != 0, description: row.text(5) ?? "", createdAt: row.int(6),
            lastUsedAt: row.optionalInt(7), expiresAt: row.optionalInt(8))
    }

    private static func entry(_ row: Statement) -> AuditEntry {
        AuditEntry(
            id: row.int(0), at: row.int(1), actor: row.text(2) ?? "", role: row.text(3) ?? "", team: row.text(4) ?? "",
            objectKind: row.text(5) ?? "", objectID: row.text(6) ?? "", action: row.text(7) ?? "", detail: row.text(8) ?? "{}")
    }

    private func all<T>(_ statement: Statement, _ row: (Statement) -> T) throws -> [T] {
        var rows: [T] = []
        while try statement.step() { rows.append(row(statement)) }
        try statement.run()
        return rows
    }

    public func teams() throws -> [Team] {
        try all(try connection.statement("SELECT \(Self.teamColumns) FROM teams ORDER BY id"), Self.team)
    }

    public func team(id: String) throws -> Team? {
        try all(try connection.statement("SELECT \(Self.teamColumns) FROM teams WHERE id = ?1").bind(1, id), Self.team).first
    }

    public func createTeam(_ team: Team) throws -> Bool {
        try connection.write {
            try connection.statement("INSERT OR IGNORE INTO teams (\(Self.teamColumns)) VALUES (?1, ?2, ?3, ?4)")
                .bind(1, team.id).bind(2, team.name).bind(3, team.createdAt).bind(4, team.updatedAt).run()
            return connection.changes == 1
        }
    }

    public func renameTeam(id: String, name: String, now: Int64) throws -> Team? {
        try connection.write {
            try connection.statement("UPDATE teams SET name = ?2, updated_at = ?3 WHERE id = ?1").bind(1, id).bind(2, name).bind(3, now).run()
            return connection.changes == 1 ? try team(id: id) : nil
        }
    }

    /// Removes the team, its tokens and its webhooks in one transaction; the webhooks' pending
    /// deliveries are marked for discarding (as ``beginDeletingWebhook(id:)`` does), removed
    /// in batches by ``discardPending(of:)`` or ``recoverOrphans(now:)``.
    public func deleteTeam(id: String) throws -> Bool {
        try connection.write {
            guard try team(id: id) != nil else { return false }
            let webhooks = try all(try connection.statement("SELECT id FROM webhooks WHERE team = ?1").bind(1, id)) { $0.text(0) ?? "" }
            try connection.statement("DELETE FROM tokens WHERE team = ?1").bind(1, id).run()
            try connection.statement("DELETE FROM webhooks WHERE team = ?1").bind(1, id).run()
            for webhook in webhooks {
                try connection.statement("INSERT OR IGNORE INTO discarding (endpoint) VALUES (?1)").bind(1, webhook).run()
            }
            if !webhooks.isEmpty { try webhooksChanged() }
            try connection.statement("DELETE FROM teams WHERE id = ?1").bind(1, id).run()
            return true
        }
    }

    /// The team's keys are the range from `TEAM ` up to `TEAM!` of the messages' unique index.
    public func discardEvents(ofTeam team: String, limit: Int) throws -> Int {
        guard team != Team.defaultID else { return 0 }
        return try connection.write {
            try connection.statement("""
                DELETE FROM messages WHERE id IN (
                    SELECT id FROM messages WHERE webhook_id >= ?1 AND webhook_id < ?2 LIMIT ?3)
                """).bind(1, team + " ").bind(2, team + "!").bind(3, limit).run()
            return connection.changes
        }
    }

    public func tokens(team: String?) throws -> [AccessToken] {
        let statement = try connection.statement(
            "SELECT \(Self.tokenColumns) FROM tokens WHERE ?1 IS NULL OR team = ?1 ORDER BY created_at, id")
        return try all(statement.bind(1, team), Self.token)
    }

    public func token(digest: String) throws -> AccessToken? {
        try all(try connection.statement("SELECT \(Self.tokenColumns) FROM tokens WHERE digest = ?1").bind(1, digest), Self.token).first
    }

    public func saveToken(_ token: AccessToken) throws {
        try connection.write {
            try connection.statement("INSERT INTO tokens (\(Self.tokenColumns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
                .bind(1, token.id).bind(2, token.digest).bind(3, token.role.rawValue).bind(4, token.team).bind(5, token.anyTeam ? 1 : 0)
                .bind(6, token.description).bind(7, token.createdAt).bind(8, token.lastUsedAt).bind(9, token.expiresAt).run()
        }
    }

    public func revokeToken(id: String, team: String?) throws -> Bool {
        try connection.write {
            try connection.statement("DELETE FROM tokens WHERE id = ?1 AND (?2 IS NULL OR team = ?2)").bind(1, id).bind(2, team).run()
            return connection.changes == 1
        }
    }

    public func touchToken(id: String, now: Int64) throws {
        try connection.write {
            try connection.statement("UPDATE tokens SET last_used_at = ?2 WHERE id = ?1").bind(1, id).bind(2, now).run()
        }
    }

    public func appendAudit(_ entry: AuditEntry) throws {
        try connection.write {
            try connection.statement("""
                INSERT INTO audit (at, actor, role, team, object_kind, object_id, action, detail)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                """)
                .bind(1, entry.at).bind(2, entry.actor).bind(3, entry.role).bind(4, entry.team).bind(5, entry.objectKind)
                .bind(6, entry.objectID).bind(7, entry.action).bind(8, entry.detail).run()
        }
    }

    public func audit(team: String?, before: Int64?, limit: Int) throws -> [AuditEntry] {
        let statement = try connection.statement("""
            SELECT \(Self.auditColumns) FROM audit
            WHERE (?1 IS NULL OR team = ?1) AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3
            """)
        return try all(statement.bind(1, team).bind(2, before).bind(3, limit), Self.entry)
    }
}
