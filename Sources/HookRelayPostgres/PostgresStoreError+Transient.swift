import _ConnectionPoolModule
import NIOCore
import PostgresNIO

extension PostgresStoreError {
    /// Whether an error of a call may pass by itself (HookRelayStore's `StoreOutage`): no
    /// connection could be had or it broke, the server is shutting down, starting or out of
    /// connections, a statement or a lease took too long. Not a refused login, a bad TLS setting,
    /// a constraint or a syntax error: those need someone to act.
    static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case let error as PostgresStoreError:
            return error.isTransient
        case is TimedOut, is IOError, is ChannelError:
            return true
        case let error as ConnectionPoolError:
            // Connecting failed for a minute: the pool fails requests at once until it connects again.
            return error == .connectionCreationCircuitBreakerTripped
        case let error as PSQLError:
            if let state = error.serverInfo?[.sqlState] {
                // 08: connection exception; 53: out of connections, memory or disk; 57P01–57P05:
                // the server shuts down, crashed, starts or ended an idle session; 57014: the
                // statement timed out; 58: an I/O error of the server; 40001/40P01 past their retries.
                return state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("57P") || state.hasPrefix("58")
                    || ["57014", "40001", "40P01"].contains(state)
            }
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .queryCancelled: return true
            default: return false
            }
        default:
            return false
        }
    }
}
