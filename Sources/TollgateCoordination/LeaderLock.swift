import TollgateCore
import TollgateRedis

/// A leader lock in Redis with a fencing token: `SET NX PX` to take it, compare-and-renew and
/// compare-and-release scripts, and a token from `INCR` on a key that never expires, so every
/// term's token is larger than any before it.
///
/// The lock's value is `"<token> <nonce> <holder>"`: the nonce is unique per ``LeaderLock``
/// instance (one per process start), so a restarted process with the same holder name never
/// mistakes its predecessor's lock for its own.
public struct LeaderLock: Sendable {
    /// The state of the lock as one attempt saw it.
    public struct Observation: Sendable, Equatable {
        /// Whether this attempt took the lock (or found it already taken by this very instance).
        public var acquired: Bool
        /// The term of whoever holds the lock, if anyone does.
        public var term: LeaderTerm?
        /// The raw lock value (needed to renew and release).
        public var value: String?
        /// How long the lock lives unless renewed.
        public var remaining: Duration?
    }

    public let client: RedisClient
    public let key: String
    public let tokenKey: String
    /// This instance's name, shown as the leader.
    public let holder: String
    public let nonce: String

    /// - Parameters:
    ///   - name: what is led (`poller`); the lock is `<prefix>:leader:<name>`.
    public init(client: RedisClient, keys: KeySpace, name: String, holder: String) {
        self.client = client
        self.key = keys("leader", name)
        self.tokenKey = keys("leader", name, "token")
        self.holder = holder
        self.nonce = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    /// Takes the lock for `ttl` if it is free (`SET NX PX`, a fresh fencing token); otherwise
    /// reports who holds it and for how much longer.
    public func acquire(ttl: Duration) async throws(RedisError) -> Observation {
        let reply = try await client.evaluate(
            Self.acquireScript, keys: [RedisArgument(key), RedisArgument(tokenKey)],
            args: [RedisArgument("\(nonce) \(holder)"), RedisArgument(max(1, ttl.milliseconds))])
        guard let parts = reply.array, parts.count == 3, let taken = parts[0].int, let value = parts[1].string,
            let remaining = parts[2].int
        else { throw RedisError(.protocolError, "unexpected lock reply \(reply)") }
        let term = Self.parse(value)
        let mine = taken == 1 || Self.nonce(of: value) == nonce
        // The remaining time is read from Redis: this instance's own term lasts no longer than its
        // TTL, whoever lengthened the key (believing otherwise, it would count itself leader past
        // its lock). Another holder's remaining time is reported as Redis says.
        let lives = mine ? min(max(0, remaining), ttl.milliseconds) : max(0, remaining)
        return Observation(acquired: mine, term: term, value: value, remaining: .milliseconds(lives))
    }

    /// Extends the lock to `ttl` if it still holds `value`; false if it does not (lost).
    public func renew(value: String, ttl: Duration) async throws(RedisError) -> Bool {
        let reply = try await client.evaluate(
            OwnedKeyScripts.renew, keys: [RedisArgument(key)],
            args: [RedisArgument(value), RedisArgument(max(1, ttl.milliseconds))])
        return reply.int == 1
    }

    /// Deletes the lock if it still holds `value`; false if it did not.
    @discardableResult
    public func release(value: String) async throws(RedisError) -> Bool {
        let reply = try await client.evaluate(OwnedKeyScripts.release, keys: [RedisArgument(key)], args: [RedisArgument(value)])
        return reply.int == 1
    }

    /// Who holds the lock now, if anyone.
    public func current() async throws(RedisError) -> LeaderTerm? {
        try await client.send("GET", RedisArgument(key)).string.flatMap(Self.parse)
    }

    /// The term a lock value describes.
    public static func parse(_ value: String) -> LeaderTerm? {
        let parts = value.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let token = Int64(parts[0]) else { return nil }
        return LeaderTerm(holder: String(parts[2]), token: token)
    }

    static func nonce(of value: String) -> String? {
        let parts = value.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 ? String(parts[1]) : nil
    }

    /// KEYS: lock, token counter; ARGV: "<nonce> <holder>", ttl ms → {taken, value, pttl}.
    /// A lock found without an expiry (written by hand, or by something else) is given one: a lock
    /// that never expires would keep every instance from leading for ever.
    static let acquireScript = RedisScript(
        name: "leader-acquire",
        source: """
            local current = redis.call('GET', KEYS[1])
            if current then
              local pttl = redis.call('PTTL', KEYS[1])
              if pttl < 0 then
                redis.call('PEXPIRE', KEYS[1], ARGV[2])
                pttl = tonumber(ARGV[2])
              end
              return {0, current, pttl}
            end
            local token = redis.call('INCR', KEYS[2])
            local value = token .. ' ' .. ARGV[1]
            redis.call('SET', KEYS[1], value, 'NX', 'PX', ARGV[2])
            return {1, value, tonumber(ARGV[2])}
            """)
}
