/// Names Redis keys under one prefix, so that several deployments (or tests) share a Redis
/// without touching each other's data: `keys("jobs", "due")` → `tollgate:jobs:due`.
///
/// Each service owns the keys under its components; the other service reaches them only over IPC.
public struct KeySpace: Sendable, Hashable {
    public let prefix: String

    /// `prefix` comes from `REDIS_PREFIX` (default `tollgate`).
    public init(prefix: String = "tollgate") {
        self.prefix = prefix
    }

    public func callAsFunction(_ parts: String...) -> String {
        ([prefix] + parts).joined(separator: ":")
    }

    public func key(_ parts: [String]) -> String {
        ([prefix] + parts).joined(separator: ":")
    }
}
