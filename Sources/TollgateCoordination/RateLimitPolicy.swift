/// How fast one limited resource may be used: a GCRA (generic cell rate algorithm) policy.
///
/// Requests are spaced by ``emissionInterval``; up to ``burst`` of them may go back to back after
/// a quiet period. `burst: 1` is strict spacing.
///
/// Remote limits are usually counted in *fixed* windows (NocoDB: at most 5 requests per calendar
/// second per token). Strict spacing of `window / limit` keeps every half-open window of length
/// `window` at `limit` requests or fewer *as the limiter grants them* — but the server counts
/// arrivals, and a request granted early may arrive late while the next one arrives on time. A
/// ``perWindow(_:window:margin:)`` policy therefore widens the spacing by `margin`: six requests
/// then span at least `5 × spacing`, so arrival jitter of up to `5 × spacing - window` (100 ms for
/// 5/s with a 10 % margin, 250 ms with the default 25 %) still leaves no window with a sixth request.
public struct RateLimitPolicy: Sendable, Hashable, CustomStringConvertible {
    /// The spacing between two conforming requests.
    public let emissionInterval: Duration
    /// How many requests may go at once after a quiet period (at least 1).
    public let burst: Int

    public init(emissionInterval: Duration, burst: Int = 1) {
        precondition(emissionInterval > .zero, "emission interval must be positive")
        precondition(burst >= 1, "burst must be at least 1")
        self.emissionInterval = emissionInterval
        self.burst = burst
    }

    /// At most `limit` requests in any `window`, spaced evenly (burst 1), the spacing widened by
    /// `margin` (a fraction: 0.1 = 10 %) against arrival jitter.
    public static func perWindow(_ limit: Int, window: Duration = .seconds(1), margin: Double = 0.25) -> RateLimitPolicy {
        precondition(limit >= 1 && margin >= 0 && margin < 10)
        let micros = Double(window.microseconds) / Double(limit) * (1 + margin)
        return RateLimitPolicy(emissionInterval: .microseconds(Int64(micros.rounded())), burst: 1)
    }

    /// The emission interval in microseconds (the unit of the limiter's arithmetic).
    public var emissionMicros: Int64 { max(1, emissionInterval.microseconds) }

    /// The burst tolerance in microseconds: `(burst - 1) × emissionInterval`.
    public var toleranceMicros: Int64 { emissionMicros * Int64(burst - 1) }

    /// Requests per second this policy lets through when saturated.
    public var ratePerSecond: Double { 1_000_000 / Double(emissionMicros) }

    public var description: String {
        let rate = (ratePerSecond * 100).rounded() / 100
        return "\(rate)/s (every \(emissionMicros / 1000) ms, burst \(burst))"
    }
}
