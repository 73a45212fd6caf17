import Synchronization

/// Live counters of an IPC server, read by `stats` and `/metrics`.
public final class IPCServerCounters: Sendable {
    public let connectionsAccepted = Atomic<Int>(0)
    public let connectionsOpen = Atomic<Int>(0)
    public let requests = Atomic<Int>(0)
    public let errorReplies = Atomic<Int>(0)
    public let oversizedFrames = Atomic<Int>(0)
    public let inFlight = Atomic<Int>(0)

    public init() {}

    /// A name → value view for stats and metrics.
    public func snapshot() -> [String: Double] {
        [
            "ipc_connections_accepted_total": Double(connectionsAccepted.load(ordering: .relaxed)),
            "ipc_requests_total": Double(requests.load(ordering: .relaxed)),
            "ipc_error_replies_total": Double(errorReplies.load(ordering: .relaxed)),
            "ipc_oversized_frames_total": Double(oversizedFrames.load(ordering: .relaxed)),
        ]
    }

    public func gauges() -> [String: Double] {
        [
            "ipc_connections_open": Double(connectionsOpen.load(ordering: .relaxed)),
            "ipc_requests_in_flight": Double(inFlight.load(ordering: .relaxed)),
        ]
    }
}
