import HookRelayCore

/// A customer team: its webhooks, tokens and audit entries belong to it. `default` always
/// exists; a database from before teams has every webhook in it.
public struct Team: Sendable, Equatable, Codable {
    public static let defaultID = "default"

    public var id: String
    public var name: String
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(id: String, name: String, now: Int64) {
        self.id = id
        self.name = name
        createdAt = now
        updatedAt = now
    }

    /// The key an event of `team` is stored under, its `webhook-id`: its id, prefixed with the
    /// team's id and a space outside `default`, so that ids are unique per team. A space, since
    /// no key of `default` has one (`MessageID` takes ids of visible ASCII only): `acme/x` in
    /// `default` and `x` in `acme` stay two events.
    public static func eventKey(_ id: String, team: String) -> String { team == defaultID ? id : team + " " + id }

    /// Lowercase letters, digits, `-` and `_`, 1 to 64 of them.
    public static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64
            && id.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x5F }
    }
}

/// What a token may do.
public enum TokenRole: String, Sendable, Codable, CaseIterable {
    /// Everything, in every team: teams and tokens too.
    case admin
    /// Its team: webhooks and every action on them, deliveries, events, tokens below admin.
    case teamAdmin = "team_admin"
    /// Reads its team; changes nothing.
    case viewer
    /// Sends events only: to its team, or to any team when made so.
    case publisher

    /// The roles a team admin may give: below admin.
    public var isBelowAdmin: Bool { self != .admin }
}

/// An API token as stored: its SHA-256 digest, never the token itself.
public struct AccessToken: Sendable, Equatable, Codable {
    /// `tok_` and 16 hex digits: how the API, the log and the audit name it.
    public var id: String
    /// The token's SHA-256, hex.
    public var digest: String
    public var role: TokenRole
    public var team: String
    /// A publisher that may send to any team (the event's `team` field, else `default`).
    public var anyTeam: Bool
    public var description: String
    public var createdAt: Int64
    public var lastUsedAt: Int64?
    public var expiresAt: Int64?

    /// Whether a caller may see and revoke this token: an admin any token; a team admin only
    /// those of its team below admin and for its team alone (what it may make itself).
    public func isManageable(byAdmin isAdmin: Bool) -> Bool { isAdmin || (role.isBelowAdmin && !anyTeam) }

    public init(
        id: String, digest: String, role: TokenRole, team: String, anyTeam: Bool = false, description: String = "",
        createdAt: Int64, lastUsedAt: Int64? = nil, expiresAt: Int64? = nil
    ) {
        self.id = id
        self.digest = digest
        self.role = role
        self.team = team
        self.anyTeam = anyTeam
        self.description = description
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
    }

    /// The digest a presented token is looked up by.
    public static func digest(of token: String) -> String { APIToken.hexDigest(of: token) }

    public func isExpired(now: Int64) -> Bool { expiresAt.map { $0 <= now } ?? false }
}

/// One recorded change: who (a token, or an admin command and its OS user), in which team, to
/// which object, and what changed (never a secret).
public struct AuditEntry: Sendable, Equatable, Codable {
    public var id: Int64
    public var at: Int64
    /// A token's id, `bootstrap` (the configured admin token), or `admin command (USER)`.
    public var actor: String
    public var role: String
    public var team: String
    /// `team`, `token`, `webhook`, `delivery`.
    public var objectKind: String
    public var objectID: String
    /// `created`, `updated`, `deleted`, `paused`, `resumed`, `enabled`, `secret_rotated`,
    /// `retried`, `recovered`, `tested`, `revoked`.
    public var action: String
    /// What changed, as JSON text (field names and values, never a secret).
    public var detail: String

    public init(
        id: Int64 = 0, at: Int64, actor: String, role: String, team: String, objectKind: String, objectID: String,
        action: String, detail: String = "{}"
    ) {
        self.id = id
        self.at = at
        self.actor = actor
        self.role = role
        self.team = team
        self.objectKind = objectKind
        self.objectID = objectID
        self.action = action
        self.detail = detail
    }
}

/// Teams, their tokens and the audit log of `serve`.
///
/// Implementations are used from one thread at a time; times are Unix milliseconds.
public protocol AccessRepository: AnyObject {
    func teams() throws -> [Team]
    func team(id: String) throws -> Team?
    /// Adds a team; false when one with its id exists.
    func createTeam(_ team: Team) throws -> Bool
    /// Renames a team; nil when it does not exist.
    func renameTeam(id: String, name: String, now: Int64) throws -> Team?
    /// Removes a team with its tokens and webhooks (whose pending deliveries are discarded as a
    /// deleted webhook's are); false when it does not exist. `default` is refused by the caller.
    func deleteTeam(id: String) throws -> Bool

    /// The tokens of `team`, or of every team; oldest first.
    func tokens(team: String?) throws -> [AccessToken]
    func token(digest: String) throws -> AccessToken?
    func saveToken(_ token: AccessToken) throws
    /// Removes a token (of `team` when given); false when there is none.
    func revokeToken(id: String, team: String?) throws -> Bool
    /// Records that a token was used (at most once a minute per token is enough for callers).
    func touchToken(id: String, now: Int64) throws

    /// Deletes up to `limit` stored events of a team other than `default` (keys beginning
    /// `TEAM `), with their deliveries and attempts, in one transaction; returns how many.
    func discardEvents(ofTeam team: String, limit: Int) throws -> Int

    func appendAudit(_ entry: AuditEntry) throws
    /// Newest first, of `team` or every team, older than the entry `before` when given.
    func audit(team: String?, before: Int64?, limit: Int) throws -> [AuditEntry]
}
