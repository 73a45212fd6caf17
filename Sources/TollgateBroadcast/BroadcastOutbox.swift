import TollgateCore
import TollgateRedis

/// The durable outbox of broadcast campaigns in Redis (seed 004's batch notification processing):
/// a campaign's audience is put in chunk by chunk, workers on any gateway claim batches of
/// recipients atomically with a lease, and complete a batch — outcomes counted, recipients
/// settled — in one round trip. Every change is one script on the Redis server's clock; the
/// outbox holds no state in process memory.
///
/// A worker that dies mid-batch leaves its recipients leased; once the lease lapses the next
/// claim puts them back first in line, and the dead worker's completion, should it come, is
/// refused for them (its token no longer holds them). Exactly once is the per-recipient effect
/// journal's job (the sender), not the lease's: the lease only makes progress.
///
/// Keys (`<prefix>:bc:`): `campaigns` (ZSET id → created ms), `c:<id>` (HASH: the campaign's
/// fields and counters), `running` (SET of the running campaigns), `c:<id>:pending` (ZSET user → position), `c:<id>:leased` (ZSET user →
/// lease deadline ms), `c:<id>:owner` (HASH user → batch token), `c:<id>:settled` (SET of users
/// done: a recipient added twice, or again after being sent, is not queued again), `idem:<key>`
/// (the campaign a create with that idempotency key made).
public struct BroadcastOutbox: Sendable {
    let redis: RedisClientPool
    let prefix: String

    /// The most recipients one ``enqueue(_:recipients:)`` takes (a bigger audience is put in by
    /// several calls: no single command grows with the audience).
    public static let chunk = 1000
    /// The most recipients one claim hands out.
    public static let maxBatch = 500
    /// How long an idempotency key is remembered.
    public static let idempotencyTTL: Duration = .seconds(7 * 86400)

    public init(redis: RedisClientPool, keys: KeySpace) {
        self.redis = redis
        self.prefix = keys("bc")
    }

    func key(_ parts: String...) -> String { ([prefix] + parts).joined(separator: ":") }
    func campaignKey(_ id: String) -> String { key("c", id) }

    /// Where a campaign stands.
    public enum State: String, Sendable, Codable, CaseIterable {
        /// Its audience is being put in; nothing is sent yet.
        case preparing
        /// Recipients are handed out (from its start time on).
        case running
        case paused
        case cancelled
        /// Every recipient settled.
        case done
    }

    /// What a recipient's send came to.
    public enum Outcome: Sendable, Equatable, Hashable {
        case sent
        /// Blocked the bot, or the chat is gone: never retried.
        case suppressed
        /// Telegram refused the message for good (its reason, e.g. `bad_request`).
        case failed(String)
        /// A request was on the wire when a run stopped; skipped by the campaign's policy.
        case uncertain
        /// Not sent now (a 429, a transient error, the gateway stopping): back in line.
        case later

        /// The counter the outcome adds to (nil: none, back in line).
        var counter: String? {
            switch self {
            case .sent: "sent"
            case .suppressed: "suppressed"
            case .failed(let reason): "failed:" + Self.reasonText(reason)
            case .uncertain: "uncertain"
            case .later: nil
            }
        }

        /// A reason as a counter name: at most 32 of `a-z 0-9 _`, anything else `_`.
        static func reasonText(_ reason: String) -> String {
            let cleaned = reason.lowercased().utf8.prefix(32).map { b -> Character in
                (0x61...0x7a).contains(b) || (0x30...0x39).contains(b) ? Character(UnicodeScalar(b)) : "_"
            }
            return cleaned.isEmpty ? "other" : String(cleaned)
        }
    }

    /// A campaign's figures.
    public struct Progress: Sendable, Equatable {
        public var state: State
        /// Recipients put in (each once).
        public var total: Int
        /// Waiting to be handed out.
        public var queued: Int
        /// Handed out to a worker, not completed yet.
        public var leased: Int
        public var sent: Int
        public var suppressed: Int
        public var uncertain: Int
        /// Failed for good, by reason.
        public var failed: [String: Int]
        /// Still in line when the campaign was cancelled (never sent).
        public var dropped: Int
        public var createdAtMs: Int64
        /// Not handed out before this instant (Unix ms); nil: at once.
        public var startAtMs: Int64?
        /// The first and the last send counted (Unix ms): the campaign's pace.
        public var firstSentAtMs: Int64?
        public var lastSentAtMs: Int64?

        public var settled: Int { sent + suppressed + uncertain + failed.values.reduce(0, +) }
    }

    /// A batch handed out by ``claim(_:limit:lease:)``.
    public struct Batch: Sendable, Equatable {
        /// Proves the holder at completion.
        public var token: String
        public var recipients: [Int64]

        public init(token: String, recipients: [Int64]) {
            self.token = token
            self.recipients = recipients
        }
    }

    /// What ``create(id:fields:startAtMs:idempotencyKey:)`` did.
    public struct Created: Sendable, Equatable {
        public var id: String
        /// False: a campaign with this idempotency key existed (a retried command); its id.
        public var created: Bool

        public init(id: String, created: Bool) {
            self.id = id
            self.created = created
        }
    }

    // MARK: Lifecycle

    /// Makes campaign `id` in state ``State/preparing`` with `fields` (its message, audience and
    /// policy, as the caller encodes them; names must not start with `n_` or be a counter's),
    /// once per `idempotencyKey`: a second create with the same key answers the first's id.
    public func create(
        id: String, fields: [String: String], startAtMs: Int64? = nil, idempotencyKey: String
    ) async throws(RedisError) -> Created {
        var args = [RedisArgument(id), RedisArgument(startAtMs ?? 0), RedisArgument(Self.idempotencyTTL.milliseconds)]
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            args += [RedisArgument("f_" + name), RedisArgument(value)]
        }
        let reply = try await redis.next().evaluate(
            Self.createScript, keys: [RedisArgument(key("idem", idempotencyKey)), RedisArgument(campaignKey(id)), RedisArgument(key("campaigns"))],
            args: args)
        let items = reply.array ?? []
        return Created(id: items.first?.string ?? id, created: items.count > 1 && items[1].int == 1)
    }

    /// Puts `recipients` (at most ``chunk``) in line after those already there; one already in
    /// line, leased or settled is not added again. Only while the campaign is preparing. Returns
    /// how many were added.
    public func enqueue(_ id: String, recipients: [Int64]) async throws(BroadcastError) -> Int {
        guard recipients.count <= Self.chunk else { throw BroadcastError(.invalid, "at most \(Self.chunk) recipients per call") }
        guard recipients.allSatisfy({ $0 != 0 }) else { throw BroadcastError(.invalid, "a recipient id must not be 0") }
        let reply = try await call(
            Self.enqueueScript, id, keys: ["pending", "leased", "settled"], args: recipients.map { RedisArgument($0) })
        guard let added = reply.int else { throw BroadcastError.from(reply) }
        return Int(added)
    }

    /// Ends preparation: the campaign runs (from its start time) — or is done at once with
    /// nobody in line.
    public func seal(_ id: String) async throws(BroadcastError) {
        try Self.check(try await call(Self.sealScript, id, keys: ["pending"], args: []))
    }

    /// Hands out up to `limit` recipients of a running campaign whose start time has come, first
    /// those whose lease lapsed, leased to the caller for `lease`. Empty: nothing to hand out now
    /// (paused, not started, all leased, or done — ``progress(_:)`` tells).
    public func claim(_ id: String, limit: Int, lease: Duration) async throws(BroadcastError) -> Batch {
        let token = String(UInt64.random(in: 1...UInt64.max), radix: 36)
        let reply = try await call(
            Self.claimScript, id, keys: ["pending", "leased", "owner"],
            args: [RedisArgument(min(max(1, limit), Self.maxBatch)), RedisArgument(max(1, lease.milliseconds)), RedisArgument(token)])
        guard let items = reply.array else { throw BroadcastError.from(reply) }
        return Batch(token: token, recipients: items.compactMap { $0.string.flatMap { Int64($0) } ?? $0.int })
    }

    /// Completes `batch`: each recipient's outcome counted and settled, or put back in line
    /// (``Outcome/later``) — only those the batch's token still holds (a lapsed lease's
    /// recipients were handed to someone else). Returns how many it settled or put back.
    @discardableResult
    public func complete(_ id: String, batch: Batch, outcomes: [Int64: Outcome]) async throws(BroadcastError) -> Int {
        var args = [RedisArgument(batch.token)]
        for user in batch.recipients {
            let outcome = outcomes[user] ?? .later
            args += [RedisArgument(user), RedisArgument(outcome.counter ?? "")]
        }
        let reply = try await call(Self.completeScript, id, keys: ["pending", "leased", "owner", "settled"], args: args)
        guard let n = reply.int else { throw BroadcastError.from(reply) }
        return Int(n)
    }

    /// Lengthens the lease of what `batch` still holds (a batch that takes long at Telegram's pace).
    public func extend(_ id: String, batch: Batch, lease: Duration) async throws(BroadcastError) {
        let args = [RedisArgument(batch.token), RedisArgument(max(1, lease.milliseconds))] + batch.recipients.map { RedisArgument($0) }
        try Self.check(try await call(Self.extendScript, id, keys: ["leased", "owner"], args: args))
    }

    /// `pause`, `resume` or `cancel`; refused (``BroadcastError/Code/conflict``) where it makes no
    /// sense (resuming a cancelled campaign). Cancelling drops what is still in line.
    public func change(_ id: String, to action: Action) async throws(BroadcastError) {
        try Self.check(try await call(Self.changeScript, id, keys: ["pending"], args: [RedisArgument(action.rawValue)]))
    }

    public enum Action: String, Sendable, CaseIterable {
        case pause, resume, cancel
    }

    // MARK: Reading

    /// The figures of campaign `id`; nil: no such campaign.
    public func progress(_ id: String) async throws(RedisError) -> Progress? {
        let client = redis.next()
        let replies = try await client.pipeline([
            ["HGETALL", RedisArgument(campaignKey(id))], ["ZCARD", RedisArgument(campaignKey(id) + ":pending")],
            ["ZCARD", RedisArgument(campaignKey(id) + ":leased")],
        ])
        guard replies.count == 3 else { return nil }
        let fields = replies[0].fieldPairs
        guard !fields.isEmpty else { return nil }
        var failed: [String: Int] = [:]
        for (name, value) in fields where name.hasPrefix("n_failed:") { failed[String(name.dropFirst(9))] = Int(value) ?? 0 }
        func count(_ name: String) -> Int { Int(fields["n_" + name] ?? "") ?? 0 }
        func ms(_ name: String) -> Int64? { Int64(fields[name] ?? "").flatMap { $0 > 0 ? $0 : nil } }
        return Progress(
            state: State(rawValue: fields["state"] ?? "") ?? .preparing, total: count("total"), queued: Int(replies[1].int ?? 0),
            leased: Int(replies[2].int ?? 0), sent: count("sent"), suppressed: count("suppressed"), uncertain: count("uncertain"),
            failed: failed, dropped: count("cancelled"), createdAtMs: ms("created_at") ?? 0, startAtMs: ms("start_at"), firstSentAtMs: ms("first_sent_at"),
            lastSentAtMs: ms("last_sent_at"))
    }

    /// The caller's fields of campaign `id` (as given to ``create(id:fields:startAtMs:idempotencyKey:)``).
    public func fields(_ id: String) async throws(RedisError) -> [String: String] {
        let stored = try await redis.next().send("HGETALL", RedisArgument(campaignKey(id))).fieldPairs
        var fields: [String: String] = [:]
        for (name, value) in stored where name.hasPrefix("f_") { fields[String(name.dropFirst(2))] = value }
        return fields
    }

    /// The campaigns recipients may be handed out for now or later (running, started or not).
    public func running() async throws(RedisError) -> [String] {
        let reply = try await redis.next().send("SMEMBERS", RedisArgument(key("running")))
        return (reply.array ?? []).compactMap(\.string).sorted()
    }

    /// Campaign ids, newest first.
    public func list(limit: Int = 100) async throws(RedisError) -> [String] {
        let reply = try await redis.next().send("ZREVRANGE", RedisArgument(key("campaigns")), "0", RedisArgument(max(0, limit - 1)))
        return (reply.array ?? []).compactMap(\.string)
    }

    // MARK: Scripts

    /// Runs `script` with KEYS: the campaign, its `keys`, then the set of running campaigns.
    func call(_ script: RedisScript, _ id: String, keys: [String], args: [RedisArgument]) async throws(BroadcastError) -> RedisValue {
        do {
            return try await redis.next().evaluate(
                script,
                keys: [RedisArgument(campaignKey(id))] + keys.map { RedisArgument(campaignKey(id) + ":" + $0) } + [RedisArgument(key("running"))],
                args: [RedisArgument(id)] + args)
        } catch {
            throw BroadcastError(.unavailable, "Redis: \(error.code.rawValue)")
        }
    }

    static func check(_ reply: RedisValue) throws(BroadcastError) {
        if reply.int == 1 || reply.string == "OK" { return }
        throw BroadcastError.from(reply)
    }

    /// KEYS: idem, campaign, campaigns; ARGV: id, start ms (0: at once), idempotency TTL ms, then
    /// field name/value pairs. Returns {id, created 0/1}.
    static let createScript = RedisScript(
        name: "bc-create",
        source: """
            local existing = redis.call('GET', KEYS[1])
            if existing then return {existing, 0} end
            if redis.call('EXISTS', KEYS[2]) == 1 then return {ARGV[1], 0} end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            redis.call('HSET', KEYS[2], 'state', 'preparing', 'created_at', now, 'start_at', ARGV[2], 'n_total', 0)
            for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
            redis.call('ZADD', KEYS[3], now, ARGV[1])
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
            return {ARGV[1], 1}
            """)

    /// KEYS: campaign, pending, leased, settled, running; ARGV: id, user ids. Returns the number added, or an
    /// error text (`missing`, `state:<state>`).
    static let enqueueScript = RedisScript(
        name: "bc-enqueue",
        source: """
            local state = redis.call('HGET', KEYS[1], 'state')
            if not state then return 'missing' end
            if state ~= 'preparing' then return 'state:' .. state end
            local added = 0
            local position = tonumber(redis.call('HGET', KEYS[1], 'n_total') or '0')
            for i = 2, #ARGV do
              local user = ARGV[i]
              if not redis.call('ZSCORE', KEYS[2], user) and not redis.call('ZSCORE', KEYS[3], user)
                 and redis.call('SISMEMBER', KEYS[4], user) == 0 then
                position = position + 1
                redis.call('ZADD', KEYS[2], position, user)
                added = added + 1
              end
            end
            redis.call('HSET', KEYS[1], 'n_total', position)
            return added
            """)

    /// KEYS: campaign, pending, running; ARGV: id. Returns 1, or an error text.
    static let sealScript = RedisScript(
        name: "bc-seal",
        source: """
            local state = redis.call('HGET', KEYS[1], 'state')
            if not state then return 'missing' end
            if state ~= 'preparing' then return 'state:' .. state end
            if redis.call('ZCARD', KEYS[2]) == 0 then
              redis.call('HSET', KEYS[1], 'state', 'done')
            else
              redis.call('HSET', KEYS[1], 'state', 'running')
              redis.call('SADD', KEYS[3], ARGV[1])
            end
            return 1
            """)

    /// KEYS: campaign, pending, leased, owner, running; ARGV: id, limit, lease ms, token. Lapsed leases go back
    /// first in line (position 0), then up to `limit` are leased. Returns the users, or an error text.
    static let claimScript = RedisScript(
        name: "bc-claim",
        source: """
            local state = redis.call('HGET', KEYS[1], 'state')
            if not state then return 'missing' end
            if state ~= 'running' then return {} end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            if tonumber(redis.call('HGET', KEYS[1], 'start_at') or '0') > now then return {} end
            local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
            for _, user in ipairs(lapsed) do
              redis.call('ZREM', KEYS[3], user)
              redis.call('HDEL', KEYS[4], user)
              redis.call('ZADD', KEYS[2], 0, user)
            end
            local popped = redis.call('ZPOPMIN', KEYS[2], tonumber(ARGV[2]))
            local users = {}
            local deadline = now + tonumber(ARGV[3])
            for i = 1, #popped, 2 do
              local user = popped[i]
              users[#users + 1] = user
              redis.call('ZADD', KEYS[3], deadline, user)
              redis.call('HSET', KEYS[4], user, ARGV[4])
            end
            return users
            """)

    /// KEYS: campaign, pending, leased, owner, settled, running; ARGV: id, token, then user/counter pairs
    /// (counter empty: back in line). Returns how many it handled; the campaign is done when
    /// nothing is in line or leased.
    static let completeScript = RedisScript(
        name: "bc-complete",
        source: """
            if not redis.call('HGET', KEYS[1], 'state') then return 'missing' end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local handled = 0
            for i = 3, #ARGV, 2 do
              local user, counter = ARGV[i], ARGV[i + 1]
              if redis.call('HGET', KEYS[4], user) == ARGV[2] then
                redis.call('ZREM', KEYS[3], user)
                redis.call('HDEL', KEYS[4], user)
                if counter == '' then
                  redis.call('ZADD', KEYS[2], 0, user)
                else
                  redis.call('SADD', KEYS[5], user)
                  redis.call('HINCRBY', KEYS[1], 'n_' .. counter, 1)
                  if counter == 'sent' then
                    redis.call('HSETNX', KEYS[1], 'first_sent_at', now)
                    redis.call('HSET', KEYS[1], 'last_sent_at', now)
                  end
                end
                handled = handled + 1
              end
            end
            local state = redis.call('HGET', KEYS[1], 'state')
            if (state == 'running' or state == 'paused') and redis.call('ZCARD', KEYS[2]) == 0 and redis.call('ZCARD', KEYS[3]) == 0 then
              redis.call('HSET', KEYS[1], 'state', 'done')
              redis.call('SREM', KEYS[6], ARGV[1])
            end
            return handled
            """)

    /// KEYS: campaign, leased, owner, running; ARGV: id, token, lease ms, users. Returns 1.
    static let extendScript = RedisScript(
        name: "bc-extend",
        source: """
            local t = redis.call('TIME')
            local deadline = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[3])
            for i = 4, #ARGV do
              if redis.call('HGET', KEYS[3], ARGV[i]) == ARGV[2] then redis.call('ZADD', KEYS[2], deadline, ARGV[i]) end
            end
            return 1
            """)

    /// KEYS: campaign, pending, running; ARGV: id, pause | resume | cancel. Returns 1, or an error text.
    static let changeScript = RedisScript(
        name: "bc-change",
        source: """
            local state = redis.call('HGET', KEYS[1], 'state')
            if not state then return 'missing' end
            local action = ARGV[2]
            if action == 'pause' then
              if state == 'paused' then return 1 end
              if state ~= 'running' then return 'state:' .. state end
              redis.call('HSET', KEYS[1], 'state', 'paused')
              redis.call('SREM', KEYS[3], ARGV[1])
            elseif action == 'resume' then
              if state == 'running' then return 1 end
              if state ~= 'paused' then return 'state:' .. state end
              redis.call('HSET', KEYS[1], 'state', 'running')
              redis.call('SADD', KEYS[3], ARGV[1])
            else
              if state == 'cancelled' then return 1 end
              if state == 'done' then return 'state:' .. state end
              redis.call('HSET', KEYS[1], 'state', 'cancelled', 'n_cancelled', redis.call('ZCARD', KEYS[2]))
              redis.call('DEL', KEYS[2])
              redis.call('SREM', KEYS[3], ARGV[1])
            end
            return 1
            """)
}

/// Why the outbox refused or could not do something.
public struct BroadcastError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No such campaign.
        case notFound = "not_found"
        /// Not in a state that allows it (e.g. adding recipients to a running campaign).
        case conflict
        case invalid
        /// Redis could not be reached; retry.
        case unavailable
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// An error text a script answered (`missing`, `state:<state>`).
    static func from(_ reply: RedisValue) -> BroadcastError {
        let text = reply.string ?? ""
        if text == "missing" { return BroadcastError(.notFound, "no such campaign") }
        if text.hasPrefix("state:") { return BroadcastError(.conflict, "the campaign is \(text.dropFirst(6))") }
        return BroadcastError(.unavailable, "unexpected reply from Redis")
    }
}
