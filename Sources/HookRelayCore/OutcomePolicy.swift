/// Where an attempt leaves a delivery.
public enum NextStep: Sendable, Equatable {
    case delivered
    case failed
    /// Try again at this time (Unix milliseconds).
    case retry(at: Int64)
    /// Ended without being sent, by hookrelay's own rule; `ref` is the related delivery's id
    /// (nil: none, as for a report that a finding is fixed with no ticket open to close).
    case settled(Settlement, ref: Int64?)
}

/// Why a delivery ended without being sent, though its webhook could take it.
public enum Settlement: String, Sendable, Equatable, CaseIterable {
    /// A duplicate: the webhook was sent the same finding within its de-duplication window
    /// (`ref`: that first delivery).
    case suppressed
    /// Folded into a digest (`ref`: the digest's delivery).
    case digested
}

/// What the receiver's side of an attempt came to, as the sender judged it.
public enum AttemptVerdict: Sendable, Equatable {
    case success
    /// Worth trying again later.
    case retry
    /// 410 Gone: the receiver asks not to be sent to any more.
    case gone
    /// Trying again cannot help (the address is not allowed).
    case permanent
}

/// A webhook's health, as its attempts leave it.
public enum WebhookHealth: String, Sendable, Codable {
    case healthy, unhealthy, disabled
}

/// Every "what next" after an attempt, or after deciding not to make one: delivered, retried and
/// when, failed, the rest of the target's queue failed (410), left pending for another run, or
/// cut off by shutdown; and what the attempt does to the webhook's health. `deliver`, `serve`'s
/// dispatcher, an operator's retry and a test event all ask it. A value: it computes times from
/// the `now` it is given and never sleeps.
public struct OutcomePolicy: Sendable, Equatable {
    public var retry: RetryPolicy
    public var health: HealthPolicy

    public init(retry: RetryPolicy, health: HealthPolicy = HealthPolicy()) {
        self.retry = retry
        self.health = health
    }

    /// Who asked for the attempt.
    public enum Occasion: Sendable, Equatable {
        /// A dispatcher claimed it from the queue.
        case queued
        /// An operator asked for one attempt now; `wasPending`: the delivery was still on its
        /// retry schedule (a failure keeps it there) rather than finished (a failure leaves it failed).
        case operatorRetry(wasPending: Bool)
        /// A test event an operator sent: one attempt, never retried.
        case test
    }

    /// What happened.
    public enum Event: Sendable, Equatable {
        /// Sent (or tried to): the sender's verdict, and the receiver's `Retry-After`.
        case sent(AttemptVerdict, retryAfter: Duration?)
        /// Not sent: the target cannot take it (deleted, disabled, an invalid URL, gone earlier in
        /// this run).
        case refused
        /// Not sent: the payload could not be rendered. Not the target's doing.
        case unrenderable
        /// Not sent by this run, which may not send to the target now (a drain's address rules, an
        /// unset variable); it stays pending for a run that may, and the attempt does not count.
        case held
        /// Cut off: this process was shutting down. Due again at once, after the next start.
        case cutOff
        /// Not sent, and not to be: settled by a rule of the webhook (a duplicate, a digest).
        case settled(Settlement, ref: Int64?)
        /// Not sent yet: another delivery must finish first (the one creating the ticket of
        /// the same finding). Due again at `until`; not counted, health untouched.
        case waiting(until: Int64)
    }

    /// The policy's answer.
    public struct Decision: Sendable, Equatable {
        public var next: NextStep
        /// The webhook's health is left as it was (the failure was not the target's doing).
        public var interrupted: Bool
        /// The attempt counts against the delivery's attempts.
        public var counted: Bool
        /// The target answered 410 Gone: what else waits for it is failed too.
        public var targetGone: Bool

        public init(next: NextStep, interrupted: Bool = false, counted: Bool = true, targetGone: Bool = false) {
            self.next = next
            self.interrupted = interrupted
            self.counted = counted
            self.targetGone = targetGone
        }
    }

    /// What comes after `event`, for a delivery that had `attemptsBefore` attempts before this one.
    public func decide<Random: RandomNumberGenerator>(
        _ event: Event, attemptsBefore: Int, occasion: Occasion, now: Int64, using random: inout Random
    ) -> Decision {
        switch event {
        case .sent(.success, _):
            return Decision(next: .delivered)
        case .sent(.gone, _):
            // One answer from an operator's attempt does not fail the queue; the health policy
            // disables the webhook all the same.
            return Decision(next: .failed, targetGone: occasion == .queued)
        case .sent(.permanent, _), .refused:
            return Decision(next: .failed)
        case let .sent(.retry, retryAfter):
            switch occasion {
            case .test, .operatorRetry(wasPending: false):
                return Decision(next: .failed)
            case .queued, .operatorRetry(wasPending: true):
                guard let delay = retry.delay(afterAttempt: attemptsBefore + 1, retryAfter: retryAfter, using: &random) else {
                    return Decision(next: .failed)
                }
                return Decision(next: .retry(at: now + delay.milliseconds))
            }
        case .unrenderable:
            return Decision(next: .failed, interrupted: true)
        case .held:
            return Decision(next: .retry(at: now), interrupted: true, counted: false)
        case .cutOff:
            return Decision(next: .retry(at: now), interrupted: true)
        case let .settled(settlement, ref):
            return Decision(next: .settled(settlement, ref: ref), interrupted: true, counted: false)
        case let .waiting(until):
            return Decision(next: .retry(at: until), interrupted: true, counted: false)
        }
    }
}

/// When failing attempts make a webhook `unhealthy`, then `disabled`.
public struct HealthPolicy: Sendable, Equatable {
    /// Consecutive failures that make a webhook `unhealthy`.
    public var unhealthyAfter: Int
    /// Milliseconds of failing without one success that disable it.
    public var disableAfter: Int64

    public init(unhealthyAfter: Int = 5, disableAfter: Int64 = 5 * 24 * 3600 * 1000) {
        self.unhealthyAfter = unhealthyAfter
        self.disableAfter = disableAfter
    }

    /// The state after an attempt, and when the failing began. A success makes a webhook healthy
    /// (a disabled one is left alone by the store, which only an operator enables); a 410 or
    /// `disableAfter` of failing disables it; `unhealthyAfter` failures in a row make it unhealthy.
    public func next(
        _ state: WebhookHealth, failures: Int, failingSince: Int64?, succeeded: Bool, gone: Bool, now: Int64
    ) -> (state: WebhookHealth, failures: Int, failingSince: Int64?) {
        if succeeded { return (.healthy, 0, nil) }
        let since = failingSince ?? now
        let failures = failures + 1
        if gone || state == .disabled || now - since >= disableAfter { return (.disabled, failures, since) }
        return (failures >= unhealthyAfter ? .unhealthy : state, failures, since)
    }
}
