/// `health`: is the service alive, is it ready, and what do its dependency checks say.
public struct Health: IPCRequest, Equatable {
    public static let type = "health"
    public init() {}

    public enum Status: String, Codable, Sendable {
        case starting, ready, degraded, draining
    }

    public struct Check: Codable, Sendable, Equatable {
        public var ok: Bool
        public var detail: String?
        public var latencyMs: Double?

        public init(ok: Bool, detail: String? = nil, latencyMs: Double? = nil) {
            self.ok = ok
            self.detail = detail
            self.latencyMs = latencyMs
        }

        enum CodingKeys: String, CodingKey {
            case ok, detail
            case latencyMs = "latency_ms"
        }
    }

    public struct Reply: Codable, Sendable, Equatable {
        public var status: Status
        /// The process runs and its loops make progress.
        public var live: Bool
        /// The process can do its job now (sockets bound, Redis reachable).
        public var ready: Bool
        public var uptimeS: Double
        public var checks: [String: Check]

        public init(status: Status, live: Bool, ready: Bool, uptimeS: Double, checks: [String: Check]) {
            self.status = status
            self.live = live
            self.ready = ready
            self.uptimeS = uptimeS
            self.checks = checks
        }

        enum CodingKeys: String, CodingKey {
            case status, live, ready, checks
            case uptimeS = "uptime_s"
        }
    }
}
