import HookRelayStore

// TEMPORARY on branch teams until teams-pg lands: removed at that merge.
extension PostgresStore {
    public func teams() throws -> [Team] { fatalError("teams-pg") }
    public func team(id: String) throws -> Team? { fatalError("teams-pg") }
    public func createTeam(_ team: Team) throws -> Bool { fatalError("teams-pg") }
    public func renameTeam(id: String, name: String, now: Int64) throws -> Team? { fatalError("teams-pg") }
    public func deleteTeam(id: String) throws -> Bool { fatalError("teams-pg") }
    public func tokens(team: String?) throws -> [AccessToken] { fatalError("teams-pg") }
    public func token(digest: String) throws -> AccessToken? { fatalError("teams-pg") }
    public func saveToken(_ token: AccessToken) throws { fatalError("teams-pg") }
    public func revokeToken(id: String, team: String?) throws -> Bool { fatalError("teams-pg") }
    public func touchToken(id: String, now: Int64) throws { fatalError("teams-pg") }
    public func appendAudit(_ entry: AuditEntry) throws { fatalError("teams-pg") }
    public func audit(team: String?, before: Int64?, limit: Int) throws -> [AuditEntry] { fatalError("teams-pg") }
}
