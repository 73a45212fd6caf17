import Logging
import TollgateCore
import TollgateRedis

/// Keeps the `file_id` Telegram returned for uploaded bytes, so that each file is uploaded once.
public protocol TelegramMediaCache: Sendable {
    func fileID(forKey key: String) async -> String?
    func store(fileID: String, forKey key: String) async
    func remove(key: String) async
}

/// A ``TelegramMediaCache`` in one Redis hash (`<prefix>:gw:media:<bot id>`), shared by every
/// gateway process: a file uploaded by one is sent by `file_id` by all.
///
/// A Redis failure is logged and treated as a cache miss: the file is uploaded again, never lost.
public struct RedisMediaCache: TelegramMediaCache {
    public let key: String
    private let redis: RedisClientPool
    private let logger: Logger

    public init(redis: RedisClientPool, keys: KeySpace, botID: String, logger: Logger) {
        self.redis = redis
        self.key = keys("gw", "media", botID)
        self.logger = logger
    }

    public func fileID(forKey field: String) async -> String? {
        do {
            return try await redis.next().send("HGET", RedisArgument(key), RedisArgument(field)).string
        } catch {
            logger.warning("media cache read failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    public func store(fileID: String, forKey field: String) async {
        do {
            try await redis.next().send("HSET", RedisArgument(key), RedisArgument(field), RedisArgument(fileID))
        } catch {
            logger.warning("media cache write failed", metadata: ["error": "\(error)"])
        }
    }

    public func remove(key field: String) async {
        _ = try? await redis.next().send("HDEL", RedisArgument(key), RedisArgument(field))
    }
}
