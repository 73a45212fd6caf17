import Synchronization

/// What one instance's dispatcher has done since start (for `stats`).
public final class DispatchCounters: Sendable {
    public let claims = Atomic<Int>(0)
    public let emptyClaims = Atomic<Int>(0)
    public let claimed = Atomic<Int>(0)
    public let acked = Atomic<Int>(0)
    public let retried = Atomic<Int>(0)
    public let deadLettered = Atomic<Int>(0)
    public let released = Atomic<Int>(0)
    /// Jobs the gateway did not try (out of time, running elsewhere), back later uncharged.
    public let postponed = Atomic<Int>(0)
    /// Completions refused because the lease had lapsed or the job was cancelled meanwhile.
    public let refused = Atomic<Int>(0)
    public let batchesSent = Atomic<Int>(0)
    public let gatewayFailures = Atomic<Int>(0)
    public let redisFailures = Atomic<Int>(0)
    public let wakeUps = Atomic<Int>(0)
    public let inFlight = Atomic<Int>(0)
    /// Jobs delivered alone whose delivery dropped the gateway's connection again (charged).
    public let poisonSuspects = Atomic<Int>(0)
    /// Milliseconds between a job's due time and its claim, of the last claimed job.
    public let lastLatenessMs = Atomic<Int>(0)

    public init() {}

    public var counters: [String: Double] {
        func v(_ a: borrowing Atomic<Int>) -> Double { Double(a.load(ordering: .relaxed)) }
        return [
            "jobs_claims_total": v(claims), "jobs_empty_claims_total": v(emptyClaims), "jobs_claimed_total": v(claimed),
            "jobs_acked_total": v(acked), "jobs_retried_total": v(retried), "jobs_dead_lettered_total": v(deadLettered),
            "jobs_released_total": v(released), "jobs_postponed_total": v(postponed), "jobs_refused_total": v(refused), "deliver_batches_total": v(batchesSent),
            "gateway_failures_total": v(gatewayFailures), "jobs_redis_failures_total": v(redisFailures),
            "jobs_wakeups_total": v(wakeUps), "jobs_dropped_alone_total": v(poisonSuspects),
        ]
    }
}
