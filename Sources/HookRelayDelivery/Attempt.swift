import Foundation
import HookRelayCore
import HookRelayStore

/// One attempt of a claimed delivery, and where it leaves the delivery: the step every mode
/// that sends shares.
public enum Attempt {

    /// Signs and sends `job` to `endpoint`, then decides: delivered, failed, or retry when.
    /// Returns the decision with the sender's result.
    public static func run(
        _ job: ClaimedDelivery, to endpoint: Endpoint, signer: Signer, headers: [(String, String)] = [],
        sender: HTTPSender, retry: RetryPolicy, random: inout SystemRandomNumberGenerator
    ) async -> (outcome: DeliveryOutcome, result: SendResult) {
        let started = UnixTime.now()
        let signature = job.body.withUnsafeBytes { signer.headers(id: job.messageID, timestamp: started / 1000, body: $0) }
        let result = await sender.send(job.body, to: endpoint, headers: headers.isEmpty ? signature : headers + signature)
        let record = AttemptRecord(
            startedAt: started, httpStatus: result.httpStatus, latencyMilliseconds: result.latencyMilliseconds,
            error: result.error, responseBody: result.responseBody)
        let next: DeliveryOutcome.Next
        switch result.verdict {
        case .success: next = .delivered
        case .gone, .permanent: next = .failed
        case .retry:
            if let delay = retry.delay(afterAttempt: job.attempts + 1, retryAfter: result.retryAfter, using: &random) {
                next = .retry(at: UnixTime.now() + delay.milliseconds)
            } else {
                next = .failed
            }
        }
        return (DeliveryOutcome(delivery: job, attempt: record, next: next), result)
    }

    /// A delivery failed without being sent (its endpoint is gone or not valid).
    public static func failed(_ job: ClaimedDelivery, error: String) -> DeliveryOutcome {
        DeliveryOutcome(
            delivery: job, attempt: AttemptRecord(startedAt: UnixTime.now(), httpStatus: nil, latencyMilliseconds: 0, error: error),
            next: .failed)
    }
}
