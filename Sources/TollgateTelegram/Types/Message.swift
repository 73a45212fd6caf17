import TollgateCore

/// A message (the parts Tollgate uses; unknown fields are ignored).
public struct Message: Codable, Sendable, Hashable {
    public var messageID: Int64
    public var from: User?
    public var chat: Chat
    /// Unix time in seconds.
    public var date: Int64
    public var text: String?
    public var caption: String?
    public var photo: [PhotoSize]?
    public var video: Video?
    public var document: Document?
    public var mediaGroupID: String?
    public var replyMarkup: InlineKeyboardMarkup?
    /// Set on the service message a group leaves behind when it becomes a supergroup.
    public var migrateToChatID: Int64?

    public init(
        messageID: Int64, from: User? = nil, chat: Chat, date: Int64, text: String? = nil, caption: String? = nil,
        photo: [PhotoSize]? = nil, video: Video? = nil, document: Document? = nil, mediaGroupID: String? = nil,
        replyMarkup: InlineKeyboardMarkup? = nil, migrateToChatID: Int64? = nil
    ) {
        self.messageID = messageID
        self.from = from
        self.chat = chat
        self.date = date
        self.text = text
        self.caption = caption
        self.photo = photo
        self.video = video
        self.document = document
        self.mediaGroupID = mediaGroupID
        self.replyMarkup = replyMarkup
        self.migrateToChatID = migrateToChatID
    }

    /// The `file_id` of the media this message carries (the largest photo size), if any.
    public var mediaFileID: String? {
        video?.fileID ?? document?.fileID
            ?? photo?.max { $0.width.saturatingTimes($0.height) < $1.width.saturatingTimes($1.height) }?.fileID
    }

    /// The bot command at the start of the text (`/start` of `/start payload` or `/start@my_bot`), if any.
    public var command: String? {
        guard let text, text.hasPrefix("/") else { return nil }
        let word = text.split(separator: " ", maxSplits: 1).first.map(String.init) ?? text
        return word.split(separator: "@", maxSplits: 1).first.map(String.init)
    }

    enum CodingKeys: String, CodingKey {
        case messageID = "message_id"
        case from, chat, date, text, caption, photo, video, document
        case mediaGroupID = "media_group_id"
        case replyMarkup = "reply_markup"
        case migrateToChatID = "migrate_to_chat_id"
    }

    /// Strict where the flow depends on it (`message_id`, `chat`), lenient elsewhere: a member of
    /// a wrong type (a photo 10^20 pixels wide, a date as a float) is left out rather than making
    /// the whole update — and with it every update after it — unreadable.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        messageID = try c.decode(Int64.self, forKey: .messageID)
        chat = try c.decode(Chat.self, forKey: .chat)
        from = try? c.decodeIfPresent(User.self, forKey: .from)
        date = (try? c.decodeIfPresent(Int64.self, forKey: .date)) ?? 0
        text = try? c.decodeIfPresent(String.self, forKey: .text)
        caption = try? c.decodeIfPresent(String.self, forKey: .caption)
        photo = try? c.decodeIfPresent([PhotoSize].self, forKey: .photo)
        video = try? c.decodeIfPresent(Video.self, forKey: .video)
        document = try? c.decodeIfPresent(Document.self, forKey: .document)
        mediaGroupID = try? c.decodeIfPresent(String.self, forKey: .mediaGroupID)
        replyMarkup = try? c.decodeIfPresent(InlineKeyboardMarkup.self, forKey: .replyMarkup)
        migrateToChatID = try? c.decodeIfPresent(Int64.self, forKey: .migrateToChatID)
    }
}

/// A callback query: a user pressed an inline keyboard button.
public struct CallbackQuery: Codable, Sendable, Hashable {
    public var id: String
    public var from: User
    /// The message with the button (absent for very old messages).
    public var message: Message?
    public var chatInstance: String?
    /// The button's `callback_data`.
    public var data: String?

    public init(id: String, from: User, message: Message? = nil, chatInstance: String? = nil, data: String? = nil) {
        self.id = id
        self.from = from
        self.message = message
        self.chatInstance = chatInstance
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case id, from, message
        case chatInstance = "chat_instance"
        case data
    }
}

/// One incoming update. Kinds Tollgate does not use decode with every optional member `nil`.
///
/// Only `update_id` must be readable: a part that is not (a message without a chat, a callback
/// query of the wrong shape) is left out and named in ``unreadable``, so the update is still
/// recorded, confirmed to Telegram and skipped — one hostile update never stops the ones after it.
public struct Update: Codable, Sendable, Hashable {
    public var updateID: Int64
    public var message: Message?
    public var editedMessage: Message?
    public var callbackQuery: CallbackQuery?
    /// Someone's membership of a chat where the bot is an administrator changed (only when
    /// `chat_member` is in `allowed_updates`).
    public var chatMember: ChatMemberUpdated?
    /// The bot's own membership changed (made administrator, rights changed, removed).
    public var myChatMember: ChatMemberUpdated?
    /// Someone asked to join with a link that `creates_join_request`.
    public var chatJoinRequest: ChatJoinRequest?
    /// The parts present but unreadable (not encoded: a recorded update keeps only what was read).
    public var unreadable: [String] = []

    public init(
        updateID: Int64, message: Message? = nil, editedMessage: Message? = nil, callbackQuery: CallbackQuery? = nil,
        chatMember: ChatMemberUpdated? = nil, myChatMember: ChatMemberUpdated? = nil, chatJoinRequest: ChatJoinRequest? = nil
    ) {
        self.updateID = updateID
        self.message = message
        self.editedMessage = editedMessage
        self.callbackQuery = callbackQuery
        self.chatMember = chatMember
        self.myChatMember = myChatMember
        self.chatJoinRequest = chatJoinRequest
    }

    /// The chat the update belongs to (per-chat ordering keys on it), if any. A membership change
    /// or a join request belongs to the user's own chat: one club's many members are not one lane.
    public var chatID: Int64? {
        message?.chat.id ?? callbackQuery?.message?.chat.id ?? editedMessage?.chat.id ?? callbackQuery?.from.id
            ?? chatMember?.newChatMember.user.id ?? chatJoinRequest?.userChatID ?? myChatMember?.chat.id
    }

    /// The user who caused the update, if any (for a membership change: the member).
    public var user: User? {
        message?.from ?? callbackQuery?.from ?? editedMessage?.from ?? chatMember?.newChatMember.user ?? chatJoinRequest?.from
    }

    /// `message`, `callback_query`, `edited_message`, or `other`.
    public var kind: String {
        if message != nil { return "message" }
        if callbackQuery != nil { return "callback_query" }
        if editedMessage != nil { return "edited_message" }
        if chatMember != nil { return "chat_member" }
        if myChatMember != nil { return "my_chat_member" }
        if chatJoinRequest != nil { return "chat_join_request" }
        return "other"
    }

    enum CodingKeys: String, CodingKey {
        case updateID = "update_id"
        case message
        case editedMessage = "edited_message"
        case callbackQuery = "callback_query"
        case chatMember = "chat_member"
        case myChatMember = "my_chat_member"
        case chatJoinRequest = "chat_join_request"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        updateID = try c.decode(Int64.self, forKey: .updateID)
        var unreadable: [String] = []
        func part<T: Decodable>(_ type: T.Type, _ key: CodingKeys) -> T? {
            guard c.contains(key), (try? c.decodeNil(forKey: key)) == false else { return nil }
            do { return try c.decode(type, forKey: key) } catch {
                unreadable.append(key.rawValue)
                return nil
            }
        }
        message = part(Message.self, .message)
        editedMessage = part(Message.self, .editedMessage)
        callbackQuery = part(CallbackQuery.self, .callbackQuery)
        chatMember = part(ChatMemberUpdated.self, .chatMember)
        myChatMember = part(ChatMemberUpdated.self, .myChatMember)
        chatJoinRequest = part(ChatJoinRequest.self, .chatJoinRequest)
        self.unreadable = unreadable
    }
}

/// A `getUpdates` result read element by element: an element without a readable `update_id` is
/// counted in ``skipped`` and left out instead of failing the whole batch.
public struct UpdateBatch: Decodable, Sendable {
    public var updates: [Update] = []
    public var skipped = 0

    public init(updates: [Update], skipped: Int = 0) {
        self.updates = updates
        self.skipped = skipped
    }

    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        while !c.isAtEnd {
            let element = try c.decode(Element.self)
            if let update = element.update { updates.append(update) } else { skipped += 1 }
        }
    }

    private struct Element: Decodable {
        var update: Update?
        init(from decoder: any Decoder) throws { update = try? Update(from: decoder) }
    }
}
