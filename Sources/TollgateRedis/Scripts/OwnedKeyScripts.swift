/// Scripts for a key that one owner holds by its value (a lock, a run claim): only the owner may
/// extend or delete it, checked and done in one step.
public enum OwnedKeyScripts {
    /// KEYS: key; ARGV: owner value, ttl ms → 1 renewed, 0 not ours.
    public static let renew = RedisScript(
        name: "owned-key-renew",
        source: """
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
              return 1
            end
            return 0
            """)

    /// KEYS: key; ARGV: owner value → 1 released, 0 not ours.
    public static let release = RedisScript(
        name: "owned-key-release",
        source: """
            if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
            return 0
            """)
}
