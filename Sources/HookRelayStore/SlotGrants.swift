/// Slot grants: how a store shared by several processes (PostgreSQL) keeps a webhook's limit on
/// attempts in flight across all of them without a round trip to the database for every attempt.
///
/// Each process holds a grant per endpoint it works for: a number of slots, until a time. The
/// grants of one endpoint never sum past its limit (each is written under the endpoint's lock,
/// from the others' unexpired grants), and a process starts an attempt only while it has a free
/// slot and its grant will outlast the attempt. So the limit holds across processes while a slot
/// is freed and taken again in memory: the outcome is written in the background, and claims run
/// ahead of the workers (``TargetQuota/granted``). A process that dies holds its slots until its
/// grant expires, as it holds its leases.
public protocol SlotGrants: DeliveryQueue {
    /// Renews this process's grants under a per-endpoint limit of `limit`: for the endpoints with
    /// a due delivery no lease holds, those in `holding` (this process holds claims for them) and
    /// those it had a grant for, except `excluded` ones (paused, or claimed under their own
    /// rules); without `asking` (stopping) it wants none and keeps only what is in flight.
    /// `inFlight`: attempts this process has in flight per endpoint. Each grant lasts until
    /// `now + lease`. Returns the slots this process may use per endpoint for every grant it
    /// holds (0: asked for, none free yet): its grant may be larger while attempts beyond its
    /// share end. A grant it still held is never made less than `inFlight`, so attempts may start
    /// during the renewal while no more are in flight. Nil: not renewed this time (an endpoint's
    /// lock was held too long): the grants held stand.
    func renewGrants(
        limit: Int, inFlight: [String: Int], holding: Set<String>, excluded: Set<String>, asking: Bool, now: Int64, lease: Int64
    ) throws -> [String: Int]?

    /// Gives back every grant of this process (it stops).
    func releaseGrants() throws
}

/// How many slots of an endpoint's `limit` a process gets, from the unexpired grants of the
/// others (each a number of slots; a grant of none is a process asking for its share).
public enum SlotShare {
    /// A process that wants the endpoint may use its fair share (the limit split among the
    /// processes that hold or ask) within what the others leave; one that does not want it, none.
    /// Its grant is that, or what it has in flight if more: attempts are not taken back, the grant
    /// shrinks as they end (none at all: the grant is given back).
    public static func slots(limit: Int, inFlight: Int, wanting: Bool, others: [Int]) -> (grant: Int, usable: Int) {
        let free = limit - others.reduce(0, +)
        let usable = wanting ? max(0, min(free, (limit + others.count) / (others.count + 1))) : 0
        return (max(0, min(free, max(inFlight, usable))), usable)
    }
}
