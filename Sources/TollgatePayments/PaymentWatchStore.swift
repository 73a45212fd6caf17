import TollgateCore
import TollgateIPC
import TollgateRedis

/// The watch list in Redis: survives restarts, shared by every poller instance (any of them
/// answers `watch_payment`; the leader polls).
public struct PaymentWatchStore: Sendable {
    /// Where commands go: a pool (IPC handlers) or a client of its own (the polling loop).
    public enum Connection: Sendable {
        case pool(RedisClientPool)
        case client(RedisClient)

        var client: RedisClient {
            switch self {
            case .pool(let pool): pool.next()
            case .client(let client): client
            }
        }
    }

    public let redis: Connection
    public let keys: KeySpace

    public init(redis: Connection, keys: KeySpace) {
        self.redis = redis
        self.keys = keys
    }

    func watchKey(_ user: Int64) -> String { keys("payments", "w", String(user)) }
    var dueKey: String { keys("payments", "due") }
    var expiryKey: String { keys("payments", "expiry") }
    var recordIndexKey: String { keys("payments", "rec") }
    var telegramIndexKey: String { keys("payments", "tg") }
    var sequenceKey: String { keys("payments", "seq") }
    var cursorKey: String { keys("payments", "cursor") }

    /// The outcome of ``watch(_:defaultExpiry:firstCheckDelay:)``.
    public struct WatchResult: Sendable, Equatable {
        public var created: Bool
        public var expiresAtMs: Int64
        public var watchID: Int64
    }

    /// Adds or refreshes a watch (idempotent per user); its first check is due after `firstCheckDelay`.
    public func watch(_ request: WatchPayment, defaultExpiry: Duration, firstCheckDelay: Duration) async throws(RedisError)
        -> WatchResult
    {
        let user = request.userID
        let expiresIn = request.expiresInMs ?? defaultExpiry.milliseconds
        let reply = try await redis.client.evaluate(
            PaymentWatchScripts.watch,
            keys: [watchKey(user), dueKey, expiryKey, recordIndexKey, telegramIndexKey, sequenceKey].map { RedisArgument($0) },
            args: [
                RedisArgument(user), RedisArgument(request.chatID), RedisArgument(request.recordID.map(String.init) ?? ""),
                RedisArgument(request.telegramID ?? ""), RedisArgument(expiresIn),
                RedisArgument(request.notifyExpired == true ? "1" : "0"), RedisArgument(firstCheckDelay.milliseconds),
            ])
        guard let parts = reply.array, parts.count == 3, let created = parts[0].int, let expires = parts[1].int,
            let watch = parts[2].int
        else { throw RedisError(.protocolError, "unexpected watch reply \(reply)") }
        return WatchResult(created: created == 1, expiresAtMs: expires, watchID: watch)
    }

    /// Removes a user's watch; with `watchID`, only if it is still that watch. Returns whether one was removed.
    @discardableResult
    public func unwatch(userID: Int64, watchID: Int64? = nil) async throws(RedisError) -> Bool {
        let reply = try await redis.client.evaluate(
            PaymentWatchScripts.unwatch,
            keys: [watchKey(userID), dueKey, expiryKey, recordIndexKey, telegramIndexKey].map { RedisArgument($0) },
            args: [RedisArgument(userID), RedisArgument(watchID.map(String.init) ?? "")])
        return reply.int == 1
    }

    /// What is due now (server clock).
    public struct DueSet: Sendable, Equatable {
        public var nowMs: Int64
        public var due: [Int64]
        public var expired: [Int64]
        /// The earliest due time of any watch, nil when there is none.
        public var nextDueMs: Int64?
        /// How many watches exist.
        public var active: Int
    }

    public func dueSet(limit: Int) async throws(RedisError) -> DueSet {
        let reply = try await redis.client.evaluate(
            PaymentWatchScripts.due, keys: [RedisArgument(dueKey), RedisArgument(expiryKey)], args: [RedisArgument(limit)])
        guard let parts = reply.array, parts.count == 5, let now = parts[0].int, let next = parts[3].int,
            let active = parts[4].int
        else { throw RedisError(.protocolError, "unexpected due reply \(reply)") }
        let due = (parts[1].array ?? []).compactMap(\.int)
        let expired = (parts[2].array ?? []).compactMap(\.int)
        return DueSet(nowMs: now, due: due, expired: expired, nextDueMs: next < 0 ? nil : next, active: Int(active))
    }

    /// The watches of `users` (missing ones are skipped).
    public func load(_ users: [Int64]) async throws(RedisError) -> [PaymentWatch] {
        guard !users.isEmpty else { return [] }
        let replies = try await redis.client.pipeline(users.map { ["HGETALL", RedisArgument(watchKey($0))] })
        return replies.compactMap { reply -> PaymentWatch? in
            guard let items = reply.array, items.count >= 2 else { return nil }
            var hash: [String: String] = [:]
            var index = 0
            while index + 1 < items.count {
                if let k = items[index].string, let v = items[index + 1].string { hash[k] = v }
                index += 2
            }
            return PaymentWatch(hash: hash)
        }
    }

    /// The users watching rows by these record ids / Telegram ids (for delta mode).
    public func users(records: [Int64], telegramIDs: [String]) async throws(RedisError) -> Set<Int64> {
        var commands: [[RedisArgument]] = []
        if !records.isEmpty {
            var command: [RedisArgument] = ["HMGET", RedisArgument(recordIndexKey)]
            for record in records { command.append(RedisArgument(record)) }
            commands.append(command)
        }
        if !telegramIDs.isEmpty {
            var command: [RedisArgument] = ["HMGET", RedisArgument(telegramIndexKey)]
            for id in telegramIDs { command.append(RedisArgument(id)) }
            commands.append(command)
        }
        let replies = try await redis.client.pipeline(commands)
        var users = Set<Int64>()
        for reply in replies {
            for value in reply.array ?? [] { if let user = value.int { users.insert(user) } }
        }
        return users
    }

    /// Records a check of each watch and schedules its next one after `delay(watch)`.
    public func markChecked(_ watches: [PaymentWatch], delay: (PaymentWatch) -> Duration) async throws(RedisError) {
        guard !watches.isEmpty else { return }
        var keys = [RedisArgument(dueKey)]
        var args: [RedisArgument] = []
        for watch in watches {
            keys.append(RedisArgument(watchKey(watch.userID)))
            args += [RedisArgument(watch.userID), RedisArgument(watch.watchID), RedisArgument(delay(watch).milliseconds)]
        }
        try await redis.client.evaluate(PaymentWatchScripts.checked, keys: keys, args: args)
    }

    /// Makes every watch due now (used when delta mode starts without a cursor).
    public func makeAllDue() async throws(RedisError) {
        var cursor = "0"
        var rounds = 0
        repeat {
            rounds += 1
            // A server whose cursor never comes back to 0 must not hold the caller for ever.
            guard rounds <= 100_000 else { throw RedisError(.protocolError, "ZSCAN did not finish") }
            let reply = try await redis.client.send("ZSCAN", RedisArgument(dueKey), RedisArgument(cursor), "COUNT", 1000)
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let items = parts[1].array else {
                throw RedisError(.protocolError, "unexpected ZSCAN reply")
            }
            cursor = next
            var args: [RedisArgument] = ["ZADD", RedisArgument(dueKey), "XX"]
            var index = 0
            while index + 1 < items.count {
                args += [0, RedisArgument(items[index].bytes ?? [])]
                index += 2
            }
            if args.count > 3 { try await redis.client.send(args) }
        } while cursor != "0"
    }

    /// How many watches exist.
    public func count() async throws(RedisError) -> Int {
        Int(max(0, try await redis.client.send("ZCARD", RedisArgument(dueKey)).int ?? 0))
    }

    /// The delta cursor (the latest `UpdatedAt` processed, Unix ms), if any.
    public func cursor() async throws(RedisError) -> Int64? {
        try await redis.client.send("GET", RedisArgument(cursorKey)).int
    }

    public func setCursor(_ ms: Int64) async throws(RedisError) {
        try await redis.client.send("SET", RedisArgument(cursorKey), RedisArgument(ms))
    }
}
