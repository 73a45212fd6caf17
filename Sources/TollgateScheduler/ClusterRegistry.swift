import Logging
import ServiceLifecycle
import TollgateCore
import TollgateIPC
import TollgateRedis

/// The cluster view of poller-scheduler: every instance publishes a small stats snapshot to Redis
/// with a time to live, and any instance can list the live ones (for `stats` and `tollgate status`).
///
/// `refresh` runs before each heartbeat (the poller refreshes its cached queue depths there).
///
/// Keys: `<prefix>:poller:instances` (sorted set, member instance, score expiry ms) and
/// `<prefix>:poller:instance:<name>` (the snapshot JSON, expiring after three heartbeats).
public final class ClusterRegistry: Service, Sendable {
    private let client: RedisClient
    private let reader: RedisClientPool
    private let indexKey: String
    private let keyPrefix: String
    private let instance: String
    private let interval: Duration
    private let snapshot: @Sendable () -> Stats.Snapshot
    private let refresh: @Sendable () async -> Void
    private let logger: Logger

    public init(
        client: RedisClient, reader: RedisClientPool, keys: KeySpace, instance: String, interval: Duration,
        snapshot: @escaping @Sendable () -> Stats.Snapshot, refresh: @escaping @Sendable () async -> Void = {},
        logger: Logger
    ) {
        self.client = client
        self.reader = reader
        self.indexKey = keys("poller", "instances")
        self.keyPrefix = keys("poller", "instance") + ":"
        self.instance = instance
        self.interval = interval
        self.snapshot = snapshot
        self.refresh = refresh
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await refresh()
            await publish()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
        _ = try? await client.pipeline([
            ["DEL", RedisArgument(keyPrefix + instance)], ["ZREM", RedisArgument(indexKey), RedisArgument(instance)],
        ])
        await client.close()
    }

    private func publish() async {
        guard let json = try? IPCCoding.encode(snapshot()) else { return }
        let ttl = interval * 3
        do {
            _ = try await client.evaluate(
                Self.publishScript, keys: [RedisArgument(indexKey), RedisArgument(keyPrefix + instance)],
                args: [RedisArgument(instance), RedisArgument(json), RedisArgument(ttl.milliseconds)])
        } catch {
            logger.debug("cluster heartbeat failed", metadata: ["error": "\(error)"])
        }
    }

    /// The live instances' snapshots, sorted by instance name (this instance's own fresh).
    public func view() async -> [Stats.Snapshot] {
        var result: [String: Stats.Snapshot] = [:]
        if let reply = try? await reader.next().evaluate(
            Self.listScript, keys: [RedisArgument(indexKey)], args: [RedisArgument(keyPrefix)]),
            let values = reply.array
        {
            for value in values {
                guard let bytes = value.bytes, let snap = try? IPCCoding.decode(Stats.Snapshot.self, from: bytes) else {
                    continue
                }
                result[snap.instance] = snap
            }
        }
        result[instance] = snapshot()
        return result.keys.sorted().compactMap { result[$0] }
    }

    /// KEYS: index, own key; ARGV: instance, json, ttl ms.
    static let publishScript = RedisScript(
        name: "cluster-publish",
        source: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
            redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
            return 1
            """)

    /// KEYS: index; ARGV: key prefix → the snapshots of live instances; forgets expired ones.
    static let listScript = RedisScript(
        name: "cluster-list",
        source: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local out = {}
            for _, name in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
              local snap = redis.call('GET', ARGV[1] .. name)
              if snap then out[#out + 1] = snap else redis.call('ZREM', KEYS[1], name) end
            end
            return out
            """)
}
