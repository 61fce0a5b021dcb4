import HookRelayStore

/// Teams, tokens and audit entries as the API and the admin commands' `--json` show them.
public struct TeamView: Encodable {
    public var id: String
    public var name: String
    public var createdAt: String
    /// The team's own alert destinations (`serve`'s API; the admin commands show none).
    public var alerts: [AlertView]?
    enum CodingKeys: String, CodingKey { case id, name, createdAt = "created_at", alerts }
    public init(_ team: Team) {
        id = team.id
        name = team.name
        createdAt = AdminText.time(team.createdAt)
    }

    public init(_ team: Team, alerts: [Webhook]) {
        self.init(team)
        self.alerts = alerts.map(AlertView.init)
    }
}

public struct TokenView: Encodable {
    public var id: String
    public var role: String
    public var team: String
    public var anyTeam: Bool
    public var description: String
    public var createdAt: String
    public var lastUsedAt: String?
    public var expiresAt: String?
    /// Only in the answer that made it.
    public var token: String?
    enum CodingKeys: String, CodingKey {
        case id, role, team, description, token
        case anyTeam = "any_team", createdAt = "created_at", lastUsedAt = "last_used_at", expiresAt = "expires_at"
    }
    public init(_ token: AccessToken, secret: String? = nil) {
        id = token.id
        role = token.role.rawValue
        team = token.team
        anyTeam = token.anyTeam
        description = token.description
        createdAt = AdminText.time(token.createdAt)
        lastUsedAt = token.lastUsedAt.map { AdminText.time($0) }
        expiresAt = token.expiresAt.map { AdminText.time($0) }
        self.token = secret
    }
}

public struct AuditView: Encodable {
    public var id: Int64
    public var at: String
    public var actor: String
    public var role: String
    public var team: String
    public var object: String
    public var objectID: String
    public var action: String
    public var detail: String
    enum CodingKeys: String, CodingKey { case id, at, actor, role, team, object, action, detail, objectID = "object_id" }
    public init(_ entry: AuditEntry) {
        id = entry.id
        at = AdminText.time(entry.at)
        actor = entry.actor
        role = entry.role
        team = entry.team
        object = entry.objectKind
        objectID = entry.objectID
        action = entry.action
        detail = entry.detail
    }
}

public struct AuditPage: Encodable {
    public var entries: [AuditView]
    public var nextCursor: String?
    public init(entries: [AuditView], nextCursor: String?) {
        self.entries = entries
        self.nextCursor = nextCursor
    }
    enum CodingKeys: String, CodingKey { case entries, nextCursor = "next_cursor" }
}
