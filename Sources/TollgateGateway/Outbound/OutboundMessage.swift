import TollgateTelegram

/// One message to send (or edit), ready for the ``OutboundSender``.
public struct OutboundMessage: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        case text(String)
        /// A photo, video or document with an optional caption.
        case media(InputMedia.Kind, InputFile, caption: String?)
        /// An album of 2-10 items.
        case mediaGroup([InputMedia])
        /// New text for a message the bot sent.
        case edit(messageID: Int64, text: String)
    }

    public var chatID: Int64
    public var content: Content
    public var keyboard: InlineKeyboardMarkup?
    /// Sent with `allow_paid_broadcast` (a campaign that pays Stars to go past 30 msg/s); such a
    /// message keeps to the paid budget (``SendPriority/paid``), not the bot's.
    public var allowPaidBroadcast: Bool

    public init(chatID: Int64, content: Content, keyboard: InlineKeyboardMarkup? = nil, allowPaidBroadcast: Bool = false) {
        self.chatID = chatID
        self.content = content
        self.keyboard = keyboard
        self.allowPaidBroadcast = allowPaidBroadcast
    }

    /// A text message.
    public static func text(_ text: String, to chatID: Int64, keyboard: InlineKeyboardMarkup? = nil) -> OutboundMessage {
        OutboundMessage(chatID: chatID, content: .text(text), keyboard: keyboard)
    }

    /// How many messages Telegram counts against its limits (an album counts each item).
    public var cost: Int {
        if case .mediaGroup(let items) = content { return max(1, items.count) }
        return 1
    }
}

/// What became of one send.
public enum SendOutcome: Sendable {
    /// Delivered; the messages Telegram returned (one, or an album's items).
    case sent([Message])
    /// Not sent: the chat is on the suppression list (it blocked the bot or does not exist).
    case suppressed(reason: String)
    /// Can never be sent: the chat blocked the bot or is gone (now suppressed), or Telegram refused
    /// the request itself (a bad request).
    case failed(TelegramError)
    /// Not sent now (flood limit, 5xx or timeouts after the sender's own retries); try again after
    /// `after` (when known). `maybeSent` when the last attempt may have reached Telegram.
    case retryLater(after: Duration?, error: TelegramError, maybeSent: Bool)
    /// Not sent: the caller's time (`departBy`) ran out while the message waited for its slot.
    case outOfTime

    public var wasSent: Bool {
        if case .sent = self { return true }
        return false
    }
}
