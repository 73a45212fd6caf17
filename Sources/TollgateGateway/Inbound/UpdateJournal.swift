import Foundation
import TollgateCore
import TollgateRedis
import TollgateTelegram

/// The durable inbox of updates: a Redis stream (`<prefix>:gw:in:stream`) that both inbound
/// paths write to — long polling and the webhook — and the processor reads through a consumer
/// group. Recording an update is its first durable effect: the long-poll offset is committed in
/// the same script (so it never runs ahead of what is recorded), and a webhook is answered 200
/// only after it.
///
/// Dedup by `update_id`: a marker key per update (`<prefix>:gw:in:seen:<id>`, kept 48 h — Telegram
/// keeps updates 24 h) makes recording the same update twice a no-op.
public struct UpdateJournal: Sendable {
    /// One recorded update.
    public struct Entry: Sendable, Hashable {
        /// The stream entry id.
        public var id: String
        public var updateID: Int64
        public var chatID: Int64
        public var json: [UInt8]
    }

    let keys: KeySpace
    public let stream: String
    let offsetKey: String
    let seenPrefix: String
    let deadKey: String
    public let group = "processors"
    /// One consumer name for every gateway, on purpose: whichever gateway starts next reads the
    /// entries a crashed one read and never acknowledged (the shared pending list) and finishes
    /// them — no XAUTOCLAIM timer, no entry left with a consumer that never comes back. A unit
    /// still running in another live gateway is turned away by its run claim (``RunClaims``) and
    /// comes back later: replaying the list never runs an update twice at once.
    public let consumer = "processor"
    public let dedupWindow: Duration
    /// How long a dead-lettered update is kept (`DEAD_LETTER_RETENTION`; at most the newest 10,000).
    public let deadLetterRetention: Duration

    public init(
        keys: KeySpace, dedupWindow: Duration = .seconds(48 * 3600), deadLetterRetention: Duration = .seconds(30 * 86400)
    ) {
        self.deadLetterRetention = deadLetterRetention
        self.keys = keys
        self.stream = keys("gw", "in", "stream")
        self.offsetKey = keys("gw", "in", "offset")
        self.seenPrefix = keys("gw", "in", "seen") + ":"
        self.deadKey = keys("gw", "in", "dead")
        self.dedupWindow = dedupWindow
    }

    /// The committed long-poll offset (last recorded `update_id` + 1), if any.
    public func committedOffset(_ redis: RedisClient) async throws(RedisError) -> Int64? {
        try await redis.send("GET", RedisArgument(offsetKey)).int
    }

    /// Records `updates` (skipping those seen before) and, when `commitOffset` is given, raises
    /// the committed offset to it — atomically.
    @discardableResult
    public func record(
        _ updates: [Update], commitOffset: Int64?, on redis: RedisClient
    ) async throws(RedisError) -> (recorded: Int, duplicates: Int) {
        var args: [RedisArgument] = [
            RedisArgument(seenPrefix), RedisArgument(dedupWindow.milliseconds),
            RedisArgument(commitOffset.map(String.init) ?? ""),
        ]
        for update in updates {
            guard let json = try? JSONEncoder().encode(update) else { continue }
            args += [RedisArgument(String(update.updateID)), RedisArgument(String(update.chatID ?? 0)), RedisArgument(Array(json))]
        }
        let reply = try await redis.evaluate(
            Self.recordScript, keys: [RedisArgument(stream), RedisArgument(offsetKey)], args: args)
        guard let parts = reply.array, parts.count == 2, let recorded = parts[0].int, let dups = parts[1].int else {
            throw RedisError(.protocolError, "unexpected record reply \(reply)")
        }
        return (Int(recorded), Int(dups))
    }

    /// Creates the consumer group (from the start of the stream) if it does not exist.
    public func ensureGroup(_ redis: RedisClient) async throws(RedisError) {
        do {
            try await redis.send("XGROUP", "CREATE", RedisArgument(stream), RedisArgument(group), "0", "MKSTREAM")
        } catch where error.serverErrorPrefix == "BUSYGROUP" {
            return
        }
    }

    /// Entries this consumer read before but never acknowledged (after `after`), oldest first.
    public func pending(after: String, count: Int, on redis: RedisClient) async throws(RedisError) -> [Entry] {
        try Self.entries(
            try await redis.send(
                "XREADGROUP", "GROUP", RedisArgument(group), RedisArgument(consumer), "COUNT", RedisArgument(count),
                "STREAMS", RedisArgument(stream), RedisArgument(after)))
    }

    /// New entries, waiting up to `block` for one.
    public func next(count: Int, block: Duration, on redis: RedisClient) async throws(RedisError) -> [Entry] {
        try Self.entries(
            try await redis.send(
                timeout: block, "XREADGROUP", "GROUP", RedisArgument(group), RedisArgument(consumer), "COUNT",
                RedisArgument(count), "BLOCK", RedisArgument(max(1, block.milliseconds)), "STREAMS", RedisArgument(stream),
                ">"))
    }

    /// The update is fully handled: forget the entry.
    public func ack(_ entry: Entry, on redis: RedisClient) async throws(RedisError) {
        _ = try await redis.pipeline([
            ["XACK", RedisArgument(stream), RedisArgument(group), RedisArgument(entry.id)],
            ["XDEL", RedisArgument(stream), RedisArgument(entry.id)],
        ])
    }

    /// The update cannot be handled (after many attempts): keep it aside for an operator, and ack.
    ///
    /// The dead list (`<prefix>:gw:in:dead`, newest first) holds `<ms>\t<reason>\t<update JSON>`:
    /// at most 10,000 entries, none older than ``deadLetterRetention`` (trimmed as entries are added).
    public func deadLetter(_ entry: Entry, reason: String, on redis: RedisClient) async throws(RedisError) {
        let reason = String(reason.prefix(500)).replacingOccurrences(of: "\t", with: " ")
        _ = try await redis.evaluate(
            Self.deadLetterScript, keys: [RedisArgument(deadKey), RedisArgument(stream)],
            args: [
                RedisArgument(Array("\(reason)\t".utf8) + entry.json), RedisArgument(max(1, deadLetterRetention.milliseconds)),
                RedisArgument(group), RedisArgument(entry.id),
            ])
    }

    /// KEYS: dead list, stream; ARGV: "reason\tjson", retention ms, group, entry id.
    static let deadLetterScript = RedisScript(
        name: "gw-dead-letter",
        source: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            redis.call('LPUSH', KEYS[1], now .. '\t' .. ARGV[1])
            redis.call('LTRIM', KEYS[1], 0, 9999)
            local oldest = now - tonumber(ARGV[2])
            for _ = 1, 100 do
              local last = redis.call('LINDEX', KEYS[1], -1)
              if not last then break end
              local at = tonumber(string.match(last, '^(%d+)\t'))
              if at ~= nil and at >= oldest then break end
              redis.call('RPOP', KEYS[1])
            end
            redis.call('XACK', KEYS[2], ARGV[3], ARGV[4])
            redis.call('XDEL', KEYS[2], ARGV[4])
            return 1
            """)

    /// Entries recorded and not yet acknowledged.
    public func backlog(_ redis: RedisClient) async throws(RedisError) -> Int {
        Int(try await redis.send("XLEN", RedisArgument(stream)).int ?? 0)
    }

    static func entries(_ reply: RedisValue) throws(RedisError) -> [Entry] {
        guard let streams = reply.array, let first = streams.first?.array, first.count == 2, let items = first[1].array
        else { return [] }
        var result: [Entry] = []
        for item in items {
            guard let pair = item.array, pair.count == 2, let id = pair[0].string else { continue }
            // A deleted-but-pending entry comes back with nil fields: nothing to do but ack it.
            var fields: [String: RedisValue] = [:]
            if let list = pair[1].array {
                var i = 0
                while i + 1 < list.count {
                    if let name = list[i].string { fields[name] = list[i + 1] }
                    i += 2
                }
            }
            result.append(
                Entry(
                    id: id, updateID: fields["u"]?.int ?? 0, chatID: fields["c"]?.int ?? 0, json: fields["d"]?.bytes ?? []))
        }
        return result
    }

    static let recordScript = RedisScript(
        name: "gw-record-updates",
        source: """
            local recorded, dups = 0, 0
            for i = 4, #ARGV, 3 do
              if redis.call('SET', ARGV[1] .. ARGV[i], '1', 'NX', 'PX', ARGV[2]) then
                redis.call('XADD', KEYS[1], '*', 'u', ARGV[i], 'c', ARGV[i + 1], 'd', ARGV[i + 2])
                recorded = recorded + 1
              else
                dups = dups + 1
              end
            end
            if ARGV[3] ~= '' then
              local current = tonumber(redis.call('GET', KEYS[2]) or '0')
              if tonumber(ARGV[3]) > current then redis.call('SET', KEYS[2], ARGV[3]) end
            end
            return {recorded, dups}
            """)
}
