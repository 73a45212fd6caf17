import Synchronization

/// What one component contributes to `stats`, `/stats` and `/metrics`.
public struct StatsContribution: Sendable {
    /// Monotonic totals; names end in `_total` (Prometheus convention).
    public var counters: [String: Double]
    /// Current levels.
    public var gauges: [String: Double]
    /// Facts that are not numbers (role, leader, mode).
    public var info: [String: String]

    public init(counters: [String: Double] = [:], gauges: [String: Double] = [:], info: [String: String] = [:]) {
        self.counters = counters
        self.gauges = gauges
        self.info = info
    }
}

/// Collects live figures from every component of a service.
///
/// Components register a provider once; providers are read on demand (an IPC `stats` request, a
/// Prometheus scrape), so figures are never stale and nothing runs on a timer.
public final class StatsRegistry: Sendable {
    private let providers = Mutex<[(String, @Sendable () -> StatsContribution)]>([])

    public init() {}

    /// Adds a provider; `component` orders the output and names the source in logs.
    public func register(_ component: String, _ provider: @escaping @Sendable () -> StatsContribution) {
        providers.withLock { $0.append((component, provider)) }
    }

    /// Every provider's figures merged (later registrations win on a name clash).
    public func collect() -> StatsContribution {
        let all = providers.withLock { $0 }
        var merged = StatsContribution()
        for (_, provider) in all {
            let c = provider()
            merged.counters.merge(c.counters) { _, new in new }
            merged.gauges.merge(c.gauges) { _, new in new }
            merged.info.merge(c.info) { _, new in new }
        }
        return merged
    }
}
