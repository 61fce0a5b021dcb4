import Dispatch
import HookRelayStore

/// Slot grants (``SlotGrants``, PostgreSQL): the store thread renews this process's share of each
/// webhook's limit before a round when it is due; the machine (``GrantedSlots``) starts attempts
/// on it.
extension Dispatcher {
    /// How often slot grants are renewed at most (ms, ``DispatchMachine/Settings/grantRenewal``).
    static let grantRenewal: Int64 = 100

    /// How long a slot grant lasts (ms): the lease, but at least a second more than the longest
    /// attempt, so that attempts may start on it for a while after each renewal (a lease may be
    /// as short as an attempt).
    static func grantLength(lease: Duration, longestAttempt: Duration) -> Int64 {
        max(lease.milliseconds, longestAttempt.milliseconds + 1_000)
    }

    /// A monotonic clock's ms: the pace of renewals.
    static func uptime() -> Int64 { Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000) }

    /// Renews the slot grants when they are due (``SlotGrants``).
    func renewGrants(excluded: Set<String>) throws {
        guard let (store, limit) = grants else { return }
        let (time, uptime) = (now(), Self.uptime())
        guard let (inFlight, holding, asking) = locked({ machine.grantsDue(uptime: uptime) ? machine.beginRenewal() : nil }) else { return }
        var granted: [String: Int]?
        defer {
            let (took, current) = (Self.uptime() - uptime, now())
            locked {
                for job in machine.grantsRenewed(granted, at: time, uptime: uptime, took: took, current: current) {
                    waiters.removeFirst().resume(returning: job)
                }
            }
        }
        granted = try store.renewGrants(
            limit: limit, inFlight: inFlight, holding: holding, excluded: excluded, asking: asking, now: time, lease: grantLength)
    }
}
