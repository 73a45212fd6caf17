/// `stats`: the service's counters, gauges and facts; for the poller, every live instance too.
public struct Stats: IPCRequest, Equatable {
    public static let type = "stats"
    public init() {}

    public struct Snapshot: Codable, Sendable, Equatable {
        public var service: String
        public var instance: String
        public var uptimeS: Double
        /// Monotonic totals since start (requests, deliveries, 429s ...).
        public var counters: [String: Double]
        /// Current levels (connections, watched users, queue depth ...).
        public var gauges: [String: Double]
        /// Facts that are not numbers (role, leader, mode ...).
        public var info: [String: String]

        public init(
            service: String, instance: String, uptimeS: Double, counters: [String: Double] = [:],
            gauges: [String: Double] = [:], info: [String: String] = [:]
        ) {
            self.service = service
            self.instance = instance
            self.uptimeS = uptimeS
            self.counters = counters
            self.gauges = gauges
            self.info = info
        }

        enum CodingKeys: String, CodingKey {
            case service, instance, counters, gauges, info
            case uptimeS = "uptime_s"
        }
    }

    public struct Reply: Codable, Sendable, Equatable {
        public var service: String
        public var instance: String
        public var uptimeS: Double
        public var counters: [String: Double]
        public var gauges: [String: Double]
        public var info: [String: String]
        /// The cluster view, where the service has several instances (the poller).
        public var instances: [Snapshot]?

        public init(_ snapshot: Snapshot, instances: [Snapshot]? = nil) {
            service = snapshot.service
            instance = snapshot.instance
            uptimeS = snapshot.uptimeS
            counters = snapshot.counters
            gauges = snapshot.gauges
            info = snapshot.info
            self.instances = instances
        }

        public var snapshot: Snapshot {
            Snapshot(service: service, instance: instance, uptimeS: uptimeS, counters: counters, gauges: gauges, info: info)
        }

        enum CodingKeys: String, CodingKey {
            case service, instance, counters, gauges, info, instances
            case uptimeS = "uptime_s"
        }
    }
}
