/// `hello`: identify both ends and negotiate the protocol version.
public struct Hello: IPCRequest, Equatable {
    public static let type = "hello"

    /// Every protocol version the client speaks.
    public var versions: [Int]
    /// The client's service name, e.g. `poller-scheduler` or `tollgate`.
    public var service: String
    /// The client's instance name, e.g. `poller@2`.
    public var instance: String

    public init(versions: [Int] = IPCVersion.supported, service: String, instance: String) {
        self.versions = versions
        self.service = service
        self.instance = instance
    }

    public struct Reply: Codable, Sendable, Equatable {
        /// The version both ends use from now on: the highest common one.
        public var version: Int
        /// Every version the server speaks.
        public var versions: [Int]
        public var service: String
        public var instance: String
        public var startedAtMs: Int64
        public var maxFrameBytes: Int

        public init(version: Int, versions: [Int], service: String, instance: String, startedAtMs: Int64, maxFrameBytes: Int) {
            self.version = version
            self.versions = versions
            self.service = service
            self.instance = instance
            self.startedAtMs = startedAtMs
            self.maxFrameBytes = maxFrameBytes
        }

        enum CodingKeys: String, CodingKey {
            case version, versions, service, instance
            case startedAtMs = "started_at_ms"
            case maxFrameBytes = "max_frame_bytes"
        }
    }
}
