import TollgateRedis

/// The server-side half of ``RedisRateLimiter``: ``RateLimitGCRA``'s arithmetic in Lua, on the
/// Redis server's clock (`TIME`), over one hash per resource (`tat`, `blocked`, in microseconds).
///
/// `ARGV`: op (`acquire`, `block`, `peek`), emission interval µs, tolerance µs, block µs, longest
/// block µs. Reply: `{allowed (0/1), wait µs, now µs, blocked-until µs}`.
///
/// The stored state is outside data (any process, any version may have written it): it is read
/// through clamps, so a block never restricts for longer than the longest block from the moment it
/// is read, and `tat` never lies further ahead than honest arithmetic can put it. Every number in
/// the reply therefore stays far inside 64 bits.
enum RateLimitScript {
    static let gcra = RedisScript(
        name: "rate-limit-gcra",
        source: """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local interval = tonumber(ARGV[2])
            local tolerance = tonumber(ARGV[3])
            local maxblock = tonumber(ARGV[5]) or 3600000000
            local stored = redis.call('HMGET', KEYS[1], 'tat', 'blocked')
            local tat = tonumber(stored[1]) or 0
            local blocked = tonumber(stored[2]) or 0
            local raw_tat, raw_blocked = tat, blocked
            if tat ~= tat then tat = 0 end
            if blocked ~= blocked then blocked = 0 end
            blocked = math.min(blocked, now + maxblock)
            tat = math.min(tat, math.max(now, blocked) + tolerance + interval)
            -- A clamped state is written back at once: the clamp runs from when it was first read,
            -- not anew at every read (which would let a year-9999 block slide along for ever).
            local clamped = raw_tat ~= tat or raw_blocked ~= blocked
            local op = ARGV[1]
            local allowed = 0
            local wait = 0
            if op == 'acquire' then
              -- ARGV[4]: how much of the burst tolerance must stay unused after this one (a reserve
              -- left to callers that ask without one); 0 for an ordinary request.
              local reserve = tonumber(ARGV[4]) or 0
              if reserve ~= reserve then reserve = 0 end
              reserve = math.min(math.max(0, reserve), tolerance)
              local earliest = math.max(tat - tolerance + reserve, blocked)
              if now < earliest then
                wait = earliest - now
              else
                allowed = 1
                tat = math.max(tat, now) + interval
              end
            elseif op == 'block' then
              local ask = tonumber(ARGV[4]) or 0
              if ask ~= ask then ask = 0 end
              blocked = math.max(blocked, now + math.min(math.max(0, ask), maxblock))
              tat = math.max(tat, blocked + tolerance)
              allowed = 1
            else
              wait = math.max(0, math.max(tat - tolerance, blocked) - now)
            end
            if allowed == 1 or clamped then
              redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat), 'blocked', string.format('%.0f', blocked))
              local keep = math.max(tat, blocked) - now
              redis.call('PEXPIRE', KEYS[1], math.floor(keep / 1000) + 1000)
            end
            if op ~= 'acquire' and op ~= 'block' then allowed = 0 end
            return {allowed, wait, now, blocked}
            """)
}
