import TollgateRedis

/// The job store's server-side scripts. Every state change of a job is one of these, run
/// atomically by Redis with the server's own clock (`TIME`), never a client clock.
///
/// Keys hang under the store's prefix `P` (ARGV[1], e.g. `tollgate:jobs`):
/// - `P:due` — sorted set, member job id, score due time (ms): scheduled jobs.
/// - `P:leased` — sorted set, member job id, score lease expiry (ms): jobs being delivered.
/// - `P:job:<id>` — hash: kind user chat due payload attempts max epoch state dedupe created lease worker error
///   drops (deliveries whose gateway connection dropped while it had the job).
/// - `P:user:<user id>` — set of the user's live job ids.
/// - `P:dedupe:<key>` — the id of the live job holding the dedupe key.
/// - `P:done:<id>` — completion marker (value: due time), expiring after the retention window.
/// - `P:dead` — sorted set, member job id, score dead-letter time; `P:deadjob:<id>` keeps the hash
///   with `error`, the reason.
/// - `P:epoch` — the fencing counter: every claim takes the next value.
/// - channel `P:wake` — published with the due time when a job becomes the earliest due.
///
/// Jobs leave a sorted set only by member (`ZREM`), never by score range, so a job that moves
/// between the read and the removal cannot be dropped. The per-job keys are built inside the
/// scripts, which suits a single Redis (not Redis Cluster).
enum JobScripts {
    /// `local now` in ms from the server clock.
    private static let now = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

        """

    /// Removes a live job's indexes (user set, dedupe key); the hash itself is the caller's business.
    private static let unindex = """
        local function unindex(P, id, user, dedupe)
          if user then redis.call('SREM', P .. ':user:' .. user, id) end
          if dedupe and dedupe ~= '' then
            local dk = P .. ':dedupe:' .. dedupe
            if redis.call('GET', dk) == id then redis.call('DEL', dk) end
          end
        end
        local function wake_if_head(P, id, due)
          local head = redis.call('ZRANGE', P .. ':due', 0, 0)
          if head[1] == id then redis.call('PUBLISH', P .. ':wake', due) end
        end

        """

    /// ARGV: P id kind user chat due_at('' = use delay) delay_ms payload max dedupe
    /// → {created 0/1, id, due}
    static let schedule = RedisScript(
        name: "jobs-schedule",
        source: now + unindex + """

            local P, id = ARGV[1], ARGV[2]
            local jk = P .. ':job:' .. id
            local existing = redis.call('HGET', jk, 'due')
            if existing then return {0, id, tonumber(existing)} end
            local done = redis.call('GET', P .. ':done:' .. id)
            if done then return {0, id, tonumber(done)} end
            local dedupe = ARGV[10]
            if dedupe ~= '' then
              local other = redis.call('GET', P .. ':dedupe:' .. dedupe)
              if other then
                local odue = redis.call('HGET', P .. ':job:' .. other, 'due')
                if odue then return {0, other, tonumber(odue)} end
              end
            end
            local due
            if ARGV[6] ~= '' then due = tonumber(ARGV[6]) else due = now + tonumber(ARGV[7]) end
            redis.call('HSET', jk, 'kind', ARGV[3], 'user', ARGV[4], 'chat', ARGV[5], 'due', due,
              'payload', ARGV[8], 'attempts', 0, 'max', ARGV[9], 'epoch', 0, 'state', 'scheduled',
              'dedupe', dedupe, 'created', now)
            redis.call('ZADD', P .. ':due', due, id)
            redis.call('SADD', P .. ':user:' .. ARGV[4], id)
            if dedupe ~= '' then redis.call('SET', P .. ':dedupe:' .. dedupe, id) end
            wake_if_head(P, id, due)
            return {1, id, due}
            """)

    /// ARGV: P limit lease_ms worker
    /// → {now, epoch, next_due (-1: none), then per job: id kind user chat due payload attempts max drops}
    static let claim = RedisScript(
        name: "jobs-claim",
        source: now + """

            local P, limit, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
            local dueKey, leasedKey = P .. ':due', P .. ':leased'
            local out = {now, 0, -1}
            local ids = redis.call('ZRANGEBYSCORE', dueKey, '-inf', now, 'LIMIT', 0, limit)
            if #ids > 0 then
              local epoch = redis.call('INCR', P .. ':epoch')
              out[2] = epoch
              local expiry = now + lease
              for _, id in ipairs(ids) do
                redis.call('ZREM', dueKey, id)
                local jk = P .. ':job:' .. id
                local f = redis.call('HMGET', jk, 'kind', 'user', 'chat', 'due', 'payload', 'attempts', 'max', 'drops')
                if f[1] then
                  -- Counts are read through tonumber with a floor: a hash edited by hand cannot make
                  -- the claim fail (and the job come back again and again).
                  local attempts = math.max(0, math.min(tonumber(f[6]) or 0, 1000)) + 1
                  redis.call('HSET', jk, 'state', 'leased', 'epoch', epoch, 'attempts', attempts,
                    'lease', expiry, 'worker', ARGV[4])
                  redis.call('ZADD', leasedKey, expiry, id)
                  for _, v in ipairs({id, f[1], f[2], f[3], f[4], f[5], attempts, f[7], f[8] or '0'}) do
                    out[#out + 1] = v
                  end
                end
              end
            end
            local head = redis.call('ZRANGE', dueKey, 0, 0, 'WITHSCORES')
            if head[2] then out[3] = tonumber(head[2]) end
            return out
            """)

    /// ARGV: P lease_ms epoch id...  → the ids no longer held under `epoch` (cancelled, recovered,
    /// completed, claimed again).
    static let extend = RedisScript(
        name: "jobs-extend",
        source: now + """

            local P, lease, epoch = ARGV[1], tonumber(ARGV[2]), ARGV[3]
            local lost = {}
            local expiry = now + lease
            for i = 4, #ARGV do
              local id = ARGV[i]
              local jk = P .. ':job:' .. id
              local f = redis.call('HMGET', jk, 'state', 'epoch')
              if f[1] == 'leased' and f[2] == epoch then
                redis.call('HSET', jk, 'lease', expiry)
                redis.call('ZADD', P .. ':leased', 'XX', expiry, id)
              else
                lost[#lost + 1] = id
              end
            end
            return lost
            """)

    /// ARGV: P epoch retention_ms, then per job: id action(ack|retry|dead|release|drop|dropretry|postpone) delay_ms reason.
    /// `drop` is a release that counts a dropped delivery; `dropretry` a retry that does; `postpone`
    /// a retry that does not count the attempt.
    /// → per job 1 (done), 0 (refused: not leased under this epoch), -1 (no such job: cancelled).
    static let complete = RedisScript(
        name: "jobs-complete",
        source: now + unindex + """

            local P, epoch, retention = ARGV[1], ARGV[2], tonumber(ARGV[3])
            local out = {}
            local wake = nil
            for i = 4, #ARGV, 4 do
              local id, action, delay, reason = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
              local jk = P .. ':job:' .. id
              local f = redis.call('HMGET', jk, 'state', 'epoch', 'user', 'dedupe', 'due')
              if not f[1] then
                out[#out + 1] = -1
              elseif f[1] ~= 'leased' or f[2] ~= epoch then
                out[#out + 1] = 0
              else
                redis.call('ZREM', P .. ':leased', id)
                if action == 'ack' then
                  unindex(P, id, f[3], f[4])
                  redis.call('DEL', jk)
                  redis.call('SET', P .. ':done:' .. id, f[5], 'PX', retention)
                elseif action == 'dead' then
                  unindex(P, id, f[3], f[4])
                  redis.call('HSET', jk, 'state', 'dead', 'error', reason, 'dead_at', now)
                  redis.call('RENAME', jk, P .. ':deadjob:' .. id)
                  redis.call('ZADD', P .. ':dead', now, id)
                  redis.call('SET', P .. ':done:' .. id, f[5], 'PX', retention)
                elseif action == 'retry' or action == 'dropretry' or action == 'postpone' then
                  local due = now + delay
                  redis.call('HSET', jk, 'state', 'scheduled', 'due', due, 'error', reason)
                  if action == 'dropretry' then redis.call('HINCRBY', jk, 'drops', 1) end
                  if action == 'postpone' then redis.call('HINCRBY', jk, 'attempts', -1) end
                  redis.call('ZADD', P .. ':due', due, id)
                  if wake == nil or due < wake then wake = due end
                else -- release (or drop): back to due at its due time, the attempt not counted
                  redis.call('HSET', jk, 'state', 'scheduled')
                  redis.call('HINCRBY', jk, 'attempts', -1)
                  if action == 'drop' then redis.call('HINCRBY', jk, 'drops', 1) end
                  local due = tonumber(f[5]) or now
                  redis.call('ZADD', P .. ':due', due, id)
                  if wake == nil or due < wake then wake = due end
                end
                out[#out + 1] = 1
              end
            end
            if wake ~= nil then
              local head = redis.call('ZRANGE', P .. ':due', 0, 0, 'WITHSCORES')
              if head[2] and tonumber(head[2]) >= wake then redis.call('PUBLISH', P .. ':wake', wake) end
            end
            return out
            """)

    /// ARGV: P limit → {recovered, dead_lettered, next_expiry (-1: none)}.
    /// A lapsed lease returns its job to due (its attempt stays counted); one that used its last
    /// attempt is dead-lettered. Safe to run concurrently: only the caller whose ZREM removed the
    /// member touches the job.
    static let recover = RedisScript(
        name: "jobs-recover",
        source: now + unindex + """

            local P, limit = ARGV[1], tonumber(ARGV[2])
            local leasedKey = P .. ':leased'
            local ids = redis.call('ZRANGEBYSCORE', leasedKey, '-inf', now, 'LIMIT', 0, limit)
            local recovered, dead, wake = 0, 0, nil
            for _, id in ipairs(ids) do
              if redis.call('ZREM', leasedKey, id) == 1 then
                local jk = P .. ':job:' .. id
                local f = redis.call('HMGET', jk, 'state', 'attempts', 'max', 'due', 'user', 'dedupe')
                if f[1] == 'leased' then
                  if tonumber(f[2]) >= tonumber(f[3]) then
                    unindex(P, id, f[5], f[6])
                    redis.call('HSET', jk, 'state', 'dead', 'dead_at', now,
                      'error', 'lease expired on attempt ' .. f[2] .. ' of ' .. f[3])
                    redis.call('RENAME', jk, P .. ':deadjob:' .. id)
                    redis.call('ZADD', P .. ':dead', now, id)
                    redis.call('SET', P .. ':done:' .. id, f[4], 'PX', tonumber(ARGV[3]))
                    dead = dead + 1
                  else
                    redis.call('HSET', jk, 'state', 'scheduled')
                    redis.call('ZADD', P .. ':due', f[4], id)
                    recovered = recovered + 1
                    local due = tonumber(f[4])
                    if wake == nil or due < wake then wake = due end
                  end
                end
              end
            end
            if wake ~= nil then redis.call('PUBLISH', P .. ':wake', wake) end
            local head = redis.call('ZRANGE', leasedKey, 0, 0, 'WITHSCORES')
            return {recovered, dead, head[2] and tonumber(head[2]) or -1, now}
            """)

    /// ARGV: P id → 1 if a live job was removed.
    static let cancelJob = RedisScript(
        name: "jobs-cancel",
        source: unindex + """

            local P, id = ARGV[1], ARGV[2]
            local jk = P .. ':job:' .. id
            local f = redis.call('HMGET', jk, 'user', 'dedupe')
            if not f[1] then return 0 end
            redis.call('ZREM', P .. ':due', id)
            redis.call('ZREM', P .. ':leased', id)
            unindex(P, id, f[1], f[2])
            redis.call('DEL', jk)
            return 1
            """)

    /// ARGV: P user kind('' = any) → how many live jobs were removed.
    static let cancelUser = RedisScript(
        name: "jobs-cancel-user",
        source: unindex + """

            local P, user, kind = ARGV[1], ARGV[2], ARGV[3]
            local uk = P .. ':user:' .. user
            local n = 0
            for _, id in ipairs(redis.call('SMEMBERS', uk)) do
              local jk = P .. ':job:' .. id
              local f = redis.call('HMGET', jk, 'kind', 'dedupe')
              if not f[1] then
                redis.call('SREM', uk, id)
              elseif kind == '' or f[1] == kind then
                redis.call('ZREM', P .. ':due', id)
                redis.call('ZREM', P .. ':leased', id)
                unindex(P, id, user, f[2])
                redis.call('DEL', jk)
                n = n + 1
              end
            end
            return n
            """)

    /// ARGV: P user → per job: id kind chat due attempts state payload.
    static let userJobs = RedisScript(
        name: "jobs-user",
        source: """
            local P, user = ARGV[1], ARGV[2]
            local out = {}
            for _, id in ipairs(redis.call('SMEMBERS', P .. ':user:' .. user)) do
              local f = redis.call('HMGET', P .. ':job:' .. id, 'kind', 'chat', 'due', 'attempts', 'state', 'payload')
              if f[1] then
                for _, v in ipairs({id, f[1], f[2], f[3], f[4], f[5], f[6]}) do out[#out + 1] = v end
              end
            end
            return out
            """)

    /// ARGV: P limit → per dead job (newest first): id dead_at kind user chat attempts error.
    static let deadLetters = RedisScript(
        name: "jobs-dead",
        source: """
            local P, limit = ARGV[1], tonumber(ARGV[2])
            local out = {}
            local ids = redis.call('ZREVRANGE', P .. ':dead', 0, limit - 1, 'WITHSCORES')
            for i = 1, #ids, 2 do
              local f = redis.call('HMGET', P .. ':deadjob:' .. ids[i], 'kind', 'user', 'chat', 'attempts', 'error')
              for _, v in ipairs({ids[i], ids[i + 1], f[1] or '', f[2] or '0', f[3] or '0', f[4] or '0', f[5] or ''}) do
                out[#out + 1] = v
              end
            end
            return out
            """)

    /// ARGV: P max_age_ms max_count → how many dead letters were removed: those dead longer than
    /// `max_age_ms`, and the oldest beyond the newest `max_count` (at most 1,000 per call).
    static let trimDead = RedisScript(
        name: "jobs-trim-dead",
        source: now + """

            local P, age, keep = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
            local deadKey = P .. ':dead'
            local ids = redis.call('ZRANGEBYSCORE', deadKey, '-inf', now - age, 'LIMIT', 0, 1000)
            local extra = redis.call('ZCARD', deadKey) - keep
            if extra > #ids then ids = redis.call('ZRANGE', deadKey, 0, math.min(extra, 1000) - 1) end
            for _, id in ipairs(ids) do
              redis.call('ZREM', deadKey, id)
              redis.call('DEL', P .. ':deadjob:' .. id)
            end
            return #ids
            """)

    /// ARGV: P → {scheduled, due_now, leased, dead, now}.
    static let depth = RedisScript(
        name: "jobs-depth",
        source: now + """

            local P = ARGV[1]
            return {redis.call('ZCARD', P .. ':due'), redis.call('ZCOUNT', P .. ':due', '-inf', now),
              redis.call('ZCARD', P .. ':leased'), redis.call('ZCARD', P .. ':dead'), now}
            """)
}
