import HookRelayStore

/// What a ``Dispatcher`` decides, as a value: it takes events (a worker asks for a job, an
/// attempt finished, input arrived or ended, a store round ended, stop) and answers with what to
/// do (hand out a job, make the worker wait, what the next store round writes and claims, how long
/// to sleep, end the run). It holds no lock, starts no thread, reads no clock and calls no store:
/// the driver does all of that, and tests drive it with made-up times.
struct DispatchMachine {
    struct Settings {
        /// How many deliveries to keep claimed ahead of the workers.
        var claimBatch: Int
        var maxPerEndpoint: Int?
        /// No waiting for deliveries due after this time (Unix ms); nil waits for all of them.
        var waitUntil: Int64?
        /// The longest idle sleep while the input goes on (`serve`), in ms; nil polls every ``idlePoll``.
        var idleWait: Int64?
        /// A durable store records each outcome at once; in memory a batch's worth is gathered.
        var promptOutcomes: Bool
        /// A durable store whose rounds are dear (PostgreSQL): outcomes may gather for this
        /// long (ms) before a round while nothing makes it urgent (``mayGather``); nil: never.
        var gatherOutcomes: Int64? = nil
        /// The wait after the first round that failed for a transient store error (ms), doubled
        /// after each further failure up to `storeRetryCap`; nil: such an error ends the run
        /// (`deliver`, whose exit status tells to run it again).
        var storeRetryFirst: Int64?
        var storeRetryCap: Int64 = 5_000
        /// How long (ms) a claimed delivery may wait in the buffer and still be handed out: its
        /// lease less the longest an attempt may take, so that no attempt outlives its lease
        /// (another round, or another process, would claim and send it again meanwhile). One
        /// that waited longer is given back to the store instead; nil: no limit.
        var handOutWithin: Int64? = nil
        /// Whether the run reports how many attempted deliveries wait for a retry (`deliver`'s
        /// progress line): only then are they tracked. A daemon never reports it, and deliveries
        /// it never sees end (failed when their webhook is disabled, finished by another
        /// instance or an operator) would otherwise stay in the set for the life of the process.
        var countsRetrying = true
        /// Slot grants (``SlotGrants``, PostgreSQL) renewed every this many ms: `maxPerEndpoint`
        /// holds across processes by the grants (``GrantedSlots``); nil: by the store's claims.
        var grantRenewal: Int64? = nil
        /// How long (ms) after a renewal attempts may start on its grants: their length less the
        /// longest attempt; nil: no end.
        var grantUsable: Int64? = nil
    }

    /// Outcomes that make the store thread write a batch before workers run short of jobs.
    static let outcomeBatch = 64
    /// How long the store thread sleeps when nothing is due and nothing happens (ms).
    static let idlePoll: Int64 = 20

    let settings: Settings
    /// Claimed and not yet handed out, each with the time of the round that claimed it.
    private(set) var buffer: [(job: ClaimedDelivery, at: Int64)] = []
    private(set) var bufferStart = 0
    /// Workers waiting for a job, in the order they asked.
    private(set) var waiting = 0
    private(set) var outcomes: [DeliveryOutcome] = []
    private(set) var appends: [NewMessage] = []
    private var gone: Set<String> = []
    private var newlyGone: [(target: String, error: String)] = []
    /// Claimed but not handed out when stopping, or kept in the buffer too long to be sent
    /// within its lease, to hand back to the store.
    private(set) var releasing: [ClaimedDelivery] = []

    /// Claims wait to be handed back (the store thread should run a round).
    var releasesWaiting: Bool { !releasing.isEmpty }
    /// Deliveries attempted in this run and waiting for a retry (for the progress line).
    private var unfinished: Set<Int64> = []
    private(set) var inFlight = 0
    /// Deliveries claimed (buffered or in flight) per target, when a per-target limit is set.
    private var perEndpoint: [String: Int] = [:]
    /// Deliveries appended and not finished (the in-memory store's backpressure).
    private(set) var outstanding = 0
    private var inputDone = false
    private(set) var stopping = false
    /// The store has been told that the input is done.
    private(set) var ingestFinishedSeen = false
    private(set) var finished = false
    /// Woken since the last round began: new input or a change to act on.
    private(set) var woken = false
    /// Rounds in a row that failed for a transient store error: while any did, nothing is handed
    /// out (what was claimed waits in the buffer), and what the rounds could not write is kept.
    private(set) var storeFailures = 0
    /// The slot grants, when the settings ask for them.
    private(set) var slots: GrantedSlots?
    /// The grants are due for renewal (as of the last event that told the time): chains end.
    private var renewalDue = false

    init(_ settings: Settings) {
        self.settings = settings
        slots = settings.grantRenewal.map(GrantedSlots.init(renewal:))
    }

    // MARK: Events from the reader and the operator

    /// Messages for the store thread to append; the reader then waits while ``mustWait(limit:)``.
    mutating func append(_ messages: [NewMessage]) {
        appends += messages
        outstanding += messages.reduce(0) { $0 + $1.targets.count }
    }

    func mustWait(limit: Int) -> Bool { outstanding >= limit && !finished }

    mutating func inputArrived() { woken = true }

    mutating func inputFinished() { inputDone = true }

    /// Stops handing out jobs; returns how many waiting workers to end.
    mutating func stop() -> Int {
        stopping = true
        defer { waiting = 0 }
        return waiting
    }

    /// Ends the run (done, or the store failed); returns how many waiting workers to end.
    mutating func finish() -> Int {
        finished = true
        defer { waiting = 0 }
        return waiting
    }

    // MARK: Events from the workers

    enum Answer {
        case job(ClaimedDelivery)
        case wait
        case end
    }

    /// A worker asks for its next job at `now`; a buffered one whose lease would end before an
    /// attempt could (``Settings/handOutWithin``) is given back instead, in the next round.
    mutating func workerAsks(now: Int64 = 0) -> Answer {
        if stopping { return .end }
        if storeFailures == 0, let job = takeJob(now: now) { return .job(job) }
        if finished { return .end }
        waiting += 1
        return .wait
    }

    /// The first buffered job that may start now (under slot grants: on a free slot), counted in
    /// flight; those buffered too long to be sent within their lease are moved to `releasing`.
    private mutating func takeJob(now: Int64) -> ClaimedDelivery? {
        var index = bufferStart
        while index < buffer.count {
            let (job, at) = buffer[index]
            let stale = settings.handOutWithin.map { now - at > $0 } ?? false
            guard stale || slots?.mayStart(job.target, now: now, limit: settings.maxPerEndpoint) ?? true else {
                index += 1
                continue
            }
            if index == bufferStart {
                bufferStart += 1
                index += 1
            } else {
                buffer.remove(at: index)
            }
            if stale {
                releasing.append(job)
                if settings.maxPerEndpoint != nil { perEndpoint[job.target, default: 1] -= 1 }
                continue
            }
            inFlight += 1
            slots?.started(job.target)
            return job
        }
        return nil
    }

    /// Moves the buffered jobs whose target `matches` to `releasing`.
    private mutating func releaseBuffered(_ matches: (String) -> Bool) {
        let kept = buffer[bufferStart...].filter { !matches($0.job.target) }
        for (job, _) in buffer[bufferStart...] where matches(job.target) {
            releasing.append(job)
            perEndpoint[job.target, default: 1] -= 1
        }
        buffer = Array(kept)
        bufferStart = 0
    }

    /// Hands buffered jobs that may start to waiting workers, in the order they asked.
    private mutating func serveWaiting(now: Int64) -> [ClaimedDelivery] {
        var handOut: [ClaimedDelivery] = []
        while waiting > 0, storeFailures == 0, let job = takeJob(now: now) {
            waiting -= 1
            handOut.append(job)
        }
        return handOut
    }

    /// An attempt finished at `now`; returns whether the store thread should run a round now,
    /// and (under slot grants, where the slot it frees is taken again at once) the jobs for the
    /// first waiting workers.
    mutating func attemptFinished(
        _ outcome: DeliveryOutcome, targetGone: Bool, now: Int64 = 0
    ) -> (urgent: Bool, handOut: [ClaimedDelivery]) {
        let target = outcome.delivery.target
        inFlight -= 1
        if settings.maxPerEndpoint != nil { perEndpoint[target, default: 1] -= 1 }
        outcomes.append(outcome)
        if targetGone, gone.insert(target).inserted {
            newlyGone.append((target, outcome.attempt.error ?? "410 Gone"))
        }
        var handOut: [ClaimedDelivery] = []
        if slots != nil {
            slots?.ended(target)
            // Claimed ahead for a target that answered 410: given back before its queue is failed.
            if targetGone { releaseBuffered { $0 == target } }
            handOut = serveWaiting(now: now)
        }
        let urgent = settings.promptOutcomes || outcomes.count >= Self.outcomeBatch || inFlight == 0 || waiting > 0
            || !newlyGone.isEmpty || !releasing.isEmpty
        return (urgent, handOut)
    }

    func isGone(_ target: String) -> Bool { gone.contains(target) }

    /// Whether the store thread may wait (up to ``Settings/gatherOutcomes``) for more outcomes
    /// before its next round: there are outcomes to write and nothing is urgent. Urgent are a
    /// worker waiting for a job, a full batch of outcomes, a target gone, messages to append or
    /// claims to give back, stopping, a store that is failing, and nothing in flight (no more
    /// outcomes would come). New input is not: workers busy with what they hold claim it when
    /// one of them asks.
    var mayGather: Bool {
        settings.gatherOutcomes != nil && !outcomes.isEmpty && outcomes.count < Self.outcomeBatch && waiting == 0 && inFlight > 0
            && onlyOutcomesWait
    }

    /// Nothing but outcomes waits for the store thread: no messages, claims to give back, target
    /// gone, stop or failing store.
    private var onlyOutcomesWait: Bool {
        appends.isEmpty && releasing.isEmpty && newlyGone.isEmpty && !stopping && storeFailures == 0
    }

    /// Whether the next round is only outcomes to record and claims to make, and should run
    /// now: nothing else waits for the store thread (messages, claims to give back, a target
    /// gone, the end of the input, a stop, a failing store) and outcomes need not gather. Such
    /// rounds follow each other on a ``ChainedRounds`` store's own thread.
    var chainable: Bool {
        !outcomes.isEmpty && onlyOutcomesWait && !(inputDone && !ingestFinishedSeen) && !mayGather && !renewalDue
    }

    /// Whether a chain of rounds may wait for the next outcome instead of ending: no outcome
    /// waits yet, attempts are in flight (their outcomes will come), and nothing else waits for
    /// the store thread (as for ``chainable``, and no new input to claim).
    var chainMayWait: Bool {
        outcomes.isEmpty && inFlight > 0 && onlyOutcomesWait && !(inputDone && !ingestFinishedSeen) && !woken && !renewalDue
    }

    // MARK: Slot grants

    /// Whether the store thread should renew the slot grants before its round, at `uptime` (a
    /// monotonic clock's ms: the renewals' pace is not the deliveries' time, which tests set).
    func grantsDue(uptime: Int64) -> Bool { slots?.due(uptime: uptime) ?? false }

    /// Notes whether the grants are due for renewal at `uptime`: a chain of rounds then ends.
    mutating func checkRenewal(uptime: Int64) { renewalDue = grantsDue(uptime: uptime) }

    /// A renewal of the grants begins: what it reports (the attempts in flight per endpoint,
    /// which cap each endpoint until it ends, and the endpoints this process holds claims for).
    mutating func beginRenewal() -> (inFlight: [String: Int], holding: Set<String>, asking: Bool) {
        (slots?.beginRenewal() ?? [:], Set(perEndpoint.filter { $0.value > 0 }.keys), !stopping)
    }

    /// The grants as renewed at `now` by a renewal that began at `uptime` and took `took` ms
    /// (`now`: the time the store was given, each lasts until then plus its length), or nil when
    /// it failed; attempts may start on them for ``Settings/grantUsable``. Returns jobs
    /// for waiting workers that may start at `current` (the time the renewal ended).
    mutating func grantsRenewed(
        _ grants: [String: Int]?, at now: Int64, uptime: Int64, took: Int64 = 0, current: Int64? = nil
    ) -> [ClaimedDelivery] {
        slots?.renewed(grants, at: now, uptime: uptime, took: took, usableFor: settings.grantUsable)
        renewalDue = false
        return serveWaiting(now: current ?? now)
    }

    // MARK: The store thread's rounds

    /// What one store round does, in this order: tell the store the input ended, append, release,
    /// record the outcomes (before failing the gone targets' queues, so the 410 itself is
    /// recorded first), then claim up to `wanted` under `quota`.
    struct Round {
        var ingestJustFinished: Bool
        var appends: [NewMessage]
        var release: [ClaimedDelivery]
        var outcomes: [DeliveryOutcome]
        var gone: [(target: String, error: String)]
        var wanted: Int
        var quota: TargetQuota?
        var stopping: Bool

        var hadWork: Bool { !appends.isEmpty || !outcomes.isEmpty }
    }

    /// Takes what waits for the store. `paused`: targets that get nothing for now.
    mutating func beginRound(paused: Set<String>, ruled: Set<String> = []) -> Round {
        if let previous = slots?.ruled {
            slots?.ruled = ruled
            // Claimed ahead for a webhook paused since, or given rules (its claims are counted
            // and ordered by them): given back now, not when the lease runs short.
            let held = paused.subtracting(ruled).union(ruled.subtracting(previous))
            if !held.isEmpty, buffer[bufferStart...].contains(where: { held.contains($0.job.target) }) {
                releaseBuffered { held.contains($0) }
            }
        }
        var round = Round(
            ingestJustFinished: inputDone && !ingestFinishedSeen, appends: appends, release: releasing, outcomes: outcomes,
            gone: newlyGone, wanted: max(0, settings.claimBatch - (buffer.count - bufferStart)), quota: nil, stopping: stopping)
        ingestFinishedSeen = inputDone
        releasing.removeAll()
        outcomes.removeAll(keepingCapacity: true)
        appends.removeAll(keepingCapacity: true)
        newlyGone.removeAll()
        if stopping {
            round.wanted = 0
            round.release += buffer[bufferStart...].map(\.job)
            buffer.removeAll()
            bufferStart = 0
        }
        // Endpoints at their limit get nothing this round: a slow one cannot take every worker.
        if let limit = settings.maxPerEndpoint {
            round.quota = TargetQuota(limit: limit, held: perEndpoint, paused: paused, granted: slots?.claims(held: perEndpoint, paused: paused))
        } else if !paused.isEmpty {
            round.quota = TargetQuota(limit: Int.max, held: perEndpoint, paused: paused)
        }
        // This round claims whatever the wake-up was about.
        woken = false
        return round
    }

    /// A round failed for a transient store error, having written all but `unwritten` (the
    /// round as it began, less what it wrote): keeps that for the next round, and returns how
    /// long to wait before it (ms), or nil when the run ends: without `storeRetryFirst`, or while
    /// stopping (what it could not write is sent again once its lease expires, same `webhook-id`).
    mutating func roundFailed(_ unwritten: Round?) -> Int64? {
        if let unwritten {
            if unwritten.ingestJustFinished { ingestFinishedSeen = false }
            appends = unwritten.appends + appends
            releasing = unwritten.release + releasing
            outcomes = unwritten.outcomes + outcomes
            newlyGone = unwritten.gone + newlyGone
        }
        guard !stopping, let first = settings.storeRetryFirst else { return nil }
        storeFailures += 1
        let doublings = Int64(min(storeFailures - 1, 20))
        return min(settings.storeRetryCap, first << doublings)
    }

    /// A round's result: what it claimed, and (for the in-memory store) how much is outstanding.
    /// Returns the jobs for waiting workers (the first `count` waiters, in order), and whether the
    /// round found nothing to do (then the store thread may sleep, see ``idle(due:now:)``).
    mutating func endRound(
        _ round: Round, claimed: [ClaimedDelivery], memoryOutstanding: Int?, at now: Int64 = 0
    ) -> (handOut: [ClaimedDelivery], idle: Bool) {
        storeFailures = 0
        if let memoryOutstanding {
            outstanding = memoryOutstanding + appends.reduce(0) { $0 + $1.targets.count }
        }
        // Drop the jobs already handed out, so the buffer holds only what waits.
        if bufferStart > 0 {
            buffer.removeFirst(bufferStart)
            bufferStart = 0
        }
        if settings.maxPerEndpoint != nil {
            for job in claimed { perEndpoint[job.target, default: 0] += 1 }
        }
        buffer += claimed.map { ($0, now) }
        if !claimed.isEmpty { slots?.claimed(claimed.map(\.target)) }
        let handOut = serveWaiting(now: now)
        let busy = !outcomes.isEmpty || !appends.isEmpty || !newlyGone.isEmpty || !releasing.isEmpty
        return (handOut, claimed.isEmpty && !round.hadWork && !busy)
    }

    /// Records the states a round left: returns those that reached a final state (to report) and,
    /// when anything changed, how many attempted deliveries wait for a retry.
    mutating func record(_ states: [DeliveryState?], failedByGone: [DeliveryState] = []) -> (final: [DeliveryState], retrying: Int?) {
        var final: [DeliveryState] = []
        var pending: [Int64] = []
        for case let delivery? in states {
            if delivery.status == .pending { pending.append(delivery.id) } else { final.append(delivery) }
        }
        for state in failedByGone { unfinished.remove(state.id) }
        guard settings.countsRetrying, !pending.isEmpty || !final.isEmpty else { return (final, nil) }
        unfinished.formUnion(pending)
        unfinished.subtract(final.map(\.id))
        return (final, unfinished.count)
    }
}
