/// A Lua script run with ``RedisClient/evaluate(_:keys:args:)``.
///
/// The SHA-1 of the source is computed once, here, so the client can try `EVALSHA` first and send
/// the source only when the server's script cache lacks it.
///
/// ```swift
/// static let claim = RedisScript(name: "claim", source: "return redis.call('ZPOPMIN', KEYS[1])")
/// ```
public struct RedisScript: Sendable, Hashable {
    /// A short label for logs.
    public let name: String
    /// The Lua source.
    public let source: String
    /// The lowercase hex SHA-1 of the UTF-8 source, as `SCRIPT LOAD` returns it.
    public let sha1: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
        self.sha1 = SHA1.hexDigest(of: Array(source.utf8))
    }
}
