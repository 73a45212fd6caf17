/// When to try for, renew and give up a leader lock — a pure state machine on an injected
/// monotonic clock (instants are `Duration`s since any fixed origin). ``LeaderElection`` carries
/// out its actions.
///
/// Proof of leadership: a lock set or renewed by a request *sent* at `t` is held until
/// `t + ttl` on the server. The machine counts it valid only until `t + ttl·(1 - drift) - margin`,
/// so the process stops acting as leader before another can possibly take over, even with clock
/// drift and a pause between the check and the act. A refused renewal ends leadership at once; a
/// renewal that failed in transport is retried until the proof runs out.
public struct LeaderLockMachine: Sendable {
    public struct Timing: Sendable, Equatable {
        /// The lock's time to live (`LEADER_LOCK_TTL`, default 10 s).
        public var ttl: Duration
        /// How often the leader renews (default ttl / 3).
        public var renewEvery: Duration
        /// Subtracted from every proof (default ttl / 10).
        public var safetyMargin: Duration
        /// Assumed worst relative drift between this clock and the server's (default 1 %).
        public var drift: Double
        /// A follower never waits longer than this between attempts (default ttl / 2, at most 1 s), so
        /// a lock released on shutdown is taken over within about a second.
        public var maxFollowerWait: Duration
        /// Pause after a failed attempt (Redis unreachable), and between renewal retries.
        public var retryAfterError: Duration

        public init(ttl: Duration = .seconds(10)) {
            self.ttl = ttl
            renewEvery = ttl / 3
            safetyMargin = ttl / 10
            drift = 0.01
            maxFollowerWait = min(ttl / 2, .seconds(1))
            retryAfterError = min(ttl / 10, .seconds(1))
        }

        /// How long a lock set at `sentAt` with `lifetime` left is provably ours.
        func proof(sentAt: Duration, lifetime: Duration) -> Duration {
            sentAt + lifetime * (1 - drift) - safetyMargin
        }
    }

    public enum Action: Sendable, Equatable {
        /// Try to take the lock.
        case acquire
        /// Renew the lock holding `value`.
        case renew(value: String)
        /// Nothing to do before this instant.
        case wait(until: Duration)
    }

    private enum State: Sendable, Equatable {
        case follower(nextAttempt: Duration)
        case leading(term: LeaderTerm, value: String, validUntil: Duration, nextRenew: Duration)
    }

    public let timing: Timing
    private var state: State

    public init(timing: Timing, now: Duration) {
        self.timing = timing
        state = .follower(nextAttempt: now)
    }

    /// This process's term if it leads and its proof has not run out at `now`.
    public func term(at now: Duration) -> LeaderTerm? {
        guard case .leading(let term, _, let validUntil, _) = state, now < validUntil else { return nil }
        return term
    }

    /// The lock value held while leading.
    /// Until when the current term is proven (on the machine's clock); nil when not leading.
    public var validUntil: Duration? {
        if case .leading(_, _, let validUntil, _) = state { return validUntil }
        return nil
    }

    public var heldValue: String? {
        if case .leading(_, let value, _, _) = state { return value }
        return nil
    }

    /// What to do at `now`. A leader whose proof ran out becomes a follower here.
    public mutating func nextAction(now: Duration) -> Action {
        switch state {
        case .follower(let next):
            return now >= next ? .acquire : .wait(until: next)
        case .leading(_, let value, let validUntil, let nextRenew):
            if now >= validUntil {
                state = .follower(nextAttempt: now)
                return .acquire
            }
            return now >= nextRenew ? .renew(value: value) : .wait(until: min(nextRenew, validUntil))
        }
    }

    /// A leader whose proof ran out by `now` becomes a follower (its next attempt at once);
    /// anything else is unchanged. Returns whether the term lapsed.
    @discardableResult
    public mutating func expireIfLapsed(now: Duration) -> Bool {
        guard case .leading(_, _, let validUntil, _) = state, now >= validUntil else { return false }
        state = .follower(nextAttempt: now)
        return true
    }

    /// An acquire sent at `sentAt` took the lock (or found our own): leading, term `term`.
    public mutating func acquired(term: LeaderTerm, value: String, lifetime: Duration, sentAt: Duration) {
        let validUntil = timing.proof(sentAt: sentAt, lifetime: lifetime)
        state = .leading(term: term, value: value, validUntil: validUntil, nextRenew: sentAt + timing.renewEvery)
    }

    /// An acquire found the lock held by another for `remaining`: try again when it would expire
    /// (plus `jitter`, so that followers do not all ask at the same instant), but no later than
    /// ``Timing/maxFollowerWait``.
    public mutating func held(remaining: Duration, now: Duration, jitter: Duration) {
        state = .follower(nextAttempt: now + min(max(remaining, .milliseconds(1)) + jitter, timing.maxFollowerWait))
    }

    /// The attempt failed in transport (Redis unreachable): try again later.
    public mutating func attemptFailed(now: Duration) {
        if case .leading(let term, let value, let validUntil, _) = state {
            state = .leading(
                term: term, value: value, validUntil: validUntil, nextRenew: now + timing.retryAfterError)
        } else {
            state = .follower(nextAttempt: now + timing.retryAfterError)
        }
    }

    /// A renewal sent at `sentAt` succeeded: the proof extends.
    public mutating func renewed(sentAt: Duration) {
        guard case .leading(let term, let value, let validUntil, _) = state else { return }
        let proof = timing.proof(sentAt: sentAt, lifetime: timing.ttl)
        state = .leading(
            term: term, value: value, validUntil: max(validUntil, proof), nextRenew: sentAt + timing.renewEvery)
    }

    /// The renewal was refused: the lock is not ours any more. Leadership ends now.
    public mutating func lost(now: Duration) {
        state = .follower(nextAttempt: now)
    }

    /// Leadership given up (shutdown).
    public mutating func resigned(now: Duration) {
        state = .follower(nextAttempt: now + timing.ttl)
    }
}
