/// `schedule` (served by poller-scheduler): store a delayed job durably.
///
/// Idempotent: scheduling a `job_id` that exists (or existed recently and completed) changes
/// nothing and answers `created: false`; likewise at most one pending job per `dedupe_key`.
/// Exactly one of `due_at_ms` and `delay_ms` is given; a delay counts from the Redis server's clock.
public struct Schedule: IPCRequest, Equatable {
    public static let type = "schedule"

    public var jobID: String?
    public var dedupeKey: String?
    public var kind: String
    public var userID: Int64
    public var chatID: Int64
    public var dueAtMs: Int64?
    public var delayMs: Int64?
    public var payload: [String: JSONValue]
    public var maxAttempts: Int?

    public init(
        jobID: String? = nil, dedupeKey: String? = nil, kind: String, userID: Int64, chatID: Int64,
        dueAtMs: Int64? = nil, delayMs: Int64? = nil, payload: [String: JSONValue] = [:], maxAttempts: Int? = nil
    ) {
        self.jobID = jobID
        self.dedupeKey = dedupeKey
        self.kind = kind
        self.userID = userID
        self.chatID = chatID
        self.dueAtMs = dueAtMs
        self.delayMs = delayMs
        self.payload = payload
        self.maxAttempts = maxAttempts
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id"
        case dedupeKey = "dedupe_key"
        case kind
        case userID = "user_id"
        case chatID = "chat_id"
        case dueAtMs = "due_at_ms"
        case delayMs = "delay_ms"
        case payload
        case maxAttempts = "max_attempts"
    }

    public struct Reply: Codable, Sendable, Equatable {
        public var jobID: String
        /// False when the job (or one with the same dedupe key) already existed.
        public var created: Bool
        public var dueAtMs: Int64

        public init(jobID: String, created: Bool, dueAtMs: Int64) {
            self.jobID = jobID
            self.created = created
            self.dueAtMs = dueAtMs
        }

        enum CodingKeys: String, CodingKey {
            case jobID = "job_id"
            case created
            case dueAtMs = "due_at_ms"
        }
    }
}

/// `cancel` (served by poller-scheduler): remove a job by id, or a user's jobs (optionally of one kind).
public struct Cancel: IPCRequest, Equatable {
    public static let type = "cancel"

    public var jobID: String?
    public var userID: Int64?
    public var kind: String?

    public init(jobID: String) {
        self.jobID = jobID
    }

    public init(userID: Int64, kind: String? = nil) {
        self.userID = userID
        self.kind = kind
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id"
        case userID = "user_id"
        case kind
    }

    public struct Reply: Codable, Sendable, Equatable {
        /// How many pending jobs were removed (a leased job is cancelled too: its ack will be refused).
        public var cancelled: Int
        public init(cancelled: Int) { self.cancelled = cancelled }
    }
}

/// `user_jobs` (served by poller-scheduler): a user's pending jobs.
public struct UserJobs: IPCRequest, Equatable {
    public static let type = "user_jobs"

    public var userID: Int64
    public init(userID: Int64) { self.userID = userID }

    enum CodingKeys: String, CodingKey { case userID = "user_id" }

    public struct Job: Codable, Sendable, Equatable {
        public enum State: String, Codable, Sendable { case scheduled, leased }
        public var jobID: String
        public var kind: String
        public var chatID: Int64
        public var dueAtMs: Int64
        public var attempts: Int
        public var state: State
        public var payload: [String: JSONValue]

        public init(
            jobID: String, kind: String, chatID: Int64, dueAtMs: Int64, attempts: Int, state: State,
            payload: [String: JSONValue]
        ) {
            self.jobID = jobID
            self.kind = kind
            self.chatID = chatID
            self.dueAtMs = dueAtMs
            self.attempts = attempts
            self.state = state
            self.payload = payload
        }

        enum CodingKeys: String, CodingKey {
            case jobID = "job_id"
            case kind
            case chatID = "chat_id"
            case dueAtMs = "due_at_ms"
            case attempts, state, payload
        }
    }

    public struct Reply: Codable, Sendable, Equatable {
        public var jobs: [Job]
        public init(jobs: [Job]) { self.jobs = jobs }
    }
}
