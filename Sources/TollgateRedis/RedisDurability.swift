/// Whether the Redis a service is given keeps what it acknowledged: the update offset is confirmed
/// to Telegram, and a job is acked to its poller, only after Redis has it — a Redis that may lose
/// acknowledged writes turns that into lost updates, jobs and confirmations.
///
/// Safe: `appendonly yes` with `appendfsync always` (every write on disk before the reply) and
/// `maxmemory-policy noeviction` (a full Redis refuses writes instead of dropping keys). The
/// settings are read with `CONFIG GET`; a Redis where `CONFIG` is disabled or renamed (many managed
/// offerings) cannot be checked, and the report says so.
public struct RedisDurability: Sendable, Equatable {
    public var version: String?
    public var appendOnly: String?
    public var appendFsync: String?
    public var maxmemoryPolicy: String?
    /// Why the settings could not be read (`CONFIG` refused), if they could not.
    public var uncheckable: String?

    public init(
        version: String? = nil, appendOnly: String? = nil, appendFsync: String? = nil, maxmemoryPolicy: String? = nil,
        uncheckable: String? = nil
    ) {
        self.version = version
        self.appendOnly = appendOnly
        self.appendFsync = appendFsync
        self.maxmemoryPolicy = maxmemoryPolicy
        self.uncheckable = uncheckable
    }

    /// What is unsafe, one phrase each (empty when safe or when nothing could be checked).
    public var problems: [String] {
        guard uncheckable == nil else { return [] }
        var out: [String] = []
        if appendOnly != "yes" {
            out.append("appendonly is \(appendOnly ?? "unknown") (a restart loses everything since the last snapshot)")
        } else if appendFsync != "always" {
            out.append("appendfsync is \(appendFsync ?? "unknown") (a crash can lose about a second of acknowledged writes)")
        }
        if maxmemoryPolicy != "noeviction" {
            out.append("maxmemory-policy is \(maxmemoryPolicy ?? "unknown") (a full Redis may evict jobs and journals)")
        }
        return out
    }

    /// Every setting is as required.
    public var isDurable: Bool { uncheckable == nil && problems.isEmpty }

    /// One line for logs, `STATUS=` and `tollgate status`.
    public var summary: String {
        if let uncheckable { return "durability not checked: \(uncheckable)" }
        if problems.isEmpty { return "durable (appendonly yes, appendfsync always, noeviction)" }
        return "NOT durable: " + problems.joined(separator: "; ")
    }

    /// Reads the settings from `client`'s Redis.
    public static func inspect(_ client: RedisClient) async -> RedisDurability {
        var report = RedisDurability()
        if let info = try? await client.send("INFO", "server").string {
            for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("redis_version:") {
                report.version = String(line.dropFirst("redis_version:".count).prefix(40))
            }
        }
        do throws(RedisError) {
            for (name, path) in [("appendonly", \RedisDurability.appendOnly), ("appendfsync", \.appendFsync), ("maxmemory-policy", \.maxmemoryPolicy)] {
                let reply = try await client.send("CONFIG", "GET", RedisArgument(name))
                if let message = reply.errorMessage { throw RedisError(.serverError, message) }
                guard let parts = reply.array, parts.count == 2, let value = parts[1].string else {
                    throw RedisError(.protocolError, "CONFIG GET \(name) answered \(reply)")
                }
                report[keyPath: path] = String(value.prefix(40)).lowercased()
            }
        } catch {
            report.uncheckable = "CONFIG GET is refused (\(String(error.message.prefix(80))))"
        }
        return report
    }
}
