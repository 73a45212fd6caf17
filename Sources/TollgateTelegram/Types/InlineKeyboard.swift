/// An inline keyboard attached to a message.
public struct InlineKeyboardMarkup: Codable, Sendable, Hashable {
    /// Rows of buttons.
    public var inlineKeyboard: [[InlineKeyboardButton]]

    public init(_ rows: [[InlineKeyboardButton]]) { self.inlineKeyboard = rows }

    enum CodingKeys: String, CodingKey { case inlineKeyboard = "inline_keyboard" }
}

/// One inline keyboard button: it sends `callback_data` back to the bot, or opens a URL.
public struct InlineKeyboardButton: Codable, Sendable, Hashable {
    public var text: String
    /// 1-64 bytes, sent back in a ``CallbackQuery``.
    public var callbackData: String?
    public var url: String?

    public init(text: String, callbackData: String? = nil, url: String? = nil) {
        self.text = text
        self.callbackData = callbackData
        self.url = url
    }

    /// A button that sends `data` back to the bot.
    public static func callback(_ text: String, data: String) -> InlineKeyboardButton {
        InlineKeyboardButton(text: text, callbackData: data)
    }

    /// A button that opens `url`.
    public static func link(_ text: String, url: String) -> InlineKeyboardButton {
        InlineKeyboardButton(text: text, url: url)
    }

    enum CodingKeys: String, CodingKey {
        case text
        case callbackData = "callback_data"
        case url
    }
}
