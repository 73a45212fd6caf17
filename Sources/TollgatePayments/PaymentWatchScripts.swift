import TollgateRedis

/// The watch list's atomic steps, on the Redis server's clock.
///
/// Keys (under `<prefix>:payments:`): `w:<user>` (hash per watch), `due` (zset user → next
/// check ms), `expiry` (zset user → expiry ms), `rec` (hash record id → user), `tg` (hash
/// TelegramId → user), `seq` (watch ids), `cursor` (delta cursor, ms).
enum PaymentWatchScripts {
    /// KEYS: w, due, expiry, rec, tg, seq. ARGV: user, chat, record|'', tg|'', expires_in_ms, notify,
    /// first_check_delay_ms. → {created 0/1, expires_ms, watch_id}
    static let watch = RedisScript(
        name: "payments-watch",
        source: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local old = redis.call('HMGET', KEYS[1], 'watch', 'record', 'tg', 'created', 'checked', 'checks')
            local created = 0
            local watch = old[1]
            local createdAt = old[4]
            if not watch then
              watch = redis.call('INCR', KEYS[6])
              created = 1
              createdAt = now
            end
            if old[2] and old[2] ~= '' and old[2] ~= ARGV[3] and redis.call('HGET', KEYS[4], old[2]) == ARGV[1] then
              redis.call('HDEL', KEYS[4], old[2])
            end
            if old[3] and old[3] ~= '' and old[3] ~= ARGV[4] and redis.call('HGET', KEYS[5], old[3]) == ARGV[1] then
              redis.call('HDEL', KEYS[5], old[3])
            end
            local expires = now + tonumber(ARGV[5])
            redis.call('HSET', KEYS[1], 'user', ARGV[1], 'chat', ARGV[2], 'record', ARGV[3], 'tg', ARGV[4],
              'watch', watch, 'created', createdAt, 'checked', old[5] or '0', 'checks', old[6] or '0',
              'expires', expires, 'notify', ARGV[6])
            if ARGV[3] ~= '' then redis.call('HSET', KEYS[4], ARGV[3], ARGV[1]) end
            if ARGV[4] ~= '' then redis.call('HSET', KEYS[5], ARGV[4], ARGV[1]) end
            redis.call('ZADD', KEYS[2], now + tonumber(ARGV[7]), ARGV[1])
            redis.call('ZADD', KEYS[3], expires, ARGV[1])
            return {created, expires, tonumber(watch)}
            """)

    /// KEYS: w, due, expiry, rec, tg. ARGV: user, watch_id|'' (only that watch). → 1 removed, 0 not.
    static let unwatch = RedisScript(
        name: "payments-unwatch",
        source: """
            local old = redis.call('HMGET', KEYS[1], 'watch', 'record', 'tg')
            if not old[1] then
              redis.call('ZREM', KEYS[2], ARGV[1])
              redis.call('ZREM', KEYS[3], ARGV[1])
              return 0
            end
            if ARGV[2] ~= '' and old[1] ~= ARGV[2] then return 0 end
            if old[2] and old[2] ~= '' and redis.call('HGET', KEYS[4], old[2]) == ARGV[1] then
              redis.call('HDEL', KEYS[4], old[2])
            end
            if old[3] and old[3] ~= '' and redis.call('HGET', KEYS[5], old[3]) == ARGV[1] then
              redis.call('HDEL', KEYS[5], old[3])
            end
            redis.call('DEL', KEYS[1])
            redis.call('ZREM', KEYS[2], ARGV[1])
            redis.call('ZREM', KEYS[3], ARGV[1])
            return 1
            """)

    /// KEYS: due, expiry. ARGV: limit. → {now_ms, {due users...}, {expired users...}, next_due_ms|-1, watches}
    static let due = RedisScript(
        name: "payments-due",
        source: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local limit = tonumber(ARGV[1])
            local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit)
            local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit)
            local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
            local nextDue = -1
            if first[2] then nextDue = tonumber(first[2]) end
            return {now, due, expired, nextDue, redis.call('ZCARD', KEYS[1])}
            """)

    /// KEYS: due, w... ARGV: (user, watch_id, delay_ms) × n. Marks each watch checked (if it is
    /// still the same watch) and schedules its next check. → how many were updated.
    static let checked = RedisScript(
        name: "payments-checked",
        source: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local n = 0
            for i = 2, #KEYS do
              local a = (i - 2) * 3
              if redis.call('HGET', KEYS[i], 'watch') == ARGV[a + 2] then
                redis.call('HSET', KEYS[i], 'checked', now)
                redis.call('HINCRBY', KEYS[i], 'checks', 1)
                redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[a + 3]), ARGV[a + 1])
                n = n + 1
              end
            end
            return n
            """)
}
