import TollgateCore
import TollgateRedis

/// Users' states in Redis, one hash per user (`<prefix>:gw:user:<id>`): `phase`, `version`,
/// `updated_ms` and `m:<name>` metadata fields, with a TTL refreshed on every transition.
///
/// Every transition is one script: compare the current phase with the allowed ones and set the
/// new phase, version, time (Redis `TIME`) and metadata atomically — two gateways (or a retried
/// update and a payment confirmation) can never interleave a read and a write.
public struct UserStateStore: Sendable {
    let redis: RedisClientPool
    let keys: KeySpace
    /// Applied on every transition; `nil` keeps states for ever.
    public let ttl: Duration?

    public init(redis: RedisClientPool, keys: KeySpace, ttl: Duration? = .seconds(30 * 86400)) {
        self.redis = redis
        self.keys = keys
        self.ttl = ttl
    }

    func key(_ userID: Int64) -> String { keys("gw", "user", String(userID)) }

    /// The user's state, or `nil` when none is stored (never seen, or expired).
    public func state(of userID: Int64) async throws(RedisError) -> UserState? {
        let reply = try await redis.next().send("HGETALL", RedisArgument(key(userID)))
        guard let items = reply.array, !items.isEmpty else { return nil }
        var fields: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let name = items[index].string, let value = items[index + 1].string { fields[name] = value }
            index += 2
        }
        guard let raw = fields["phase"], let phase = UserPhase(rawValue: raw) else { return nil }
        var metadata: [String: String] = [:]
        for (name, value) in fields where name.hasPrefix("m:") { metadata[String(name.dropFirst(2))] = value }
        return UserState(
            phase: phase, version: Int64(fields["version"] ?? "") ?? 0, updatedAtMs: Int64(fields["updated_ms"] ?? "") ?? 0,
            metadata: metadata)
    }

    /// Whether the user is in `phase` now.
    public func has(_ userID: Int64, phase: UserPhase) async throws(RedisError) -> Bool {
        try await state(of: userID)?.phase == phase
    }

    /// Moves the user to `target` if the current phase is in `from` (`nil` in `from` allows "no
    /// state yet"); metadata is merged either way the move happens or the user already is there.
    @discardableResult
    public func transition(
        _ userID: Int64, to target: UserPhase, from allowed: [UserPhase?], metadata: [String: String] = [:]
    ) async throws(RedisError) -> TransitionResult {
        var args: [RedisArgument] = [
            RedisArgument(target.rawValue), RedisArgument(ttl.map { max(1, $0.milliseconds) } ?? 0),
            RedisArgument(allowed.map { $0?.rawValue ?? "-" }.joined(separator: ",")),
        ]
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) {
            args.append(RedisArgument("m:" + name))
            args.append(RedisArgument(value))
        }
        let reply = try await redis.next().evaluate(Self.transitionScript, keys: [RedisArgument(key(userID))], args: args)
        guard let parts = reply.array, parts.count == 3, let outcome = parts[0].string else {
            throw RedisError(.protocolError, "unexpected transition reply \(reply)")
        }
        let previous = parts[1].string.flatMap { $0.isEmpty ? nil : UserPhase(rawValue: $0) }
        let version = parts[2].int ?? 0
        switch outcome {
        case "moved": return .moved(from: previous, version: version)
        case "same": return .alreadyThere(version: version)
        default: return .refused(current: previous)
        }
    }

    /// Forgets the user's state.
    public func delete(_ userID: Int64) async throws(RedisError) {
        try await redis.next().send("DEL", RedisArgument(key(userID)))
    }

    /// KEYS[1] user hash; ARGV: target, ttl ms (0 = none), allowed phases ("-" = none yet), then
    /// metadata field/value pairs. Returns {outcome, previous phase or "", version}.
    static let transitionScript = RedisScript(
        name: "gw-state-transition",
        source: """
            local current = redis.call('HGET', KEYS[1], 'phase') or ''
            local target = ARGV[1]
            local function touch(version)
              for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
              if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
              return version
            end
            if current == target then
              local v = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
              return {'same', current, touch(v)}
            end
            local allowed = false
            for phase in string.gmatch(ARGV[3], '[^,]+') do
              if phase == current or (phase == '-' and current == '') then allowed = true end
            end
            if not allowed then return {'refused', current, 0} end
            local t = redis.call('TIME')
            local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
            redis.call('HSET', KEYS[1], 'phase', target, 'updated_ms', ms)
            return {'moved', current, touch(v)}
            """)
}
