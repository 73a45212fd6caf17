import Synchronization
import TollgateNocoDB

/// Seed 000's `print_stats`, measured: active watches, cycles, batches, API requests, average
/// batch size, requests avoided against per-user polling, 429s.
public final class PaymentsStats: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var activeWatches = 0
        /// Batch rounds that checked something, plus delta cycles.
        public var cycles = 0
        public var deltaCycles = 0
        /// Batch requests (one per batch; more pages of a batch count as requests, not batches).
        public var batches = 0
        /// Watches covered by batch requests.
        public var batchedWatches = 0
        /// Checks per-user polling would have needed a request for: batched watches, plus every
        /// active watch in each delta cycle.
        public var userChecks = 0
        public var confirmed = 0
        public var expired = 0
        public var errors = 0
        public var mode = "delta"
        public var leading = false
        public var cursorMs: Int64?

        public init() {}
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func update(_ body: (inout Snapshot) -> Void) { state.withLock { body(&$0) } }

    /// The `stats` contribution, with the NocoDB client's own counters (`nocodb_requests_total`, ...).
    public func contribution(nocodb: NocoDBCounters) -> (counters: [String: Double], gauges: [String: Double], info: [String: String]) {
        let s = snapshot
        let requests = nocodb.total
        var counters = nocodb.asStats
        counters["payments_cycles_total"] = Double(s.cycles)
        counters["payments_delta_cycles_total"] = Double(s.deltaCycles)
        counters["payments_batches_total"] = Double(s.batches)
        counters["payments_user_checks_total"] = Double(s.userChecks)
        counters["payments_requests_avoided_total"] = Double(max(0, s.userChecks - requests))
        counters["payments_confirmed_total"] = Double(s.confirmed)
        counters["payments_expired_total"] = Double(s.expired)
        counters["payments_errors_total"] = Double(s.errors)
        let gauges: [String: Double] = [
            "payments_active_watches": Double(s.activeWatches),
            "payments_avg_batch_size": s.batches > 0 ? Double(s.batchedWatches) / Double(s.batches) : 0,
            "payments_request_reduction_ratio": s.userChecks > 0 ? 1 - Double(min(requests, s.userChecks)) / Double(s.userChecks) : 0,
            "payments_leading": s.leading ? 1 : 0,
        ]
        var info = ["payments_mode": s.mode]
        if let cursor = s.cursorMs { info["payments_delta_cursor"] = NocoDBTimestamp.format(cursor) }
        return (counters, gauges, info)
    }

    /// The seed's table, as text (`tollgate status`, logs).
    public func report(nocodb: NocoDBCounters) -> String {
        let s = snapshot
        let avg = s.batches > 0 ? Double(s.batchedWatches) / Double(s.batches) : 0
        let avoided = max(0, s.userChecks - nocodb.total)
        let ratio = s.userChecks > 0 ? 100 * Double(avoided) / Double(s.userChecks) : 0
        return """
            Payment watching (\(s.mode) mode\(s.leading ? ", leader" : ""))
              Active watches:        \(s.activeWatches)
              Poll cycles:           \(s.cycles) (\(s.deltaCycles) delta)
              Batches:               \(s.batches)
              API requests:          \(nocodb.total) (429s: \(nocodb.throttled))
              Average batch size:    \((avg * 10).rounded() / 10)
              Requests avoided:      \(avoided) (\((ratio * 10).rounded() / 10)% fewer than per-user polling)
              Confirmed / expired:   \(s.confirmed) / \(s.expired)
            """
    }
}
