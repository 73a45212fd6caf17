import TollgateCore

/// Whether the dispatcher may send to the gateway now — a pure state machine on an injected
/// monotonic clock (instants are `Duration`s since a fixed origin).
///
/// After a transport failure (gateway down, restarting, draining) the dispatcher stops claiming
/// until ``resumeAt``: capped exponential backoff with equal jitter, so N instances neither
/// busy-loop nor probe in lock-step. Failures of batches that were already in flight when the
/// backoff was decided do not grow it again. A success resets it.
public struct GatewayGate: Sendable {
    public let base: Duration
    public let cap: Duration
    public private(set) var resumeAt: Duration?
    /// Consecutive failed rounds (0 while the gateway answers).
    public private(set) var failures = 0

    public init(base: Duration = .milliseconds(100), cap: Duration = .seconds(5)) {
        precondition(base > .zero && cap >= base)
        self.base = base
        self.cap = cap
    }

    /// Whether sending is allowed at `now`.
    public func isOpen(at now: Duration) -> Bool {
        guard let resumeAt else { return true }
        return now >= resumeAt
    }

    /// A send failed in transport at `now`; `unit` in 0...1 picks the jitter.
    public mutating func failed(at now: Duration, unit: Double) {
        if let resumeAt, now < resumeAt { return }
        let ceiling = min(base.seconds * pow(2, Double(min(failures, 40))), cap.seconds)
        resumeAt = now + .seconds(ceiling / 2 + ceiling / 2 * min(max(unit, 0), 1))
        failures += 1
    }

    /// A send got an answer.
    public mutating func succeeded() {
        resumeAt = nil
        failures = 0
    }
}

#if canImport(Glibc)
    import Glibc
#endif
