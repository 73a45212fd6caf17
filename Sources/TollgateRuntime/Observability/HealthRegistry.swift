import Synchronization
import TollgateIPC

/// Named health checks. A failing *critical* check makes the service not ready; a failing
/// non-critical one makes it `degraded` but still ready (e.g. NocoDB down: watches wait).
public final class HealthRegistry: Sendable {
    struct Entry {
        var name: String
        var critical: Bool
        var check: @Sendable () async -> Health.Check
    }
    private let entries = Mutex<[Entry]>([])

    public init() {}

    public func register(_ name: String, critical: Bool, _ check: @escaping @Sendable () async -> Health.Check) {
        entries.withLock { $0.append(Entry(name: name, critical: critical, check: check)) }
    }

    /// Runs every check; returns the results and whether all critical ones pass.
    public func evaluate() async -> (checks: [String: Health.Check], criticalOK: Bool, allOK: Bool) {
        let list = entries.withLock { $0 }
        var checks: [String: Health.Check] = [:]
        var criticalOK = true
        var allOK = true
        for entry in list {
            let result = await entry.check()
            checks[entry.name] = result
            if !result.ok {
                allOK = false
                if entry.critical { criticalOK = false }
            }
        }
        return (checks, criticalOK, allOK)
    }
}
