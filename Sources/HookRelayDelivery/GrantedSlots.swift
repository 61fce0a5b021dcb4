import HookRelayStore

/// A ``DispatchMachine``'s slot grants (``SlotGrants``, PostgreSQL): what this process was
/// granted per endpoint, and what it has in flight on them. An attempt starts only on a free
/// slot of a grant that outlasts it; claims run ahead of the workers by ``claimsAhead`` grants'
/// worth, and the grants are renewed every ``renewal`` ms.
struct GrantedSlots {
    /// How many grants' worth of deliveries an endpoint may have claimed (buffered or in flight).
    static let claimsAhead = 2

    /// How often the grants are renewed at most (ms): also how soon a process that asks for a
    /// share gets it, and how soon grants no longer needed are given back. A renewal that took
    /// long (many webhooks with work) spaces the next ones out to ten times its length.
    let renewal: Int64
    /// Attempts in flight per endpoint.
    private var running: [String: Int] = [:]
    /// Slots this process may use per endpoint (``SlotGrants/renewGrants(limit:inFlight:holding:excluded:now:lease:)``).
    private(set) var granted: [String: Int] = [:]
    /// While a renewal runs: the attempts in flight it reported per endpoint, which no endpoint
    /// may exceed until it ends (the new grant may be as small as that).
    private var renewing: [String: Int]?
    /// Until when an attempt may start on the grants: their end less the longest attempt.
    private var usableUntil = Int64.min
    /// When the grants are next due for renewal (a monotonic clock's ms); nil: now.
    private var nextRenewal: Int64?
    /// Endpoints claimed under their own rules (``RuledClaims``): their claims are limited by the
    /// store's count of leases, their attempts here by the per-endpoint limit alone.
    var ruled: Set<String> = []
    /// When each endpoint's claims last came back (a count of rounds): of the endpoints holding
    /// as little, the one served longest ago claims first, so none is left behind.
    private var served: [String: Int] = [:]
    private var rounds = 0

    init(renewal: Int64) { self.renewal = renewal }

    /// Whether an attempt to `target` may start at `now`.
    func mayStart(_ target: String, now: Int64, limit: Int?) -> Bool {
        var slots = ruled.contains(target) ? limit ?? Int.max : now <= usableUntil ? granted[target, default: 0] : 0
        if let renewing { slots = min(slots, renewing[target, default: 0]) }
        return running[target, default: 0] < slots
    }

    mutating func started(_ target: String) { running[target, default: 0] += 1 }

    mutating func ended(_ target: String) {
        let count = running[target, default: 1] - 1
        running[target] = count > 0 ? count : nil
    }

    /// Whether the grants are due for renewal at `uptime` (a monotonic clock's ms).
    func due(uptime: Int64) -> Bool {
        nextRenewal.map { uptime >= $0 } ?? true
    }

    /// A renewal begins: what it reports as in flight, which caps each endpoint until it ends.
    mutating func beginRenewal() -> [String: Int] {
        renewing = running
        return running
    }

    /// The grants as renewed at `now` (the deliveries' time) by a renewal that began at `uptime`
    /// and took `took` ms; attempts may start on them for `usableFor` ms (nil: no end). Nil: the
    /// renewal failed, or may have committed without this process hearing it: the grants held
    /// stand until they end, and each endpoint stays capped at what the renewal reported in flight
    /// until one succeeds (the database may hold the smaller grant). A slow renewal spaces the next
    /// ones out to ten times its length, but no further than a quarter of `usableFor`.
    mutating func renewed(_ grants: [String: Int]?, at now: Int64, uptime: Int64, took: Int64, usableFor: Int64?) {
        guard let grants else { return }
        renewing = nil
        granted = grants
        nextRenewal = uptime + min(max(renewal, 10 * took), max(renewal, (usableFor ?? Int64.max / 4) / 4))
        usableUntil = usableFor.map { now + $0 } ?? Int64.max
    }

    /// A round's claims came back for `targets`.
    mutating func claimed(_ targets: some Sequence<String>) {
        rounds += 1
        for target in targets { served[target] = rounds }
    }

    /// What the next claim may take: for each endpoint granted slots and not `paused`, up to
    /// ``claimsAhead`` grants' worth less what this process holds (`held`); those holding least
    /// first, then those served longest ago.
    func claims(held: [String: Int], paused: Set<String>) -> [(target: String, claims: Int)] {
        func order(_ target: String) -> (Int, Int, String) { (held[target, default: 0], served[target, default: 0], target) }
        return granted.compactMap { target, slots in
            let claims = Self.claimsAhead * slots - held[target, default: 0]
            return claims > 0 && !paused.contains(target) ? (target, claims) : nil
        }.sorted { order($0.target) < order($1.target) }
    }
}
