import Dispatch
import HookRelayStore

/// Chained rounds: on a ``ChainedRounds`` store (PostgreSQL) a round that only records outcomes
/// and claims is started on the store's own I/O thread, and when its answer arrives there the
/// claims are handed out and the next such round begins at once, while the store thread waits
/// for the chain to end and reports what the rounds recorded (off the I/O thread: the report
/// logs each delivery). Each round of the chain is what the store thread would have run next
/// (``DispatchMachine/chainable``). When no outcome waits yet but attempts are in flight, the
/// chain waits for the next outcome (``DispatchMachine/chainMayWait``), which starts the next
/// round from the worker that reports it. Anything else ends the chain and the store thread goes
/// on from there: messages to append, claims to give back, a target gone, rate-limited or
/// ordered webhooks, outcomes to gather, new input while the chain waits (a running chain claims
/// it itself), a stop, a failed round, or a chain that waited for an outcome longer than
/// `chainWaitLimit` (20 ms; a retry falling due meanwhile is claimed then).
extension Dispatcher {
    /// How many rounds' states wake the store thread to report them before its next look.
    static let chainReportBatch = 16

    enum ChainState {
        case off
        case running
        /// Waiting for an outcome since `since` (uptime ns); the next round leaves out `held`.
        case waiting(held: Set<String>, since: UInt64)
    }

    /// Runs `first` and the rounds chained after it, reporting what they recorded; returns when
    /// the chain has ended. A round that failed is thrown, with `unwritten` set to it
    /// (``DispatchMachine/roundFailed(_:)``).
    func runChain(_ first: DispatchMachine.Round, unwritten: inout DispatchMachine.Round?) throws {
        let limit = UInt64(chainWaitLimit) * 1_000_000
        locked { chain = .running }
        startChained(first)
        var over = false
        while !over {
            _ = chainEvents.wait(timeout: .now() + .milliseconds(Int(DispatchMachine.idlePoll)))
            let reports: [[DeliveryState?]]
            (reports, over) = locked {
                defer { chainReports.removeAll() }
                if case let .waiting(_, since) = chain, DispatchTime.now().uptimeNanoseconds - since >= limit {
                    // Waited long enough for an outcome: the store thread takes over.
                    chain = .off
                }
                // Only the chain's end sets it off while it runs.
                if case .off = chain { return (chainReports, true) }
                return (chainReports, false)
            }
            for states in reports { apply(states) }
        }
        let failure = locked {
            defer { chainFailure = nil }
            return chainFailure
        }
        guard let (error, round) = failure else {
            unwritten = nil
            return
        }
        unwritten = round
        throw error
    }

    /// Ends the chain (with `condition` held).
    private func endChain() {
        chain = .off
        chainEvents.signal()
    }

    /// Ends a chain that waits for an outcome: something else needs the store thread. Called
    /// with `condition` held.
    func endWaitingChain() {
        guard case .waiting = chain else { return }
        endChain()
    }

    /// After an attempt finished (with `condition` held): the next round of a chain that waited
    /// for it, or nil.
    func resumeChain() -> DispatchMachine.Round? {
        guard case let .waiting(held, _) = chain else { return nil }
        guard machine.chainable else {
            if !machine.chainMayWait { endChain() }
            return nil
        }
        chain = .running
        return machine.beginRound(paused: held)
    }

    func startChained(_ round: DispatchMachine.Round) {
        let time = now()
        chained!.completeAndClaim(round.outcomes, limit: round.wanted, now: time, lease: lease, quota: round.quota) { [self] result in
            switch result {
            case let .success(result):
                // The store thread waits in `runChain`, and nothing else calls the store meanwhile.
                if let next = endChained(round, result: result, at: time) { startChained(next) }
            case let .failure(error):
                locked {
                    chainFailure = (error, round)
                    endChain()
                }
            }
        }
    }

    /// Hands out what a chained round claimed and queues its states for the store thread to
    /// report; returns the next round when it may follow at once, else waits for an outcome or
    /// ends the chain.
    private func endChained(
        _ round: DispatchMachine.Round, result: (states: [DeliveryState?], claimed: [ClaimedDelivery]), at time: Int64
    ) -> DispatchMachine.Round? {
        let held = heldEndpoints?() ?? []
        let ruled = !(ruledEndpoints?() ?? [:]).isEmpty
        let (next, back): (DispatchMachine.Round?, Bool) = locked {
            let back = recovered()
            let (handOut, _) = machine.endRound(round, claimed: result.claimed, memoryOutstanding: nil, at: time)
            machine.checkRenewal(uptime: Self.uptime())
            for job in handOut { waiters.removeFirst().resume(returning: job) }
            condition.broadcast()
            if !result.states.isEmpty {
                chainReports.append(result.states)
                // The store thread reports them when it next looks (every 20 ms), or now when
                // many wait: a wake-up a round slowed the rounds by a tenth (docs/benchmarks.md).
                if chainReports.count >= Self.chainReportBatch { chainEvents.signal() }
            }
            if !ruled, machine.chainable { return (machine.beginRound(paused: held), back) }
            if !ruled, machine.chainMayWait {
                chain = .waiting(held: held, since: DispatchTime.now().uptimeNanoseconds)
            } else {
                endChain()
            }
            return (nil, back)
        }
        if back { storeTrouble(.recovered) }
        return next
    }
}
