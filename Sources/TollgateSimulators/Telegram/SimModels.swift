/// A message the bot sent (or edited), as the simulator recorded it.
public struct SimSentMessage: Sendable, Hashable {
    /// One inline keyboard button.
    public struct Button: Sendable, Hashable {
        public var text: String
        public var callbackData: String?
        public var url: String?
    }

    /// The Bot API method: `sendMessage`, `sendVideo`, `sendMediaGroup`, `editMessageText`, ...
    public var method: String
    public var chatID: Int64
    public var messageID: Int64
    public var text: String?
    public var caption: String?
    /// `photo`, `video` or `document` for media.
    public var mediaKind: String?
    public var fileID: String?
    /// The inline keyboard, row by row.
    public var buttons: [[Button]]
    /// Seconds since the simulator started, when the message was accepted.
    public var at: Double

    /// Every `callback_data` of the keyboard.
    public var callbackData: [String] { buttons.flatMap { $0.compactMap(\.callbackData) } }
}

/// A simulated Telegram user.
public struct SimUser: Sendable, Hashable {
    public var id: Int64
    public var firstName: String
    public var lastName: String?
    public var username: String?
    public var languageCode: String?

    public init(id: Int64, firstName: String? = nil, lastName: String? = nil, username: String? = nil, languageCode: String? = "en") {
        self.id = id
        self.firstName = firstName ?? "User\(id)"
        self.lastName = lastName
        self.username = username
        self.languageCode = languageCode
    }

    var json: SimJSON {
        .obj([
            ("id", .int(id)), ("is_bot", .bool(false)), ("first_name", .string(firstName)),
            ("last_name", lastName.map(SimJSON.string)), ("username", username.map(SimJSON.string)),
            ("language_code", languageCode.map(SimJSON.string)),
        ])
    }
}

/// Counters of the simulator (for tests, benchmarks and `/_sim/stats`).
public struct SimTelegramCounters: Sendable, Hashable {
    /// Bot API requests, by method (as called, case preserved).
    public var requests: [String: Int] = [:]
    /// Messages accepted (a media group counts its items).
    public var messagesAccepted = 0
    /// 429 replies, in total and by the scope that refused.
    public var floodRefusals = 0
    public var floodRefusalsByScope: [String: Int] = [:]
    /// 403 replies (blocked, deactivated, kicked).
    public var forbidden = 0
    /// 400 replies for an unknown chat.
    public var chatNotFound = 0
    /// Other 400 replies.
    public var badRequests = 0
    /// 401/404 replies for a wrong token or method.
    public var unauthorized = 0
    /// 409 replies to getUpdates.
    public var conflicts = 0
    /// Files received as multipart uploads.
    public var uploads = 0
    /// Webhook POSTs made, and those answered with a non-2xx status or not at all.
    public var webhookAttempts = 0
    public var webhookFailures = 0
    /// Updates delivered (by getUpdates confirmation or a 2xx webhook reply).
    public var updatesDelivered = 0
    /// The most messages accepted in any sliding one-second window so far.
    public var maxMessagesInOneSecond = 0
    /// Messages sent with `allow_paid_broadcast`, and those of them past the free limit (each
    /// charged 0.1 Star).
    public var paidBroadcastMessages = 0
    public var paidBroadcastCharged = 0

    public init() {}
}
