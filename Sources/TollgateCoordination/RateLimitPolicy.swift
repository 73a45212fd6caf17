import TollgateCore

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
    /// The longest block a ``RateLimiter/pushBack(_:by:)`` may set: a peer's `Retry-After` beyond it
    /// is cut to it, and a stored block (written by any process, any version) never restricts for
    /// longer than this from the moment it is read.
    public let maxBlock: Duration

    /// How late after its grant a request may leave and still keep the window's limit: for a
    /// ``perWindow(_:window:margin:)`` policy `limit × spacing − window` (250 ms for 5/s with the
    /// default margin — see the type's documentation); zero for other policies (no lateness
    /// tolerated is assumed, so no check is made). A caller should give up a slot older than this.
    public let jitterTolerance: Duration

    /// The default ``maxBlock``: one hour.
    public static let defaultMaxBlock: Duration = .seconds(3600)

    /// Values out of range are brought into it (an interval of at least 1 µs, a burst of at least 1,
    /// a block of at most a day): a policy built from configuration can never trap.
    public init(
        emissionInterval: Duration, burst: Int = 1, maxBlock: Duration = RateLimitPolicy.defaultMaxBlock,
        jitterTolerance: Duration = .zero
    ) {
        self.emissionInterval = max(emissionInterval, .microseconds(1))
        self.burst = min(max(burst, 1), 1_000_000)
        self.maxBlock = maxBlock.clamped(to: .zero ... .seconds(86400))
        self.jitterTolerance = max(.zero, jitterTolerance)
    }

    /// The same policy with another ``maxBlock``.
    public func withMaxBlock(_ maxBlock: Duration) -> RateLimitPolicy {
        RateLimitPolicy(emissionInterval: emissionInterval, burst: burst, maxBlock: maxBlock, jitterTolerance: jitterTolerance)
    }

    /// At most `limit` requests in any `window`, spaced evenly (burst 1), the spacing widened by
    /// `margin` (a fraction: 0.1 = 10 %) against arrival jitter.
    public static func perWindow(_ limit: Int, window: Duration = .seconds(1), margin: Double = 0.25) -> RateLimitPolicy {
        let limit = max(1, limit)
        let margin = margin.isFinite ? min(max(margin, 0), 10) : 0
        let micros = Double(max(1, window.microseconds)) / Double(limit) * (1 + margin)
        let spacing = Int64(exactly: micros.rounded()) ?? Int64.max / 4
        let tolerance = spacing.saturatingTimes(Int64(limit)).saturatingMinus(window.microseconds)
        return RateLimitPolicy(
            emissionInterval: .microseconds(spacing), burst: 1, jitterTolerance: .microseconds(max(0, tolerance)))
    }

    /// The emission interval in microseconds (the unit of the limiter's arithmetic).
    public var emissionMicros: Int64 { max(1, emissionInterval.microseconds) }

    /// The burst tolerance in microseconds: `(burst - 1) × emissionInterval`.
    public var toleranceMicros: Int64 {
        let (t, overflow) = emissionMicros.multipliedReportingOverflow(by: Int64(burst - 1))
        return overflow ? Int64.max / 4 : min(t, Int64.max / 4)
    }

    /// ``maxBlock`` in microseconds.
    public var maxBlockMicros: Int64 { maxBlock.microseconds }

    /// Requests per second this policy lets through when saturated.
    public var ratePerSecond: Double { 1_000_000 / Double(emissionMicros) }

    public var description: String {
        let rate = (ratePerSecond * 100).rounded() / 100
        return "\(rate)/s (every \(emissionMicros / 1000) ms, burst \(burst))"
    }
}
