import HookRelayStore

/// What a ``DispatchMachine`` decides after a round that found nothing to do.
extension DispatchMachine {
    /// While stopping, after an idle round: whether the run is over (nothing in flight or left to
    /// record); else the store thread looks again in ``idlePoll``.
    func stoppedIdle() -> Bool {
        inFlight == 0 && outcomes.isEmpty && releasing.isEmpty
    }

    /// Which "next due" an idle store thread asks the store for.
    enum DueQuery: Equatable {
        /// Every pending delivery, other processes' leases included: the input is done, and the
        /// run ends when nothing is left to wait for.
        case nextDue
        /// The next unclaimed one (`serve`: cheap, one index step).
        case nextUnclaimedDue
        /// None (`deliver` polls while it reads).
        case none
    }

    var dueQuery: DueQuery {
        ingestFinishedSeen ? .nextDue : settings.idleWait != nil ? .nextUnclaimedDue : .none
    }

    enum IdleAction: Equatable {
        case finish
        /// Sleep this many ms unless woken.
        case sleep(Int64)
        /// Something came in meanwhile: run a round now.
        case runAgain
    }

    /// After an idle round: end the run, or sleep until `due` (the answer to ``dueQuery``; for
    /// ``DueQuery/nextUnclaimedDue`` nil means nothing waits) or until woken.
    func idle(due: Int64?, now: Int64) -> IdleAction {
        let ingestDone = ingestFinishedSeen
        if ingestDone, inFlight == 0, bufferStart == buffer.count, outcomes.isEmpty, appends.isEmpty,
           due.map({ due in settings.waitUntil.map { due > $0 } ?? false }) ?? true {
            return .finish
        }
        if woken || !outcomes.isEmpty || !appends.isEmpty || !releasing.isEmpty || stopping { return .runAgain }
        // Grants held with nothing to do are given back at their next renewal.
        var idleWait = settings.idleWait
        if let slots, !slots.granted.isEmpty { idleWait = idleWait.map { min($0, slots.renewal) } }
        if !ingestDone, let idleWait {
            // Nothing waits: sleep the longest (what another process changed is seen within it).
            guard let due else { return .sleep(idleWait) }
            // Due now but not claimed: its targets are at their limit (a finishing attempt wakes
            // the thread) or held; look again soon.
            let wait = due - now
            return .sleep(wait <= 0 ? Self.idlePoll : min(idleWait, wait))
        }
        return .sleep(min(Self.idlePoll, max(1, (due ?? Int64.max) - now)))
    }
}
