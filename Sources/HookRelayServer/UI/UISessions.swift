import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayStore
import HookRelayTemplates
import HTTPTypes
import Hummingbird
import Synchronization

/// A signed-in browser: its session id, CSRF token, who logged in, the team it looks at, and
/// the message for its next page.
struct UISession: Sendable {
    var id: String
    var csrf: String
    var expires: Int64
    /// Who logged in, as re-checked at the session's last request.
    var principal: Principal
    /// The digest of the stored token that logged in (nil: the configured token), looked up
    /// again on every request so a revoked or expired token ends the session.
    var digest: String?
    /// The team the pages show: the principal's, or the one an admin switched to.
    var team: String
    var notice: String?
    var problem: String?

    var mayManage: Bool { principal.mayManage(team) }

    /// Whether a form carries this session's CSRF token (compared in constant time).
    func accepts(_ form: some SessionForm) -> Bool {
        APIToken(csrf).matches(form.csrf)
    }
}

final class UISessions: Sendable {
    static let cookie = "hookrelay_session"
    /// Sessions end this long after login (milliseconds).
    static let lifetime: Int64 = 8 * 3600 * 1000
    private let sessions = Mutex<[String: UISession]>([:])

    func start(_ principal: Principal, digest: String?) -> UISession {
        let now = UnixTime.now()
        let session = UISession(
            id: Admin.randomHex(32), csrf: Admin.randomHex(32), expires: now + Self.lifetime, principal: principal, digest: digest,
            team: principal.team)
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expires > now }
            sessions[session.id] = session
        }
        return session
    }

    func session(_ request: Request) -> UISession? {
        guard let id = request.cookies[Self.cookie]?.value, !id.isEmpty else { return nil }
        let now = UnixTime.now()
        return sessions.withLock { sessions in
            guard let session = sessions[id] else { return nil }
            guard session.expires > now else {
                sessions[id] = nil
                return nil
            }
            return session
        }
    }

    /// The session with its message, which is shown once.
    func take(_ session: UISession) -> UISession {
        sessions.withLock { sessions in
            guard var stored = sessions[session.id] else { return session }
            let shown = stored
            stored.notice = nil
            stored.problem = nil
            sessions[session.id] = stored
            return shown
        }
    }

    func flash(_ id: String, notice: String? = nil, problem: String? = nil) {
        sessions.withLock { sessions in
            sessions[id]?.notice = notice
            sessions[id]?.problem = problem
        }
    }

    /// Keeps what a request found: the principal as re-checked, the team shown.
    func update(_ session: UISession) {
        sessions.withLock { sessions in
            sessions[session.id]?.principal = session.principal
            sessions[session.id]?.team = session.team
        }
    }

    func end(_ id: String) {
        sessions.withLock { _ = $0.removeValue(forKey: id) }
    }
}
