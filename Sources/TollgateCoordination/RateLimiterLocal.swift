import Synchronization
import TollgateCore

/// A limiter for one process: ``RateLimitGCRA`` in memory, on an injectable clock.
///
/// For tools and tests that run without Redis; a deployment uses ``RedisRateLimiter`` so that every
/// process shares the budget.
public final class LocalRateLimiter: RateLimiter {
    /// Microseconds on some monotonic scale.
    public typealias Clock = @Sendable () -> Int64

    private let now: Clock
    private let states = Mutex<[String: RateLimitGCRA.State]>([:])

    /// - Parameter now: the clock (defaults to the process's monotonic clock).
    public init(now: @escaping Clock = LocalRateLimiter.monotonicMicros) {
        self.now = now
    }

    /// The monotonic clock in microseconds.
    public static let monotonicMicros: Clock = { LocalRateLimiterEpoch.elapsedMicros() }

    @discardableResult
    public func acquire(_ resource: RateLimitedResource) async throws -> RateLimitGrant {
        try await acquire(resource, reserving: .zero)
    }

    @discardableResult
    public func acquire(_ resource: RateLimitedResource, reserving: Duration) async throws -> RateLimitGrant {
        let reserve = reserving.microseconds
        var waited: Int64 = 0
        var wasBlocked = false
        while true {
            try Task.checkCancellation()
            let at = now()
            let (decision, blocked) = step(resource) { gcra in
                let blocked = gcra.state.blockedUntil > at
                return (gcra.request(at: at, reserving: reserve), blocked)
            }
            switch decision {
            case .allowed:
                return RateLimitGrant(waited: .microseconds(waited), wasBlocked: wasBlocked, grantedAtMicros: at)
            case .denied(let wait):
                wasBlocked = wasBlocked || blocked
                waited = waited.saturatingPlus(wait)
                try await Task.sleep(for: .microseconds(min(wait, SlicedSleep.slice.microseconds)))
                if wait > SlicedSleep.slice.microseconds { await SlicedSleep.reportProgress() }
            }
        }
    }

    public func pushBack(_ resource: RateLimitedResource, by delay: Duration) async throws {
        let at = now()
        step(resource) { gcra in gcra.block(at: at, forMicros: delay.microseconds) }
    }

    public func currentWait(_ resource: RateLimitedResource) async throws -> Duration {
        let at = now()
        return step(resource) { gcra in .microseconds(max(0, gcra.allowedAt - at)) }
    }

    private func step<T>(_ resource: RateLimitedResource, _ body: (inout RateLimitGCRA) -> T) -> T {
        states.withLock { map in
            var gcra = RateLimitGCRA(policy: resource.policy, state: map[resource.name] ?? .init())
            let result = body(&gcra)
            map[resource.name] = gcra.state
            return result
        }
    }
}

/// The process-wide origin of ``LocalRateLimiter/monotonicMicros``.
enum LocalRateLimiterEpoch {
    static let origin = ContinuousClock.now
    static func elapsedMicros() -> Int64 { (ContinuousClock.now - origin).microseconds + 1 }
}
