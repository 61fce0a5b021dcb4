import HookRelayAdmin
import HookRelayCore
import HookRelayStore
import Synchronization

/// Who is calling the API: the configured token (an admin of every team), or a stored token
/// with its role and team.
struct Principal: Sendable {
    var role: TokenRole
    var team: String
    /// A publisher that may send to any team.
    var anyTeam = false
    /// How the audit names it: a token's id, or `bootstrap`.
    var actor: String

    static let bootstrap = Principal(role: .admin, team: Team.defaultID, actor: "bootstrap")

    var isAdmin: Bool { role == .admin }

    /// Whether `team`'s objects exist for this caller at all (else: 404).
    func sees(_ team: String) -> Bool { isAdmin || team == self.team }
    func mayRead(_ team: String) -> Bool { sees(team) && role != .publisher }
    func mayManage(_ team: String) -> Bool { isAdmin || (team == self.team && role == .teamAdmin) }
    func mayPublish(_ team: String) -> Bool {
        isAdmin || (role == .publisher && (anyTeam || team == self.team)) || (role == .teamAdmin && team == self.team)
    }
}

/// The stored tokens as the API checks them: looked up by digest and kept for a second, so a
/// revoked token stops working within a second on every instance without a database read per
/// request; last use written at most once a minute per token.
final class TokenDirectory: Sendable {
    static let freshFor: Int64 = 1_000
    static let touchEvery: Int64 = 60_000
    private let admin: Admin
    private let now: @Sendable () -> Int64
    private let cache = Mutex<(tokens: [String: (token: AccessToken?, at: Int64)], touched: [String: Int64])>(([:], [:]))

    init(admin: Admin, now: @escaping @Sendable () -> Int64) {
        self.admin = admin
        self.now = now
    }

    /// The caller a presented token stands for, or nil (unknown, revoked or expired).
    func principal(for presented: String) async throws -> Principal? {
        try await principal(digest: AccessToken.digest(of: presented))
    }

    /// The caller a token's digest stands for: how the web page re-checks a session's token on
    /// every request without keeping the token itself.
    func principal(digest: String) async throws -> Principal? {
        let now = now()
        let cached = cache.withLock { $0.tokens[digest] }
        let token: AccessToken?
        if let cached, now - cached.at < Self.freshFor {
            token = cached.token
        } else {
            token = try await admin.reader.withStore { try $0.token(digest: digest) }
            cache.withLock { state in
                if state.tokens.count > 10_000 { state.tokens.removeAll() }
                state.tokens[digest] = (token, now)
            }
        }
        guard let token, !token.isExpired(now: now) else { return nil }
        let touch = cache.withLock { state -> Bool in
            guard now - (state.touched[token.id] ?? 0) >= Self.touchEvery else { return false }
            state.touched[token.id] = now
            return true
        }
        if touch {
            let (admin, id) = (admin, token.id)
            Task { try? await admin.store.withStore { try $0.touchToken(id: id, now: now) } }
        }
        return Principal(role: token.role, team: token.team, anyTeam: token.anyTeam, actor: token.id)
    }
}
