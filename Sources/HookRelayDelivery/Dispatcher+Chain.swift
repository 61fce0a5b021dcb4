import Dispatch
import HookRelayStore

/// Chained rounds: on a ``ChainedRounds`` store (PostgreSQL) a round that only records outcomes
/// and claims is started on the store's own I/O thread, and when its answer arrives there the
/// claims are handed out and the next such round begins at once, while the store thread waits
/// for the chain to end. Each round of the chain is what the store thread would have run next
/// (``DispatchMachine/chainable``). When no outcome waits yet but attempts are in flight, the
/// chain waits for the next outcome (``DispatchMachine/chainMayWait``), which starts the next
/// round from the worker that reports it. Anything else ends the chain and the store thread goes
/// on from there: messages to append, claims to give back, a target gone, rate-limited or
/// ordered webhooks, outcomes to gather, new input, a stop, a failed round, or a chain that
/// waited for an outcome longer than ``DispatchMachine/idlePoll`` (due retries are looked for).
extension Dispatcher {
    enum ChainState {
        case off
        case running
        /// Waiting for an outcome; the next round leaves out `held`.
        case waiting(held: Set<String>)
    }

    /// Runs `first` and the rounds chained after it; returns when the chain has ended. A round
    /// that failed is thrown, with `unwritten` set to it (``DispatchMachine/roundFailed(_:)``).
    func runChain(_ first: DispatchMachine.Round, unwritten: inout DispatchMachine.Round?) throws {
        locked { chain = .running }
        startChained(first)
        while chainEnded.wait(timeout: .now() + .milliseconds(Int(DispatchMachine.idlePoll))) == .timedOut {
            let takenBack: Bool = locked {
                guard case .waiting = chain else { return false }
                chain = .off
                return true
            }
            if takenBack { break }
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

    /// Ends a chain that waits for an outcome: something else needs the store thread. Called
    /// with `condition` held.
    func endWaitingChain() {
        guard case .waiting = chain else { return }
        chain = .off
        chainEnded.signal()
    }

    /// After an attempt finished (with `condition` held): the next round of a chain that waited
    /// for it, or nil.
    func resumeChain() -> DispatchMachine.Round? {
        guard case let .waiting(held) = chain else { return nil }
        guard machine.chainable else {
            if !machine.chainMayWait { endWaitingChain() }
            return nil
        }
        chain = .running
        return machine.beginRound(paused: held)
    }

    func startChained(_ round: DispatchMachine.Round) {
        let store = store as! any ChainedRounds
        let time = now()
        store.completeAndClaim(round.outcomes, limit: round.wanted, now: time, lease: lease, quota: round.quota) { [self] result in
            switch result {
            case let .success(result):
                apply(result.states)
                // The store thread waits in `runChain`, and nothing else calls the store meanwhile.
                if let next = endChained(round, claimed: result.claimed, at: time) { startChained(next) }
            case let .failure(error):
                locked {
                    chainFailure = (error, round)
                    chain = .off
                }
                chainEnded.signal()
            }
        }
    }

    /// Hands out what a chained round claimed; returns the next round when it may follow at
    /// once, else waits for an outcome or ends the chain.
    private func endChained(_ round: DispatchMachine.Round, claimed: [ClaimedDelivery], at time: Int64) -> DispatchMachine.Round? {
        let held = heldEndpoints?() ?? []
        let ruled = !(ruledEndpoints?() ?? [:]).isEmpty
        return locked {
            let (handOut, _) = machine.endRound(round, claimed: claimed, memoryOutstanding: nil, at: time)
            for job in handOut { waiters.removeFirst().resume(returning: job) }
            condition.broadcast()
            if !ruled, machine.chainable { return machine.beginRound(paused: held) }
            if !ruled, machine.chainMayWait {
                chain = .waiting(held: held)
            } else {
                chain = .off
                chainEnded.signal()
            }
            return nil
        }
    }
}
