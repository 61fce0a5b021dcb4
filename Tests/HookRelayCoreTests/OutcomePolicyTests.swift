import HookRelayCore
import Testing

@Suite struct OutcomePolicyTests {
    /// Three attempts in all, 10 s then 20 s apart, no jitter: every delay is known.
    let policy = OutcomePolicy(retry: RetryPolicy(schedule: [.seconds(10), .seconds(20)], jitter: 0))
    let now: Int64 = 1_000_000

    func decide(_ event: OutcomePolicy.Event, attemptsBefore: Int = 0, _ occasion: OutcomePolicy.Occasion = .queued) -> OutcomePolicy.Decision {
        var random = SeededGenerator(seed: 1)
        return policy.decide(event, attemptsBefore: attemptsBefore, occasion: occasion, now: now, using: &random)
    }

    @Test func aSuccessIsDeliveredWhoeverAsked() {
        for occasion in [OutcomePolicy.Occasion.queued, .operatorRetry(wasPending: true), .operatorRetry(wasPending: false), .test] {
            #expect(decide(.sent(.success, retryAfter: nil), occasion) == .init(next: .delivered))
        }
    }

    /// A duplicate suppressed or a finding folded into a digest: final with its ref, not an
    /// attempt, and not the webhook's doing, whatever attempts came before.
    @Test func aSettledDeliveryEndsUncountedWithHealthUntouched() {
        for settlement in Settlement.allCases {
            #expect(decide(.settled(settlement, ref: 7), attemptsBefore: 2)
                == .init(next: .settled(settlement, ref: 7), interrupted: true, counted: false))
        }
    }

    /// Waiting for another delivery (the one creating the finding's ticket): due again then,
    /// however many attempts came before, and none of them counted.
    @Test func aWaitingDeliveryIsDueAgainUncounted() {
        #expect(decide(.waiting(until: now + 5_000), attemptsBefore: 2)
            == .init(next: .retry(at: now + 5_000), interrupted: true, counted: false))
    }

    @Test func aQueuedFailureIsRetriedOnTheScheduleUntilNoAttemptIsLeft() {
        #expect(decide(.sent(.retry, retryAfter: nil), attemptsBefore: 0).next == .retry(at: now + 10_000))
        #expect(decide(.sent(.retry, retryAfter: nil), attemptsBefore: 1).next == .retry(at: now + 20_000))
        #expect(decide(.sent(.retry, retryAfter: nil), attemptsBefore: 2) == .init(next: .failed))
    }

    @Test func retryAfterDelaysTheNextAttemptUpToTheCap() {
        #expect(decide(.sent(.retry, retryAfter: .seconds(15))).next == .retry(at: now + 15_000))
        // The cap is the schedule's longest delay.
        #expect(decide(.sent(.retry, retryAfter: .seconds(3600))).next == .retry(at: now + 20_000))
    }

    @Test func goneFailsTheQueueOnlyForTheQueuesOwnAttempts() {
        #expect(decide(.sent(.gone, retryAfter: nil)) == .init(next: .failed, targetGone: true))
        #expect(decide(.sent(.gone, retryAfter: nil), .test) == .init(next: .failed))
        #expect(decide(.sent(.gone, retryAfter: nil), .operatorRetry(wasPending: true)) == .init(next: .failed))
    }

    @Test func aBlockedAddressOrARefusedTargetFailsAtOnce() {
        #expect(decide(.sent(.permanent, retryAfter: nil)) == .init(next: .failed))
        #expect(decide(.refused) == .init(next: .failed))
    }

    @Test func anOperatorsRetryKeepsAPendingDeliveryOnItsScheduleAndLeavesAFinishedOneFailed() {
        #expect(decide(.sent(.retry, retryAfter: nil), attemptsBefore: 1, .operatorRetry(wasPending: true)).next == .retry(at: now + 20_000))
        #expect(decide(.sent(.retry, retryAfter: nil), attemptsBefore: 1, .operatorRetry(wasPending: false)) == .init(next: .failed))
    }

    @Test func aTestEventIsNeverRetried() {
        #expect(decide(.sent(.retry, retryAfter: nil), .test) == .init(next: .failed))
    }

    @Test func whatIsNotTheTargetsDoingLeavesItsHealthAlone() {
        #expect(decide(.unrenderable) == .init(next: .failed, interrupted: true))
        // Cut off by shutdown: due again at once, and still counted as an attempt.
        #expect(decide(.cutOff, attemptsBefore: 2) == .init(next: .retry(at: now), interrupted: true))
        // Held by a drain that may not send: pending, due now, and not counted.
        #expect(decide(.held, attemptsBefore: 2) == .init(next: .retry(at: now), interrupted: true, counted: false))
    }

    @Test func healthTurnsUnhealthyThenDisabledAndASuccessHeals() {
        let health = HealthPolicy(unhealthyAfter: 2, disableAfter: 60_000)
        var state = (state: WebhookHealth.healthy, failures: 0, failingSince: Int64?.none)
        state = health.next(state.state, failures: state.failures, failingSince: state.failingSince, succeeded: false, gone: false, now: 0)
        #expect(state.state == .healthy && state.failures == 1 && state.failingSince == 0)
        state = health.next(state.state, failures: state.failures, failingSince: state.failingSince, succeeded: false, gone: false, now: 1000)
        #expect(state.state == .unhealthy && state.failures == 2 && state.failingSince == 0)
        #expect(health.next(.unhealthy, failures: 2, failingSince: 0, succeeded: true, gone: false, now: 2000) == (.healthy, 0, nil))
        #expect(health.next(.unhealthy, failures: 2, failingSince: 0, succeeded: false, gone: false, now: 60_000).state == .disabled)
        #expect(health.next(.healthy, failures: 0, failingSince: nil, succeeded: false, gone: true, now: 0).state == .disabled)
    }
}
