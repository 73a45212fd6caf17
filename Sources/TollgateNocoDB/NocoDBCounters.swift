/// Running totals of one ``NocoDBClient`` (every attempt counts: a retried request counts twice).
public struct NocoDBCounters: Sendable, Hashable {
    /// Requests sent.
    public var total = 0
    /// Requests answered 2xx.
    public var ok = 0
    /// Requests answered otherwise, or that got no answer.
    public var failed = 0
    /// Requests answered 429.
    public var throttled = 0
    /// 5xx answers.
    public var serverErrors = 0
    /// Attempts without an answer (connect failures, timeouts).
    public var transportErrors = 0
    /// Attempts repeated after a 429, a 5xx or a transport error.
    public var retries = 0
    /// Time spent waiting for the shared limiter, in milliseconds.
    public var limiterWaitMs: Int64 = 0
    /// Slots given up unused because the request could not leave in time (a busy machine).
    public var staleSlots = 0

    public init() {}

    /// The counters as `stats` counters (`nocodb_requests_total`, ...).
    public var asStats: [String: Double] {
        [
            "nocodb_requests_total": Double(total), "nocodb_requests_ok": Double(ok),
            "nocodb_requests_failed": Double(failed), "nocodb_429_total": Double(throttled),
            "nocodb_5xx_total": Double(serverErrors), "nocodb_transport_errors_total": Double(transportErrors),
            "nocodb_retries_total": Double(retries), "nocodb_limiter_wait_ms_total": Double(limiterWaitMs),
            "nocodb_stale_slots_total": Double(staleSlots),
        ]
    }
}
