import TollgateCore

/// The GCRA arithmetic as a pure state machine: no clock, no I/O, times in microseconds.
///
/// The same arithmetic runs inside Redis (``RateLimitScript``) on the Redis server's clock, so
/// that every process shares one state per resource; this type is what the tests drive with a
/// simulated clock, and what ``LocalRateLimiter`` runs in memory.
///
/// State: the *theoretical arrival time* `tat` (when the next request would be due if requests
/// came exactly at the rate) and `blockedUntil` (a time before which nothing may go, set when the
/// remote side answered 429). A request at `now` conforms when
/// `now >= max(tat - tolerance, blockedUntil)`; it then moves `tat` to `max(tat, now) + interval`.
public struct RateLimitGCRA: Sendable, Hashable {
    /// The shared state of one resource.
    public struct State: Sendable, Hashable {
        public var tat: Int64
        public var blockedUntil: Int64
        public init(tat: Int64 = 0, blockedUntil: Int64 = 0) {
            self.tat = tat
            self.blockedUntil = blockedUntil
        }
    }

    /// What the limiter decided for one request.
    public enum Decision: Sendable, Hashable {
        /// Go now.
        case allowed
        /// Not before `waitMicros` from now.
        case denied(waitMicros: Int64)
    }

    public let policy: RateLimitPolicy
    public private(set) var state: State

    public init(policy: RateLimitPolicy, state: State = State()) {
        self.policy = policy
        self.state = state
    }

    /// The earliest time a request conforms.
    public var allowedAt: Int64 { max(state.tat.saturatingMinus(policy.toleranceMicros), state.blockedUntil) }

    /// Decides a request at `now`; an allowed request takes its slot. With `reserving` (µs, cut to
    /// the burst tolerance) it is allowed only while that much of the burst stays unused by it —
    /// room left for requests that ask without a reserve.
    public mutating func request(at now: Int64, reserving: Int64 = 0) -> Decision {
        let earliest = max(allowedAt, state.tat.saturatingMinus(policy.toleranceMicros).saturatingPlus(min(max(0, reserving), policy.toleranceMicros)))
        guard now >= earliest else { return .denied(waitMicros: earliest.saturatingMinus(now)) }
        state.tat = max(state.tat, now).saturatingPlus(policy.emissionMicros)
        return .allowed
    }

    /// Nothing may go before `now + micros`, and after that the requests resume at the policy's
    /// spacing (no burst when the block ends). Never shortens an existing block.
    /// `micros` is cut to the policy's ``RateLimitPolicy/maxBlock``.
    public mutating func block(at now: Int64, forMicros micros: Int64) {
        let bounded = min(max(0, micros), policy.maxBlockMicros)
        state.blockedUntil = max(state.blockedUntil, now.saturatingPlus(bounded))
        state.tat = max(state.tat, state.blockedUntil.saturatingPlus(policy.toleranceMicros))
    }

    /// How long Redis must keep the state: until it no longer restricts anything.
    public func retentionMicros(at now: Int64) -> Int64 {
        max(state.tat, state.blockedUntil).saturatingMinus(now)
    }
}
