import Logging
import Synchronization
import TollgateCore
import TollgateRedis

/// The cluster-wide limiter: GCRA on the Redis server's clock, one hash per resource
/// (`<prefix>:ratelimit:<resource>`), every decision one atomic script call.
///
/// Every process of both services that uses a resource through a `RedisRateLimiter` on the same
/// Redis and key space shares its budget; a ``pushBack(_:by:)`` from any of them holds all of them.
/// Inside one process, waiters for a resource queue in FIFO order and only the head polls Redis.
///
/// Fails closed: when Redis cannot be reached, ``acquire(_:)`` throws the `RedisError` and the
/// caller must not send its request.
public final class RedisRateLimiter: RateLimiter {
    private let client: RedisClient
    private let keys: KeySpace
    private let logger: Logger
    /// One turnstile per resource while anyone in this process waits on it; removed when the last
    /// user leaves, so per-chat resources (one per user ever messaged) do not accumulate.
    private let turnstiles = Mutex<[String: (turnstile: RateLimitTurnstile, users: Int)]>([:])

    /// - Parameters:
    ///   - client: a client of the limiter's own (acquire calls are short; a pool's client is fine).
    ///   - keys: the deployment's key space (`REDIS_PREFIX`).
    public init(client: RedisClient, keys: KeySpace, logger: Logger) {
        self.client = client
        self.keys = keys
        self.logger = logger
    }

    /// The Redis key holding `resource`'s state.
    public func key(for resource: RateLimitedResource) -> String {
        keys("ratelimit", resource.name)
    }

    @discardableResult
    public func acquire(_ resource: RateLimitedResource) async throws -> RateLimitGrant {
        try await acquire(resource, reserving: .zero)
    }

    @discardableResult
    public func acquire(_ resource: RateLimitedResource, reserving: Duration) async throws -> RateLimitGrant {
        let clock = ContinuousClock()
        let start = clock.now
        let reserve = min(max(0, reserving.microseconds), resource.policy.toleranceMicros)
        // Those asking with a reserve wait in a line of their own: they never stand in front of
        // the others (a broadcast's send before a reply, see SharedSendLimits).
        let line = reserve > 0 ? resource.name + " (reserving)" : resource.name
        let turnstile = checkOutTurnstile(line)
        defer { checkInTurnstile(line) }
        try await turnstile.enter()
        defer { turnstile.leave() }
        var wasBlocked = false
        while true {
            try Task.checkCancellation()
            let reply = try await run("acquire", resource, blockMicros: reserve)
            if reply.allowed {
                return RateLimitGrant(
                    waited: clock.now - start, wasBlocked: wasBlocked, grantedAtMicros: reply.now, arrivedAt: reply.arrivedAt)
            }
            if reply.blockedUntil > reply.now { wasBlocked = true }
            // Sleep the wait the server computed (a few hundred µs of jitter keep several processes
            // that wake together from asking in lockstep forever) — a long one (a 429 block) in
            // slices of a second, asking again after each and telling the waiting loop's
            // heartbeat that it is waiting as told.
            let slice = SlicedSleep.slice.microseconds
            let wait = min(max(0, reply.waitMicros), slice)
            try await Task.sleep(for: .microseconds(wait + Int64.random(in: 0...500)))
            if reply.waitMicros > slice { await SlicedSleep.reportProgress() }
        }
    }

    public func pushBack(_ resource: RateLimitedResource, by delay: Duration) async throws {
        let bounded = delay.clamped(to: .zero...resource.policy.maxBlock)
        let reply = try await run("block", resource, blockMicros: bounded.microseconds)
        logger.info(
            "rate limit pushed back",
            metadata: [
                "resource": "\(resource.name)", "delay_ms": "\(bounded.milliseconds)",
                "blocked_for_ms": "\(reply.blockedUntil.saturatingMinus(reply.now) / 1000)",
            ])
    }

    public func currentWait(_ resource: RateLimitedResource) async throws -> Duration {
        .microseconds(min(max(0, try await run("peek", resource, blockMicros: 0).waitMicros), resource.policy.maxBlockMicros))
    }

    private struct Reply {
        var allowed: Bool
        var waitMicros: Int64
        var now: Int64
        var blockedUntil: Int64
        var arrivedAt: ContinuousClock.Instant
    }

    private func run(_ op: String, _ resource: RateLimitedResource, blockMicros: Int64) async throws(RedisError) -> Reply {
        let (value, arrivedAt) = try await client.evaluateStamped(
            RateLimitScript.gcra, keys: [RedisArgument(key(for: resource))],
            args: [
                RedisArgument(op), RedisArgument(resource.policy.emissionMicros),
                RedisArgument(resource.policy.toleranceMicros), RedisArgument(blockMicros),
                RedisArgument(resource.policy.maxBlockMicros),
            ])
        guard let parts = value.array, parts.count == 4, let allowed = parts[0].int, let wait = parts[1].int,
            let now = parts[2].int, let blocked = parts[3].int
        else {
            throw RedisError(.protocolError, "unexpected rate limiter reply \(value)")
        }
        return Reply(allowed: allowed == 1, waitMicros: wait, now: now, blockedUntil: blocked, arrivedAt: arrivedAt)
    }

    private func checkOutTurnstile(_ name: String) -> RateLimitTurnstile {
        turnstiles.withLock { map in
            if let entry = map[name] {
                map[name] = (entry.turnstile, entry.users + 1)
                return entry.turnstile
            }
            let created = RateLimitTurnstile()
            map[name] = (created, 1)
            return created
        }
    }

    private func checkInTurnstile(_ name: String) {
        turnstiles.withLock { map in
            guard let entry = map[name] else { return }
            map[name] = entry.users > 1 ? (entry.turnstile, entry.users - 1) : nil
        }
    }

    /// Resources with a live turnstile in this process (for tests).
    var liveTurnstiles: Int { turnstiles.withLock { $0.count } }
}
