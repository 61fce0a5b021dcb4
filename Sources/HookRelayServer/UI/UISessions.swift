import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayStore
import HookRelayTemplates
import HTTPTypes
import Hummingbird
import Synchronization

/// A signed-in browser: its session id, CSRF token, and the message for its next page.
struct UISession: Sendable {
    var id: String
    var csrf: String
    var expires: Int64
    var notice: String?
    var problem: String?

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

    func start() -> UISession {
        let now = UnixTime.now()
        let session = UISession(id: Admin.randomHex(32), csrf: Admin.randomHex(32), expires: now + Self.lifetime)
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

    func end(_ id: String) {
        sessions.withLock { _ = $0.removeValue(forKey: id) }
    }
}
