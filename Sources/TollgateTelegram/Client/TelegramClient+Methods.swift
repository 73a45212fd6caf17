/// The Bot API methods Tollgate uses, typed.
extension TelegramClient {
    /// `getMe`: the bot's own user (checks the token).
    public func getMe() async throws(TelegramError) -> User {
        try await call("getMe")
    }

    /// `getUpdates`: long polling. The request may take `timeout` seconds plus a margin.
    ///
    /// - Parameters:
    ///   - offset: last handled `update_id` + 1; confirms every earlier update.
    ///   - limit: 1...100.
    ///   - timeout: seconds to wait for an update, 0...50.
    ///   - allowedUpdates: update kinds to receive; `nil` keeps the previous setting.
    public func getUpdates(
        offset: Int64?, limit: Int = 100, timeout: Int = 30, allowedUpdates: [String]? = nil
    ) async throws(TelegramError) -> UpdateBatch {
        var p = TelegramParameters()
        p.add("offset", offset)
        p.add("limit", min(max(limit, 1), 100))
        let timeout = min(max(timeout, 0), 50)
        p.add("timeout", timeout)
        p.addJSON("allowed_updates", allowedUpdates)
        return try await call("getUpdates", p, timeout: .seconds(timeout) + requestTimeout)
    }

    /// `setWebhook`.
    ///
    /// - Parameter secretToken: 1-256 characters of `A-Z a-z 0-9 _ -`, sent back by Telegram in
    ///   `X-Telegram-Bot-Api-Secret-Token` with every update.
    @discardableResult
    public func setWebhook(
        url: String, secretToken: String?, maxConnections: Int? = nil, allowedUpdates: [String]? = nil,
        dropPendingUpdates: Bool? = nil
    ) async throws(TelegramError) -> Bool {
        var p = TelegramParameters()
        p.add("url", url)
        p.add("secret_token", secretToken)
        p.add("max_connections", maxConnections)
        p.addJSON("allowed_updates", allowedUpdates)
        p.add("drop_pending_updates", dropPendingUpdates)
        return try await call("setWebhook", p)
    }

    /// `deleteWebhook` (switches the bot back to `getUpdates`).
    @discardableResult
    public func deleteWebhook(dropPendingUpdates: Bool? = nil) async throws(TelegramError) -> Bool {
        var p = TelegramParameters()
        p.add("drop_pending_updates", dropPendingUpdates)
        return try await call("deleteWebhook", p)
    }

    /// `getWebhookInfo`.
    public func getWebhookInfo() async throws(TelegramError) -> WebhookInfo {
        try await call("getWebhookInfo")
    }

    /// `sendMessage`.
    public func sendMessage(
        chatID: Int64, text: String, parseMode: String? = nil, replyMarkup: InlineKeyboardMarkup? = nil,
        disableNotification: Bool? = nil, protectContent: Bool? = nil, allowPaidBroadcast: Bool = false
    ) async throws(TelegramError) -> Message {
        var p = TelegramParameters()
        p.add("chat_id", chatID)
        p.add("text", text)
        p.add("parse_mode", parseMode)
        p.addJSON("reply_markup", replyMarkup)
        p.add("disable_notification", disableNotification)
        p.add("protect_content", protectContent)
        // Up to 1,000 messages/s past the broadcasting limits, for 0.1 Star per message above them.
        if allowPaidBroadcast { p.add("allow_paid_broadcast", true) }
        return try await call("sendMessage", p)
    }

    /// `sendPhoto`; an upload's `file_id` is kept in the media cache (see ``sendMedia(_:chatID:file:caption:parseMode:replyMarkup:)``).
    public func sendPhoto(
        chatID: Int64, photo: InputFile, caption: String? = nil, parseMode: String? = nil,
        replyMarkup: InlineKeyboardMarkup? = nil
    ) async throws(TelegramError) -> Message {
        try await sendMedia(.photo, chatID: chatID, file: photo, caption: caption, parseMode: parseMode, replyMarkup: replyMarkup)
    }

    /// `sendVideo`; an upload's `file_id` is kept in the media cache.
    public func sendVideo(
        chatID: Int64, video: InputFile, caption: String? = nil, parseMode: String? = nil,
        replyMarkup: InlineKeyboardMarkup? = nil
    ) async throws(TelegramError) -> Message {
        try await sendMedia(.video, chatID: chatID, file: video, caption: caption, parseMode: parseMode, replyMarkup: replyMarkup)
    }

    /// `sendDocument`; an upload's `file_id` is kept in the media cache.
    public func sendDocument(
        chatID: Int64, document: InputFile, caption: String? = nil, parseMode: String? = nil,
        replyMarkup: InlineKeyboardMarkup? = nil
    ) async throws(TelegramError) -> Message {
        try await sendMedia(.document, chatID: chatID, file: document, caption: caption, parseMode: parseMode, replyMarkup: replyMarkup)
    }

    /// Sends a photo, video or document. For an upload, a `file_id` the media cache holds for the
    /// same bytes is sent instead; after a real upload the returned `file_id` is stored. If Telegram
    /// no longer accepts a cached `file_id` (400), the entry is dropped and the bytes are uploaded.
    public func sendMedia(
        _ kind: InputMedia.Kind, chatID: Int64, file: InputFile, caption: String? = nil, parseMode: String? = nil,
        replyMarkup: InlineKeyboardMarkup? = nil, allowPaidBroadcast: Bool = false
    ) async throws(TelegramError) -> Message {
        let method: String
        switch kind {
        case .photo: method = "sendPhoto"
        case .video: method = "sendVideo"
        case .document: method = "sendDocument"
        }
        func parameters(_ file: InputFile) -> TelegramParameters {
            var p = TelegramParameters()
            p.add("chat_id", chatID)
            p.add(kind.rawValue, file: file)
            p.add("caption", caption)
            p.add("parse_mode", parseMode)
            p.addJSON("reply_markup", replyMarkup)
            if allowPaidBroadcast { p.add("allow_paid_broadcast", true) }
            return p
        }
        guard case .upload(let upload) = file, let cache = mediaCache else {
            return try await call(method, parameters(file))
        }
        let key = upload.contentKey
        if let cached = await cache.fileID(forKey: key) {
            do throws(TelegramError) {
                let message: Message = try await call(method, parameters(.fileID(cached)))
                noteUploadAvoided()
                return message
            } catch where error.code == .badRequest {
                await cache.remove(key: key)
            }
        }
        switch await uploads.join(key) {
        case .follower(let fileID?):
            let message: Message = try await call(method, parameters(.fileID(fileID)))
            noteUploadAvoided()
            return message
        case .follower(nil):
            return try await call(method, parameters(file))
        case .leader:
            do throws(TelegramError) {
                let message: Message = try await call(method, parameters(file))
                if let fileID = message.mediaFileID { await cache.store(fileID: fileID, forKey: key) }
                uploads.finish(key, fileID: message.mediaFileID)
                return message
            } catch {
                uploads.finish(key, fileID: nil)
                throw error
            }
        }
    }

    /// `sendMediaGroup`: 2-10 items shown as an album. Uploads are attached as `attach://fileN`
    /// parts; cached `file_id`s replace uploads the cache knows.
    public func sendMediaGroup(chatID: Int64, media: [InputMedia]) async throws(TelegramError) -> [Message] {
        var items: [MediaItem] = []
        var uploads: [(String, FileUpload, String)] = []  // part name, bytes, content key
        for (index, item) in media.enumerated() {
            var reference: String
            switch item.media {
            case .fileID(let id): reference = id
            case .url(let url): reference = url
            case .upload(let upload):
                let key = upload.contentKey
                if let cache = mediaCache, let cached = await cache.fileID(forKey: key) {
                    reference = cached
                    noteUploadAvoided()
                } else {
                    reference = "attach://file\(index)"
                    uploads.append(("file\(index)", upload, key))
                }
            }
            items.append(MediaItem(type: item.kind.rawValue, media: reference, caption: item.caption))
        }
        var p = TelegramParameters()
        p.add("chat_id", chatID)
        p.addJSON("media", items)
        for (name, upload, _) in uploads { p.addUpload(name, upload) }
        let messages: [Message] = try await call("sendMediaGroup", p)
        if let cache = mediaCache {
            for (name, _, key) in uploads {
                guard let index = Int(name.dropFirst("file".count)), index < messages.count,
                    let fileID = messages[index].mediaFileID
                else { continue }
                await cache.store(fileID: fileID, forKey: key)
            }
        }
        return messages
    }

    /// `answerCallbackQuery`: stops the button's loading animation, optionally with a notice.
    @discardableResult
    public func answerCallbackQuery(id: String, text: String? = nil, showAlert: Bool? = nil) async throws(TelegramError) -> Bool {
        var p = TelegramParameters()
        p.add("callback_query_id", id)
        p.add("text", text)
        p.add("show_alert", showAlert)
        return try await call("answerCallbackQuery", p)
    }

    /// `editMessageText` of a message the bot sent.
    public func editMessageText(
        chatID: Int64, messageID: Int64, text: String, parseMode: String? = nil, replyMarkup: InlineKeyboardMarkup? = nil
    ) async throws(TelegramError) -> Message {
        var p = TelegramParameters()
        p.add("chat_id", chatID)
        p.add("message_id", messageID)
        p.add("text", text)
        p.add("parse_mode", parseMode)
        p.addJSON("reply_markup", replyMarkup)
        return try await call("editMessageText", p)
    }
}

/// One element of `sendMediaGroup`'s `media` array.
struct MediaItem: Encodable {
    var type: String
    var media: String
    var caption: String?
}
