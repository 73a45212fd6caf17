import Testing
import TollgateIPC
import TollgateJobs

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(base: .seconds(1), cap: .seconds(60))

    func job(attempt: Int, max: Int = 10) -> ClaimedJob {
        ClaimedJob(
            id: "j", epoch: 1, kind: "reminder", userID: 1, chatID: 1, dueAtMs: 0, attempt: attempt, maxAttempts: max,
            payload: [:])
    }

    @Test func exponentialWithEqualJitterAndCap() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, unit: 0) == .milliseconds(500))
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, unit: 1) == .seconds(1))
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil, unit: 1) == .seconds(4))
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil, unit: 0) == .seconds(2))
        #expect(policy.delay(afterAttempt: 30, retryAfter: nil, unit: 1) == .seconds(60))
        #expect(policy.delay(afterAttempt: 30, retryAfter: nil, unit: 0) == .seconds(30))
    }

    @Test func neverSoonerThanRetryAfter() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(7), unit: 1) == .seconds(7))
        #expect(policy.delay(afterAttempt: 8, retryAfter: .seconds(7), unit: 1) == .seconds(60))
    }

    @Test func outcomes() {
        let ok = DeliveryResult(jobID: "j", outcome: .delivered)
        #expect(policy.completion(for: ok, job: job(attempt: 1), unit: 0.5) == .ack)
        #expect(policy.completion(for: .init(jobID: "j", outcome: .duplicate), job: job(attempt: 1), unit: 0) == .ack)
        #expect(policy.completion(for: .init(jobID: "j", outcome: .skipped), job: job(attempt: 1), unit: 0) == .ack)
        #expect(
            policy.completion(for: .init(jobID: "j", outcome: .failed, detail: "bad payload"), job: job(attempt: 1), unit: 0)
                == .deadLetter(reason: "failed: bad payload"))
        let retry = DeliveryResult(jobID: "j", outcome: .retry, retryAfterMs: 3000, detail: "429")
        #expect(
            policy.completion(for: retry, job: job(attempt: 2, max: 3), unit: 0) == .retry(after: .seconds(3), reason: "429"))
        #expect(
            policy.completion(for: retry, job: job(attempt: 3, max: 3), unit: 0)
                == .deadLetter(reason: "retry: 429 (attempt 3 of 3)"))
    }
}
