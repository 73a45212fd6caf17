import TollgateIPC

/// A job to store: what to deliver, to whom, and when.
///
/// `id` makes scheduling idempotent: a job id that is pending, leased, or was completed within the
/// retention window is never stored twice. Without an id the store makes one. `dedupeKey` keeps at
/// most one pending job per key (whatever its id).
public struct JobSpec: Sendable, Equatable {
    /// When a job falls due.
    public enum Due: Sendable, Equatable {
        /// At this Unix time in milliseconds (a time in the past means "now").
        case at(milliseconds: Int64)
        /// This long after the Redis server's clock reads when the job is stored.
        case after(Duration)
    }

    public var id: String?
    public var dedupeKey: String?
    /// `reminder`, `payment_confirmed`, `payment_expired` or `message` (``Schedule/kinds``).
    public var kind: String
    public var userID: Int64
    public var chatID: Int64
    public var due: Due
    /// Passed through to the gateway's `deliver` unchanged.
    public var payload: [String: JSONValue]
    /// Delivery attempts before the job is dead-lettered; `nil` takes the store's default.
    public var maxAttempts: Int?

    public init(
        id: String? = nil, dedupeKey: String? = nil, kind: String, userID: Int64, chatID: Int64, due: Due,
        payload: [String: JSONValue] = [:], maxAttempts: Int? = nil
    ) {
        self.id = id
        self.dedupeKey = dedupeKey
        self.kind = kind
        self.userID = userID
        self.chatID = chatID
        self.due = due
        self.payload = payload
        self.maxAttempts = maxAttempts
    }

    /// The spec an IPC `schedule` request describes (validate the request first).
    public init(_ request: Schedule) {
        let due: Due =
            if let at = request.dueAtMs { .at(milliseconds: at) } else { .after(.milliseconds(request.delayMs ?? 0)) }
        self.init(
            id: request.jobID, dedupeKey: request.dedupeKey, kind: request.kind, userID: request.userID,
            chatID: request.chatID, due: due, payload: request.payload, maxAttempts: request.maxAttempts)
    }

    /// Checks the spec by the rules of the IPC `schedule` request (id alphabet, kinds, bounds).
    public func validate() throws(JobStoreError) {
        var request = Schedule(
            jobID: id, dedupeKey: dedupeKey, kind: kind, userID: userID, chatID: chatID, payload: payload,
            maxAttempts: maxAttempts)
        switch due {
        case .at(let ms): request.dueAtMs = ms
        case .after(let delay): request.delayMs = delay.milliseconds
        }
        do throws(IPCError) {
            try request.validate()
        } catch {
            throw JobStoreError(.invalidJob, error.message.replacingOccurrences(of: "body.", with: ""))
        }
    }
}

/// What `schedule` did.
public struct ScheduleOutcome: Sendable, Equatable {
    /// The stored job's id: the one given, a generated one, or — when the dedupe key was taken — the
    /// id of the job holding the key.
    public var jobID: String
    /// False when nothing was stored because the job (or its dedupe key) already existed.
    public var created: Bool
    /// The job's due time (Unix ms, Redis clock).
    public var dueAtMs: Int64

    public init(jobID: String, created: Bool, dueAtMs: Int64) {
        self.jobID = jobID
        self.created = created
        self.dueAtMs = dueAtMs
    }
}
