/// Where a user is in the flow (seed 003's StateService states).
public enum UserPhase: String, Sendable, Hashable, CaseIterable, Codable {
    /// Known, nothing pending (after /start, after an expired payment).
    case idle
    /// Chose a topic (kept for flows that ask one before payment).
    case topicSelected = "topic_selected"
    /// Pressed "Get access", got a payment link; reminders run and the payment is watched.
    case awaitingPayment = "awaiting_payment"
    /// Payment confirmed: welcomed and invited.
    case paid
}

/// A user's state as stored in Redis.
public struct UserState: Sendable, Hashable {
    public var phase: UserPhase
    /// Grows by one with every transition (compare-and-set by version is possible too).
    public var version: Int64
    /// When the last transition happened (Unix ms, Redis clock).
    public var updatedAtMs: Int64
    /// Free-form details: `record_id`, `chat_id`, `first_name`, ...
    public var metadata: [String: String]

    public init(phase: UserPhase, version: Int64, updatedAtMs: Int64, metadata: [String: String] = [:]) {
        self.phase = phase
        self.version = version
        self.updatedAtMs = updatedAtMs
        self.metadata = metadata
    }
}

/// The result of a compare-and-set transition.
public enum TransitionResult: Sendable, Hashable {
    /// The state moved from `from` (`nil`: no state before) to the target.
    case moved(from: UserPhase?, version: Int64)
    /// The user was already in the target phase: nothing changed except metadata.
    case alreadyThere(version: Int64)
    /// The current phase is not one the transition may start from: nothing changed.
    case refused(current: UserPhase?)

    /// Whether the user is in the target phase afterwards.
    public var isInTarget: Bool {
        switch self {
        case .moved, .alreadyThere: true
        case .refused: false
        }
    }
}
