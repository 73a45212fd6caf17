import TollgateCore
import TollgateRedis

/// Which effects of one unit of work (an update, a delivered job) have happened, so that a replay
/// after a crash repeats none of them: one Redis hash per unit (`<prefix>:gw:fx:<scope>`), kept
/// for ``retention``.
///
/// Fields: `<step>` = `s` (started: a send was about to go out) or `d:<result>` (done), and
/// `outcome` for the whole unit. The only window left is between Telegram accepting a message and
/// the `d:` mark reaching Redis: a replay finds `s` and the flow's policy decides (``FlowSend/Guarantee``).
public struct EffectJournal: Sendable {
    let redis: RedisClientPool
    let keys: KeySpace
    public let retention: Duration

    public init(redis: RedisClientPool, keys: KeySpace, retention: Duration = .seconds(3 * 86400)) {
        self.redis = redis
        self.keys = keys
        self.retention = retention
    }

    /// A unit's record: step marks and its final outcome.
    public struct Record: Sendable, Hashable {
        public var steps: [String: String] = [:]
        public var outcome: String?

        public func isDone(_ step: String) -> Bool { steps[step]?.hasPrefix("d:") ?? false }
        public func result(_ step: String) -> String? {
            guard let mark = steps[step], mark.hasPrefix("d:") else { return nil }
            return String(mark.dropFirst(2))
        }
        public func isStarted(_ step: String) -> Bool { steps[step] == "s" }
    }

    func key(_ scope: String) -> String { keys("gw", "fx", scope) }

    public func load(_ scope: String) async throws(RedisError) -> Record {
        let reply = try await redis.next().send("HGETALL", RedisArgument(key(scope)))
        var record = Record()
        guard let items = reply.array else { return record }
        var index = 0
        while index + 1 < items.count {
            if let name = items[index].string, let value = items[index + 1].string {
                if name == "outcome" { record.outcome = value } else { record.steps[name] = value }
            }
            index += 2
        }
        return record
    }

    public func markStarted(_ scope: String, _ step: String) async throws(RedisError) {
        try await set(scope, step, "s")
    }

    public func markDone(_ scope: String, _ step: String, result: String = "") async throws(RedisError) {
        try await set(scope, step, "d:" + result)
    }

    /// Forgets a started mark (the send is known not to have gone out).
    public func clear(_ scope: String, _ step: String) async throws(RedisError) {
        try await redis.next().send("HDEL", RedisArgument(key(scope)), RedisArgument(step))
    }

    public func finish(_ scope: String, outcome: String) async throws(RedisError) {
        try await set(scope, "outcome", outcome)
    }

    private func set(_ scope: String, _ field: String, _ value: String) async throws(RedisError) {
        let k = RedisArgument(key(scope))
        let replies = try await redis.next().pipeline([
            ["HSET", k, RedisArgument(field), RedisArgument(value)],
            ["PEXPIRE", k, RedisArgument(max(1000, retention.milliseconds))],
        ])
        if let message = replies.first?.errorMessage { throw RedisError(.serverError, message) }
    }
}
