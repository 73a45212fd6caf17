/// `watch_payment` (served by poller-scheduler): watch a user's NocoDB row until it is Paid.
///
/// The row is named by `record_id` (the NocoDB `Id`) or by `telegram_id` (the value of the table's
/// TelegramId column); at least one is given. Idempotent per `user_id`: watching again refreshes
/// the row reference and the expiry and answers `created: false`.
public struct WatchPayment: IPCRequest, Equatable {
    public static let type = "watch_payment"

    public var userID: Int64
    public var chatID: Int64
    public var recordID: Int64?
    public var telegramID: String?
    /// How long to watch; the service default (48 h) when absent.
    public var expiresInMs: Int64?
    /// Deliver `payment_expired` to the gateway when the watch expires unpaid.
    public var notifyExpired: Bool?

    public init(
        userID: Int64, chatID: Int64, recordID: Int64? = nil, telegramID: String? = nil, expiresInMs: Int64? = nil,
        notifyExpired: Bool? = nil
    ) {
        self.userID = userID
        self.chatID = chatID
        self.recordID = recordID
        self.telegramID = telegramID
        self.expiresInMs = expiresInMs
        self.notifyExpired = notifyExpired
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case chatID = "chat_id"
        case recordID = "record_id"
        case telegramID = "telegram_id"
        case expiresInMs = "expires_in_ms"
        case notifyExpired = "notify_expired"
    }

    public struct Reply: Codable, Sendable, Equatable {
        public var created: Bool
        public var expiresAtMs: Int64

        public init(created: Bool, expiresAtMs: Int64) {
            self.created = created
            self.expiresAtMs = expiresAtMs
        }

        enum CodingKeys: String, CodingKey {
            case created
            case expiresAtMs = "expires_at_ms"
        }
    }
}

/// `unwatch_payment` (served by poller-scheduler): stop watching a user's payment.
public struct UnwatchPayment: IPCRequest, Equatable {
    public static let type = "unwatch_payment"

    public var userID: Int64
    public init(userID: Int64) { self.userID = userID }

    enum CodingKeys: String, CodingKey { case userID = "user_id" }

    public struct Reply: Codable, Sendable, Equatable {
        public var removed: Bool
        public init(removed: Bool) { self.removed = removed }
    }
}
