import Foundation
import HookRelayCore
import HookRelayStore

/// What sends one signed request: ``HTTPSender``, or a fake in tests.
public protocol DeliverySending: Sendable {
    func send(_ body: [UInt8], to endpoint: Endpoint, headers: [(String, String)]) async -> SendResult
    /// Sends with a webhook's own client certificate and trust (nil: the configured ones only).
    func send(_ body: [UInt8], to endpoint: Endpoint, headers: [(String, String)], tls: TLSOptions?) async -> SendResult
    /// Sends with another method than POST (a ticket's update: GitHub closes an issue with PATCH).
    func send(_ body: [UInt8], to endpoint: Endpoint, headers: [(String, String)], tls: TLSOptions?, method: RequestMethod) async -> SendResult
    /// Checks a URL as a target: its shape, and an address the guard allows.
    func check(_ url: String) async throws -> Endpoint
    /// Attempts in flight were cut off because the process is stopping: a failure now may be
    /// this process's doing, not the receiver's.
    var abortedInFlight: Bool { get }
    /// Cuts off the attempts in flight (shutdown after its grace period).
    func abortInFlight()
    /// Closes idle connections; nothing is sent after it.
    func shutdown()
}

/// The method of a request: webhooks POST; a ticket's update may PATCH.
public enum RequestMethod: String, Sendable {
    case post = "POST", patch = "PATCH"
}

extension DeliverySending {
    /// Fakes that record no method send every request as a POST.
    public func send(_ body: [UInt8], to endpoint: Endpoint, headers: [(String, String)], tls: TLSOptions?, method: RequestMethod) async -> SendResult {
        await send(body, to: endpoint, headers: headers, tls: tls)
    }

    /// Senders without TLS of their own (the tests' fakes) send as they always do.
    public func send(_ body: [UInt8], to endpoint: Endpoint, headers: [(String, String)], tls: TLSOptions?) async -> SendResult {
        await send(body, to: endpoint, headers: headers)
    }
}

extension HTTPSender: DeliverySending {}

/// One attempt of a claimed delivery, and where the ``OutcomePolicy`` leaves it: the step every
/// mode that sends shares.
public struct Attempt: Sendable {
    public var policy: OutcomePolicy
    public var occasion: OutcomePolicy.Occasion
    /// The wall clock, Unix milliseconds.
    public var now: @Sendable () -> Int64

    public init(policy: OutcomePolicy, occasion: OutcomePolicy.Occasion = .queued, now: @escaping @Sendable () -> Int64 = UnixTime.now) {
        self.policy = policy
        self.occasion = occasion
        self.now = now
    }

    /// The message an attempt cut off by shutdown records.
    public static let cutOffError = "cut off: hookrelay was shutting down"

    /// Signs and sends `job` to `endpoint`, then asks the policy what comes next. Returns the
    /// outcome to record, whether the target is gone (410: fail what else waits for it), and the
    /// sender's result. `tls` is the webhook's own client certificate and trust, if any.
    public func run(
        _ job: ClaimedDelivery, to endpoint: Endpoint, signer: Signer, headers: [(String, String)] = [],
        tls: TLSOptions? = nil, method: RequestMethod = .post, sender: some DeliverySending
    ) async -> (outcome: DeliveryOutcome, targetGone: Bool, result: SendResult) {
        let started = now()
        let signature = job.body.withUnsafeBytes { signer.headers(id: job.messageID, timestamp: started / 1000, body: $0) }
        let all = headers.isEmpty ? signature : headers + signature
        let result = method == .post
            ? await sender.send(job.body, to: endpoint, headers: all, tls: tls)
            : await sender.send(job.body, to: endpoint, headers: all, tls: tls, method: method)
        var record = AttemptRecord(
            startedAt: started, httpStatus: result.httpStatus, latencyMilliseconds: result.latencyMilliseconds,
            error: result.error, responseBody: result.responseBody)
        var event = OutcomePolicy.Event.sent(result.verdict, retryAfter: result.retryAfter)
        if result.verdict != .success, sender.abortedInFlight {
            event = .cutOff
            record.error = Self.cutOffError
        }
        let (outcome, gone) = decide(job, event, record)
        return (outcome, gone, result)
    }

    /// A delivery not sent: `event` says why (refused, unrenderable or held), `error` how.
    public func notSent(_ job: ClaimedDelivery, _ event: OutcomePolicy.Event, error: String) -> DeliveryOutcome {
        decide(job, event, AttemptRecord(startedAt: now(), httpStatus: nil, latencyMilliseconds: 0, error: error)).outcome
    }

    /// A delivery that ends without being sent, by a rule of its webhook: a duplicate of
    /// delivery `ref`, or folded into the digest `ref`. Not counted, health untouched; `note`
    /// is its attempt's message in the delivery log.
    public func settled(_ job: ClaimedDelivery, as settlement: Settlement, ref: Int64?, note: String) -> DeliveryOutcome {
        notSent(job, .settled(settlement, ref: ref), error: note)
    }

    private func decide(
        _ job: ClaimedDelivery, _ event: OutcomePolicy.Event, _ record: AttemptRecord
    ) -> (outcome: DeliveryOutcome, targetGone: Bool) {
        var random = SystemRandomNumberGenerator()
        let decision = policy.decide(event, attemptsBefore: job.attempts, occasion: occasion, now: now(), using: &random)
        let outcome = DeliveryOutcome(
            delivery: job, attempt: record, next: decision.next, interrupted: decision.interrupted, counted: decision.counted)
        return (outcome, decision.targetGone)
    }
}
