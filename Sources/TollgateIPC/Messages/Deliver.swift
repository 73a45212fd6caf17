import TollgateCore

/// `deliver` (served by bot-gateway): due jobs from a poller, to be shown to users.
///
/// The gateway answers one ``DeliveryResult`` per delivery, in order. It acks a job (`delivered`,
/// `duplicate`, `skipped`, `failed`) only once the message was sent or can never be; a job id it
/// has delivered before is answered `duplicate` without sending again. See Protocols/gateway.md.
public struct Deliver: IPCRequest, Equatable {
    public static let type = "deliver"
    /// The largest batch a poller may send in one frame.
    public static let maxBatch = 500

    public var deliveries: [Delivery]
    /// How long the poller waits for the reply (its `DELIVER_TIMEOUT`). The gateway answers within
    /// it: a delivery whose message could not leave in time is answered `retry` with
    /// `attempted: false`, so a slow backlog never makes the poller give up and deliver again
    /// while the first run still goes on. Absent: 60 s.
    public var replyWithinMs: Int64?

    public init(deliveries: [Delivery], replyWithinMs: Int64? = nil) {
        self.deliveries = deliveries
        self.replyWithinMs = replyWithinMs
    }

    enum CodingKeys: String, CodingKey {
        case deliveries
        case replyWithinMs = "reply_within_ms"
    }

    public struct Reply: Codable, Sendable, Equatable {
        public var results: [DeliveryResult]
        public init(results: [DeliveryResult]) { self.results = results }
    }
}

/// One due job, as the gateway sees it.
public struct Delivery: Codable, Sendable, Equatable {
    /// Stable across retries: the gateway's duplicate check keys on it.
    public var jobID: String
    /// The fencing epoch of the poller's lease (for logs; the poller checks it when it acks).
    public var epoch: Int64
    /// What to show: `reminder`, `payment_confirmed`, `payment_expired` or `message`.
    public var kind: String
    public var userID: Int64
    public var chatID: Int64
    /// 1 on the first attempt.
    public var attempt: Int
    public var dueAtMs: Int64
    /// Kind-specific details (a flow step name, a NocoDB record id, a text).
    public var payload: [String: JSONValue]

    public init(
        jobID: String, epoch: Int64, kind: String, userID: Int64, chatID: Int64, attempt: Int, dueAtMs: Int64,
        payload: [String: JSONValue] = [:]
    ) {
        self.jobID = jobID
        self.epoch = epoch
        self.kind = kind
        self.userID = userID
        self.chatID = chatID
        self.attempt = attempt
        self.dueAtMs = dueAtMs
        self.payload = payload
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id"
        case epoch, kind
        case userID = "user_id"
        case chatID = "chat_id"
        case attempt
        case dueAtMs = "due_at_ms"
        case payload
    }
}

/// What became of one delivery.
public struct DeliveryResult: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        /// Sent now. The poller acks.
        case delivered
        /// Sent before (same job id). The poller acks.
        case duplicate
        /// Deliberately not sent (user suppressed after blocking the bot, reminder for a user who
        /// has paid meanwhile). The poller acks.
        case skipped
        /// Can never be sent (invalid payload, unknown kind). The poller dead-letters it with `detail`.
        case failed
        /// Not sent now (Telegram flood limit, 5xx after the gateway's own retries). The poller
        /// retries after `retry_after_ms` or its own backoff, whichever is later.
        case retry
    }

    public var jobID: String
    public var outcome: Outcome
    public var retryAfterMs: Int64?
    public var detail: String?
    /// `false` with `retry`: the job was not tried, through no fault of its own (its time ran out
    /// before its message could leave, or another runner holds it): the poller postpones it
    /// without counting an attempt. Absent: `true`.
    public var attempted: Bool?

    public init(
        jobID: String, outcome: Outcome, retryAfterMs: Int64? = nil, detail: String? = nil, attempted: Bool? = nil
    ) {
        self.jobID = jobID
        self.outcome = outcome
        self.retryAfterMs = retryAfterMs
        self.detail = detail
        self.attempted = attempted
    }

    /// Whether the poller removes the job for good (acked or dead-lettered).
    public var isFinal: Bool { outcome != .retry }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id"
        case outcome
        case retryAfterMs = "retry_after_ms"
        case detail
        case attempted
    }
}

extension Delivery {
    /// An upper bound of this delivery's size in a `deliver` frame, in bytes, computed without
    /// encoding it: every string counted as if each byte needed a six-byte `\u00XX` escape.
    public var encodedSizeBound: Int {
        var total = 160 + 6 * jobID.utf8.count + 6 * kind.utf8.count
        for (key, value) in payload { total = total.saturatingPlus(6 * key.utf8.count + 8 + Self.bound(value)) }
        return total
    }

    private static func bound(_ value: JSONValue) -> Int {
        switch value {
        case .null, .bool: return 5
        case .number: return 32
        case .string(let s): return 2 + 6 * s.utf8.count
        case .array(let a): return a.reduce(2) { $0.saturatingPlus(1 + bound($1)) }
        case .object(let o): return o.reduce(2) { $0.saturatingPlus(8 + 6 * $1.key.utf8.count + bound($1.value)) }
        }
    }
}
