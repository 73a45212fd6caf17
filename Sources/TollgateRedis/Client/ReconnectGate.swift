import TollgateCore

/// When a client may try to (re)connect, and which transitions are worth a log line.
///
/// A pure state machine: the caller passes the time in and carries out the result. After a lost
/// connection the next call reconnects at once; after a *failed* connect attempt, attempts are
/// spaced by capped exponential backoff with jitter, and calls in between fail fast. A successful
/// connect resets the backoff. Only transitions (up → down, down → up, never-connected → down)
/// are reported as ``Event/up(downFor:)`` / ``Event/down(_:retryIn:)``; repeated failures while
/// already down are ``Event/stillDown(_:retryIn:)``, to be logged at debug level at most.
struct ReconnectGate {
    enum Link: Equatable {
        case idle, up, down
    }

    enum Decision: Equatable {
        /// Try to connect now.
        case attempt
        /// Fail fast: the next attempt is due in `remaining`.
        case wait(remaining: Duration, lastError: RedisError)
    }

    enum Event: Equatable {
        case up(downFor: Duration?)
        case down(RedisError, retryIn: Duration?)
        case stillDown(RedisError, retryIn: Duration)
    }

    private(set) var link: Link = .idle
    private(set) var nextAttempt: ContinuousClock.Instant?
    private(set) var lastError: RedisError?
    private(set) var failedAttempts = 0
    private var downSince: ContinuousClock.Instant?
    private var backoff: Backoff

    init(base: Duration = .milliseconds(100), cap: Duration = .seconds(5)) {
        backoff = Backoff(base: base, cap: cap, jitter: .equal)
    }

    func decide(now: ContinuousClock.Instant) -> Decision {
        guard let nextAttempt, let lastError, now < nextAttempt else { return .attempt }
        return .wait(remaining: nextAttempt - now, lastError: lastError)
    }

    mutating func connected(now: ContinuousClock.Instant) -> Event? {
        defer {
            link = .up
            nextAttempt = nil
            lastError = nil
            failedAttempts = 0
            downSince = nil
            backoff.reset()
        }
        switch link {
        case .up: return nil
        case .idle: return .up(downFor: nil)
        case .down: return .up(downFor: downSince.map { now - $0 })
        }
    }

    /// A connect attempt failed; schedules the next one.
    mutating func connectFailed<R: RandomNumberGenerator>(
        _ error: RedisError, now: ContinuousClock.Instant, using rng: inout R
    ) -> Event {
        let delay = backoff.next(using: &rng)
        nextAttempt = now + delay
        lastError = error
        failedAttempts += 1
        defer {
            link = .down
            if downSince == nil { downSince = now }
        }
        // Already down (lost and reported, or an earlier attempt failed): nothing new to report.
        return link == .down ? .stillDown(error, retryIn: delay) : .down(error, retryIn: delay)
    }

    mutating func connectFailed(_ error: RedisError, now: ContinuousClock.Instant) -> Event {
        var rng = SystemRandomNumberGenerator()
        return connectFailed(error, now: now, using: &rng)
    }

    /// An open connection broke (or went stale). The next call may reconnect at once.
    mutating func connectionLost(_ error: RedisError, now: ContinuousClock.Instant) -> Event? {
        guard link == .up else { return nil }
        link = .down
        downSince = now
        nextAttempt = nil
        lastError = error
        failedAttempts = 0
        return .down(error, retryIn: nil)
    }
}
