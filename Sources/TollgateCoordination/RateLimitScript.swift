import TollgateRedis

/// The server-side half of ``RedisRateLimiter``: ``RateLimitGCRA``'s arithmetic in Lua, on the
/// Redis server's clock (`TIME`), over one hash per resource (`tat`, `blocked`, in microseconds).
///
/// `ARGV`: op (`acquire`, `block`, `peek`), emission interval µs, tolerance µs, block µs.
/// Reply: `{allowed (0/1), wait µs, now µs, blocked-until µs}`.
enum RateLimitScript {
    static let gcra = RedisScript(
        name: "rate-limit-gcra",
        source: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local interval = tonumber(ARGV[2])
            local tolerance = tonumber(ARGV[3])
            local stored = redis.call('HMGET', KEYS[1], 'tat', 'blocked')
            local tat = tonumber(stored[1]) or 0
            local blocked = tonumber(stored[2]) or 0
            local op = ARGV[1]
            local allowed = 0
            local wait = 0
            if op == 'acquire' then
              local earliest = math.max(tat - tolerance, blocked)
              if now < earliest then
                wait = earliest - now
              else
                allowed = 1
                tat = math.max(tat, now) + interval
              end
            elseif op == 'block' then
              blocked = math.max(blocked, now + math.max(0, tonumber(ARGV[4])))
              tat = math.max(tat, blocked + tolerance)
              allowed = 1
            else
              wait = math.max(0, math.max(tat - tolerance, blocked) - now)
              return {0, wait, now, blocked}
            end
            if allowed == 1 then
              redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat), 'blocked', string.format('%.0f', blocked))
              local keep = math.max(tat, blocked) - now
              redis.call('PEXPIRE', KEYS[1], math.floor(keep / 1000) + 1000)
            end
            return {allowed, wait, now, blocked}
            """)
}
