/// A resource whose use is rate limited across every process that shares the limiter: one API
/// token of NocoDB, one bot's sends to Telegram.
///
/// `name` becomes part of a Redis key: never put a secret in it (use a fingerprint, see
/// ``RateLimitedResource/fingerprint(_:)``).
public struct RateLimitedResource: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let policy: RateLimitPolicy

    public init(name: String, policy: RateLimitPolicy) {
        precondition(!name.isEmpty, "a limited resource needs a name")
        self.name = name
        self.policy = policy
    }

    public var description: String { "\(name) @ \(policy)" }

    /// A short, stable, non-reversible label for a secret (an API token): 16 hex digits of
    /// FNV-1a-64 over its bytes. Distinct tokens get distinct limiters without the token ever
    /// reaching a Redis key.
    public static func fingerprint(_ secret: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in secret.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// What an ``RateLimiter/acquire(_:)`` waited for.
public struct RateLimitGrant: Sendable, Hashable {
    /// Time spent waiting for the slot (zero when it was free).
    public let waited: Duration
    /// Whether part of the wait was a block set by ``RateLimiter/pushBack(_:by:)``.
    public let wasBlocked: Bool
    /// When the slot was granted, in microseconds on the limiter's clock (the Redis server's
    /// `TIME` for ``RedisRateLimiter``): grants of different processes compare directly.
    public let grantedAtMicros: Int64
    /// When the grant reached this process, on its monotonic clock — taken on the thread that read
    /// the limiter's answer, before the waiting task resumed. How stale a slot is counts from here.
    public let arrivedAt: ContinuousClock.Instant

    public init(waited: Duration, wasBlocked: Bool, grantedAtMicros: Int64, arrivedAt: ContinuousClock.Instant = .now) {
        self.waited = waited
        self.wasBlocked = wasBlocked
        self.grantedAtMicros = grantedAtMicros
        self.arrivedAt = arrivedAt
    }
}

/// A rate limiter shared by the processes that use a resource.
///
/// Implementations: ``RedisRateLimiter`` (every process of both services, on the Redis clock) and
/// ``LocalRateLimiter`` (one process, in memory, with an injectable clock).
public protocol RateLimiter: Sendable {
    /// Waits until a request to `resource` may go and takes that slot.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled while waiting (no slot is
    ///   taken), or the limiter's own storage error (Redis unreachable): the request must not go.
    @discardableResult
    func acquire(_ resource: RateLimitedResource) async throws -> RateLimitGrant

    /// Like ``acquire(_:)``, but a slot is taken only while `reserving` of the resource's burst
    /// tolerance stays unused after it (at most the whole tolerance): traffic nobody waits for
    /// leaves room that a request without a reserve, arriving just after, takes at once.
    @discardableResult
    func acquire(_ resource: RateLimitedResource, reserving: Duration) async throws -> RateLimitGrant

    /// Pushes the resource's next allowed time to at least `delay` from now (a 429 with
    /// Retry-After, a known lockout): no request to it goes before then, in any process sharing
    /// the limiter. Never shortens a block already in place.
    func pushBack(_ resource: RateLimitedResource, by delay: Duration) async throws

    /// How long a request to `resource` would wait now (zero when it could go at once).
    func currentWait(_ resource: RateLimitedResource) async throws -> Duration
}
