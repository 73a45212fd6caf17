import TollgateCore
import TollgateRedis

/// The per-user inbound limit (default 10 messages a minute): a sliding window of update ids per
/// user in Redis, so it holds across gateways and restarts and a replayed update counts once.
public struct InboundLimit: Sendable {
    /// What the limiter says about one update.
    public enum Verdict: Sendable, Hashable {
        case allowed
        /// Over the limit; `notify` is true for the first refused update of the window (one polite reply).
        case limited(notify: Bool)
    }

    let redis: RedisClientPool
    let keys: KeySpace
    public let limit: Int
    public let window: Duration

    public init(redis: RedisClientPool, keys: KeySpace, limit: Int = 10, window: Duration = .seconds(60)) {
        self.redis = redis
        self.keys = keys
        self.limit = limit
        self.window = window
    }

    public func check(userID: Int64, updateID: Int64) async throws(RedisError) -> Verdict {
        guard limit > 0 else { return .allowed }
        let reply = try await redis.next().evaluate(
            Self.script,
            keys: [RedisArgument(keys("gw", "inlimit", String(userID))), RedisArgument(keys("gw", "inlimit", String(userID), "told"))],
            args: [RedisArgument(String(updateID)), RedisArgument(limit), RedisArgument(window.milliseconds)])
        switch reply.int {
        case 0: return .allowed
        case 2: return .limited(notify: true)
        default: return .limited(notify: false)
        }
    }

    /// KEYS: window zset, "told" marker. ARGV: update id, limit, window ms.
    /// Returns 0 allowed, 1 limited (already told), 2 limited (tell now). Idempotent per update id.
    static let script = RedisScript(
        name: "gw-inbound-limit",
        source: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local window = tonumber(ARGV[3])
            local known = redis.call('ZSCORE', KEYS[1], ARGV[1])
            if not known then
              redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
              redis.call('ZADD', KEYS[1], now, ARGV[1])
              redis.call('PEXPIRE', KEYS[1], window)
            end
            local score = tonumber(known or now)
            local rank = redis.call('ZCOUNT', KEYS[1], now - window + 1, score)
            if rank <= tonumber(ARGV[2]) then return 0 end
            local told = redis.call('GET', KEYS[2])
            if told == false then
              redis.call('SET', KEYS[2], ARGV[1], 'PX', window)
              return 2
            end
            if told == ARGV[1] then return 2 end
            return 1
            """)
}
