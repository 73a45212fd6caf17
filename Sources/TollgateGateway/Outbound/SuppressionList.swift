import TollgateCore
import TollgateRedis

/// Chats the bot must not write to any more (they blocked it, were deactivated, or do not exist),
/// in one Redis hash `<prefix>:gw:suppressed` (chat id → `reason|unix ms`), shared by every gateway.
///
/// A user who writes to the bot again is taken off the list (they unblocked it).
public struct SuppressionList: Sendable {
    let redis: RedisClientPool
    public let key: String

    public init(redis: RedisClientPool, keys: KeySpace) {
        self.redis = redis
        self.key = keys("gw", "suppressed")
    }

    /// The reason `chatID` is suppressed, or `nil`.
    public func reason(for chatID: Int64) async throws(RedisError) -> String? {
        let value = try await redis.next().send("HGET", RedisArgument(key), RedisArgument(String(chatID)))
        return value.string.map { String($0.split(separator: "|", maxSplits: 1).first ?? "") }
    }

    public func suppress(_ chatID: Int64, reason: String) async throws(RedisError) {
        let entry = "\(reason.replacingOccurrences(of: "|", with: "/"))|\(WallClock.epochMilliseconds())"
        try await redis.next().send("HSET", RedisArgument(key), RedisArgument(String(chatID)), RedisArgument(entry))
    }

    /// Takes `chatID` off the list; returns whether it was on it.
    @discardableResult
    public func lift(_ chatID: Int64) async throws(RedisError) -> Bool {
        try await redis.next().send("HDEL", RedisArgument(key), RedisArgument(String(chatID))).int == 1
    }

    public func count() async throws(RedisError) -> Int {
        Int(try await redis.next().send("HLEN", RedisArgument(key)).int ?? 0)
    }
}
