/// Capped exponential backoff with jitter, as a pure value: no clock, no sleeping.
///
/// `next()` returns the delay before the next attempt: `base * multiplier^n`, capped at `cap`,
/// then jittered. `.full` jitter draws uniformly from `0...delay` (the AWS "full jitter" scheme,
/// best for many clients hammering one server); `.equal` draws from `delay/2...delay` (never
/// retries almost at once); `.none` is deterministic.
public struct Backoff: Sendable {
    public enum Jitter: Sendable { case none, full, equal }

    public let base: Duration
    public let cap: Duration
    public let multiplier: Double
    public let jitter: Jitter
    public private(set) var attempt: Int = 0

    public init(base: Duration, cap: Duration, multiplier: Double = 2, jitter: Jitter = .equal) {
        precondition(base > .zero && cap >= base && multiplier >= 1)
        self.base = base
        self.cap = cap
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The un-jittered delay for the current attempt.
    public var ceiling: Duration {
        let baseSeconds = base.seconds
        let grown = baseSeconds * pow(multiplier, Double(attempt))
        return .seconds(min(grown.isFinite ? grown : cap.seconds, cap.seconds))
    }

    public mutating func next<R: RandomNumberGenerator>(using rng: inout R) -> Duration {
        let limit = ceiling.seconds
        attempt = min(attempt + 1, 64)
        switch jitter {
        case .none: return .seconds(limit)
        case .full: return .seconds(Double.random(in: 0...limit, using: &rng))
        case .equal: return .seconds(Double.random(in: (limit / 2)...limit, using: &rng))
        }
    }

    public mutating func next() -> Duration {
        var rng = SystemRandomNumberGenerator()
        return next(using: &rng)
    }

    /// Call after a success: the next failure starts again from `base`.
    public mutating func reset() { attempt = 0 }
}

#if canImport(Glibc)
    import Glibc
#endif
