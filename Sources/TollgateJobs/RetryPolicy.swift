import TollgateCore
import TollgateIPC

/// Turns the gateway's answer for one delivery into a ``JobCompletion`` — pure, no clock.
///
/// Retries back off exponentially with equal jitter (`base · 2^(attempt-1)`, capped, drawn from
/// the upper half), and never sooner than the gateway's `retry_after_ms` — itself no later than the
/// cap (a peer's number is advice). A job that used its last attempt is dead-lettered instead, with
/// the reason.
public struct RetryPolicy: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration

    /// Out-of-range values are brought into range (a base of at least 1 ms, a cap of at least the base).
    public init(base: Duration = .seconds(1), cap: Duration = .seconds(600)) {
        self.base = max(base, .milliseconds(1))
        self.cap = max(cap, self.base)
    }

    /// The delay before attempt `attempt + 1`; `unit` in `0...1` picks the jitter (injected for tests).
    public func delay(afterAttempt attempt: Int, retryAfter: Duration?, unit: Double) -> Duration {
        let exponent = Double(min(max(attempt, 1), 41) - 1)
        let ceiling = min(base.seconds * pow(2, exponent), cap.seconds)
        let jittered = Duration.seconds(ceiling / 2 + ceiling / 2 * min(max(unit, 0), 1))
        guard let retryAfter else { return jittered }
        return max(jittered, min(retryAfter, cap))
    }

    /// What to do with `job` after the gateway answered `result`.
    public func completion(for result: DeliveryResult, job: ClaimedJob, unit: Double) -> JobCompletion {
        switch result.outcome {
        case .delivered, .duplicate, .skipped:
            return .ack
        case .failed:
            return .deadLetter(reason: "failed: " + (result.detail ?? "the gateway gave no detail"))
        case .retry where result.attempted == false:
            // Not tried (out of time before its message could leave, or running elsewhere): back
            // after a short wait, the attempt not counted.
            let after = Duration.milliseconds(min(max(result.retryAfterMs ?? 1000, 250), cap.milliseconds))
            return .postpone(after: after, reason: result.detail ?? "not tried")
        case .retry:
            let detail = result.detail ?? "the gateway asked to retry"
            guard job.attempt < job.maxAttempts else {
                return .deadLetter(reason: "retry: \(detail) (attempt \(job.attempt) of \(job.maxAttempts))")
            }
            let after = delay(
                afterAttempt: job.attempt, retryAfter: result.retryAfterMs.map { .milliseconds(min(max(0, $0), cap.milliseconds)) },
                unit: unit)
            return .retry(after: after, reason: detail)
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
