/// The synchronous Bot API methods (everything but the waiting part of getUpdates).
extension SimWorld {
    static let defaultAllowed: Set<String> = ["message", "edited_message", "callback_query", "channel_post"]

    mutating func getMe() -> Result<SimJSON, SimRefusal> { .success(botUser) }

    // MARK: Sending

    mutating func sendMessage(_ p: SimParams) -> Result<SimJSON, SimRefusal> {
        let chatID: Int64
        switch chatIDParam(p) {
        case .success(let id): chatID = id
        case .failure(let r): return .failure(r)
        }
        if let refusal = checkWritable(chatID) { return .failure(refusal) }
        guard let text = p.string("text"), !text.trimmingSpacesAndNewlines().isEmpty else {
            return .failure(.badRequest("Bad Request: message text is empty"))
        }
        guard text.utf16.count <= 4096 else { return .failure(.badRequest("Bad Request: message is too long")) }
        let markup: (json: SimJSON?, buttons: [[SimSentMessage.Button]])
        switch keyboard(p) {
        case .success(let k): markup = k
        case .failure(let r): return .failure(r)
        }
        if let refusal = admit(chatID, cost: 1, p) { return .failure(refusal) }
        let messageID = allocateMessageID(chatID)
        let json = SimJSON.obj([
            ("message_id", .int(messageID)), ("from", botUser), ("chat", chatJSON(chatID)),
            ("date", .int(Self.unixTime)), ("text", .string(text)), ("reply_markup", markup.json),
        ])
        record(json, method: "sendMessage", chatID: chatID, messageID: messageID, text: text, buttons: markup.buttons)
        return .success(json)
    }

    mutating func sendMedia(_ kind: String, method: String, _ p: SimParams) -> Result<SimJSON, SimRefusal> {
        let chatID: Int64
        switch chatIDParam(p) {
        case .success(let id): chatID = id
        case .failure(let r): return .failure(r)
        }
        if let refusal = checkWritable(chatID) { return .failure(refusal) }
        let caption = p.string("caption")
        if let caption, caption.utf16.count > 1024 {
            return .failure(.badRequest("Bad Request: message caption is too long"))
        }
        let markup: (json: SimJSON?, buttons: [[SimSentMessage.Button]])
        switch keyboard(p) {
        case .success(let k): markup = k
        case .failure(let r): return .failure(r)
        }
        let fileID: String
        switch resolveFile(kind: kind, name: kind, p, attachParams: p) {
        case .success(let id): fileID = id
        case .failure(let r): return .failure(r)
        }
        if let refusal = admit(chatID, cost: 1, p) { return .failure(refusal) }
        let messageID = allocateMessageID(chatID)
        let json = SimJSON.obj([
            ("message_id", .int(messageID)), ("from", botUser), ("chat", chatJSON(chatID)),
            ("date", .int(Self.unixTime)), (kind, mediaJSON(kind, fileID)), ("caption", caption.map(SimJSON.string)),
            ("reply_markup", markup.json),
        ])
        record(
            json, method: method, chatID: chatID, messageID: messageID, caption: caption, mediaKind: kind,
            fileID: fileID, buttons: markup.buttons)
        return .success(json)
    }

    mutating func sendMediaGroup(_ p: SimParams) -> Result<SimJSON, SimRefusal> {
        let chatID: Int64
        switch chatIDParam(p) {
        case .success(let id): chatID = id
        case .failure(let r): return .failure(r)
        }
        if let refusal = checkWritable(chatID) { return .failure(refusal) }
        guard let items = p.json("media")?.arrayValue else {
            return .failure(.badRequest("Bad Request: parameter \"media\" is required"))
        }
        guard (2...10).contains(items.count) else {
            return .failure(.badRequest("Bad Request: wrong number of media specified (2-10)"))
        }
        var resolved: [(kind: String, fileID: String, caption: String?)] = []
        for item in items {
            guard let kind = item["type"]?.stringValue, ["photo", "video", "document"].contains(kind),
                let media = item["media"]?.stringValue
            else { return .failure(.badRequest("Bad Request: can't parse InputMedia")) }
            let caption = item["caption"]?.stringValue
            if let caption, caption.utf16.count > 1024 {
                return .failure(.badRequest("Bad Request: message caption is too long"))
            }
            let fileID: String
            if media.hasPrefix("attach://") {
                guard let part = p.file(String(media.dropFirst("attach://".count))) else {
                    return .failure(.badRequest("Bad Request: can't find attached file \"\(media)\""))
                }
                fileID = storeUpload(kind: kind, part.bytes.count, name: part.filename, mime: part.contentType)
            } else {
                switch reference(kind: kind, media) {
                case .success(let id): fileID = id
                case .failure(let r): return .failure(r)
                }
            }
            resolved.append((kind, fileID, caption))
        }
        if let refusal = admit(chatID, cost: resolved.count, p) { return .failure(refusal) }
        mediaGroupCounter += 1
        let groupID = "mg\(mediaGroupCounter)"
        var messages: [SimJSON] = []
        for item in resolved {
            let messageID = allocateMessageID(chatID)
            let json = SimJSON.obj([
                ("message_id", .int(messageID)), ("from", botUser), ("chat", chatJSON(chatID)),
                ("date", .int(Self.unixTime)), ("media_group_id", .string(groupID)),
                (item.kind, mediaJSON(item.kind, item.fileID)), ("caption", item.caption.map(SimJSON.string)),
            ])
            record(
                json, method: "sendMediaGroup", chatID: chatID, messageID: messageID, caption: item.caption,
                mediaKind: item.kind, fileID: item.fileID, buttons: [], countAccepted: false)
            messages.append(json)
        }
        noteAccepted(count: resolved.count, at: now)
        return .success(.array(messages))
    }

    mutating func editMessageText(_ p: SimParams) -> Result<SimJSON, SimRefusal> {
        let chatID: Int64
        switch chatIDParam(p) {
        case .success(let id): chatID = id
        case .failure(let r): return .failure(r)
        }
        if let refusal = checkWritable(chatID) { return .failure(refusal) }
        guard case .success(let idValue) = p.int("message_id"), let messageID = idValue,
            let existing = botMessages[chatID]?[messageID]
        else { return .failure(.badRequest("Bad Request: message to edit not found")) }
        guard let text = p.string("text"), !text.trimmingSpacesAndNewlines().isEmpty else {
            return .failure(.badRequest("Bad Request: message text is empty"))
        }
        guard text.utf16.count <= 4096 else { return .failure(.badRequest("Bad Request: message is too long")) }
        let markup: (json: SimJSON?, buttons: [[SimSentMessage.Button]])
        switch keyboard(p) {
        case .success(let k): markup = k
        case .failure(let r): return .failure(r)
        }
        if existing["text"]?.stringValue == text, existing["reply_markup"] == markup.json {
            return .failure(
                .badRequest(
                    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
                ))
        }
        if let refusal = admit(chatID, cost: 1) { return .failure(refusal) }
        let json = SimJSON.obj([
            ("message_id", .int(messageID)), ("from", botUser), ("chat", chatJSON(chatID)),
            ("date", existing["date"] ?? .int(Self.unixTime)), ("edit_date", .int(Self.unixTime)),
            ("text", .string(text)), ("reply_markup", markup.json),
        ])
        record(json, method: "editMessageText", chatID: chatID, messageID: messageID, text: text, buttons: markup.buttons)
        return .success(json)
    }

    mutating func answerCallbackQuery(_ p: SimParams) -> Result<SimJSON, SimRefusal> {
        guard let id = p.string("callback_query_id"), openCallbacks.remove(id) != nil else {
            return .failure(
                .badRequest("Bad Request: query is too old and response timeout expired or query ID is invalid"))
        }
        if let text = p.string("text"), text.utf16.count > 200 {
            return .failure(.badRequest("Bad Request: MESSAGE_TOO_LONG"))
        }
        return .success(.bool(true))
    }

    // MARK: Webhook

    mutating func setWebhook(_ p: SimParams, allowInsecure: Bool) -> Result<SimJSON, SimRefusal> {
        let url = p.string("url") ?? ""
        if url.isEmpty { return deleteWebhook(p) }
        guard url.hasPrefix("https://") || (allowInsecure && url.hasPrefix("http://")) else {
            return .failure(.badRequest("Bad Request: bad webhook: HTTPS url must be provided for webhook"))
        }
        let secret = p.string("secret_token")
        if let secret {
            let valid = (1...256).contains(secret.utf8.count) && secret.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
            }
            guard valid else { return .failure(.badRequest("Bad Request: secret token contains unallowed characters")) }
        }
        var maxConnections = 40
        switch p.int("max_connections") {
        case .success(let v?): maxConnections = Int(min(max(v, 1), 100))
        case .success(nil): break
        case .failure(let r): return .failure(r)
        }
        if let allowed = p.json("allowed_updates")?.arrayValue {
            allowedUpdates = allowed.compactMap(\.stringValue)
        }
        if p.bool("drop_pending_updates") == true { pending.removeAll { !$0.inFlight } }
        webhook = Webhook(url: url, secret: secret, maxConnections: maxConnections)
        return .success(.bool(true))
    }

    mutating func deleteWebhook(_ p: SimParams) -> Result<SimJSON, SimRefusal> {
        webhook = nil
        if p.bool("drop_pending_updates") == true { pending.removeAll { !$0.inFlight } }
        for index in pending.indices {
            pending[index].inFlight = false
            pending[index].retryAt = 0
        }
        return .success(.bool(true))
    }

    func webhookInfo() -> SimJSON {
        .obj([
            ("url", .string(webhook?.url ?? "")), ("has_custom_certificate", .bool(false)),
            ("pending_update_count", .int(Int64(pending.count))),
            ("max_connections", webhook.map { .int(Int64($0.maxConnections)) }),
            ("allowed_updates", allowedUpdates.map { .array($0.map(SimJSON.string)) }),
            ("last_error_date", webhook?.lastErrorDate.map(SimJSON.int)),
            ("last_error_message", webhook?.lastErrorMessage.map(SimJSON.string)),
        ])
    }

    // MARK: Helpers

    func chatIDParam(_ p: SimParams) -> Result<Int64, SimRefusal> {
        switch p.int("chat_id") {
        case .success(let v?): return .success(v)
        case .success(nil): return .failure(.badRequest("Bad Request: chat_id is empty"))
        case .failure:
            // "@username" targets: the simulator knows no public usernames.
            return .failure(.chatNotFound)
        }
    }

    /// The inline keyboard of `reply_markup`, validated.
    func keyboard(_ p: SimParams) -> Result<(json: SimJSON?, buttons: [[SimSentMessage.Button]]), SimRefusal> {
        guard p.values["reply_markup"] != nil else { return .success((nil, [])) }
        guard let markup = p.json("reply_markup"), let rows = markup["inline_keyboard"]?.arrayValue else {
            return .failure(.badRequest("Bad Request: can't parse reply keyboard markup JSON object"))
        }
        var buttons: [[SimSentMessage.Button]] = []
        var jsonRows: [SimJSON] = []
        for row in rows {
            guard let items = row.arrayValue else {
                return .failure(.badRequest("Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object"))
            }
            var buttonRow: [SimSentMessage.Button] = []
            var jsonRow: [SimJSON] = []
            for item in items {
                guard let text = item["text"]?.stringValue, !text.isEmpty else {
                    return .failure(.badRequest("Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"))
                }
                let data = item["callback_data"]?.stringValue
                let url = item["url"]?.stringValue
                if let data, !(1...64).contains(data.utf8.count) {
                    return .failure(.badRequest("Bad Request: BUTTON_DATA_INVALID"))
                }
                guard data != nil || url != nil else {
                    return .failure(.badRequest("Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"))
                }
                buttonRow.append(SimSentMessage.Button(text: text, callbackData: data, url: url))
                jsonRow.append(.obj([("text", .string(text)), ("callback_data", data.map(SimJSON.string)), ("url", url.map(SimJSON.string))]))
            }
            buttons.append(buttonRow)
            jsonRows.append(.array(jsonRow))
        }
        return .success((.obj([("inline_keyboard", .array(jsonRows))]), buttons))
    }

    /// The `file_id` for parameter `name`: an upload, a known `file_id`, or a URL.
    mutating func resolveFile(kind: String, name: String, _ p: SimParams, attachParams: SimParams) -> Result<String, SimRefusal> {
        if let part = p.file(name) {
            return .success(storeUpload(kind: kind, part.bytes.count, name: part.filename, mime: part.contentType))
        }
        guard let value = p.string(name), !value.isEmpty else {
            return .failure(.badRequest("Bad Request: there is no \(name) in the request"))
        }
        return reference(kind: kind, value)
    }

    mutating func reference(kind: String, _ value: String) -> Result<String, SimRefusal> {
        if value.hasPrefix("http://") || value.hasPrefix("https://") {
            if let known = urlFiles[value] { return .success(known) }
            let id = newFileID(kind: kind, size: 1024, name: nil, mime: nil)
            urlFiles[value] = id
            return .success(id)
        }
        guard files[value] != nil else {
            return .failure(.badRequest("Bad Request: wrong file identifier/HTTP URL specified"))
        }
        return .success(value)
    }

    mutating func storeUpload(kind: String, _ size: Int, name: String?, mime: String?) -> String {
        counters.uploads += 1
        return newFileID(kind: kind, size: size, name: name, mime: mime)
    }

    mutating func newFileID(kind: String, size: Int, name: String?, mime: String?) -> String {
        fileCounter += 1
        let id = "SIM\(kind.prefix(1).uppercased())\(fileCounter)AgAD-\(fileCounter * 7919)"
        files[id] = FileRecord(kind: kind, uniqueID: "u\(fileCounter)", size: size, name: name, mimeType: mime)
        return id
    }

    func mediaJSON(_ kind: String, _ fileID: String) -> SimJSON {
        let file = files[fileID] ?? FileRecord(kind: kind, uniqueID: "u0", size: 0)
        switch kind {
        case "photo":
            return .array([
                .obj([
                    ("file_id", .string(fileID)), ("file_unique_id", .string(file.uniqueID)), ("file_size", .int(Int64(file.size))),
                    ("width", .int(1280)), ("height", .int(720)),
                ])
            ])
        case "video":
            return .obj([
                ("file_id", .string(fileID)), ("file_unique_id", .string(file.uniqueID)), ("width", .int(640)),
                ("height", .int(360)), ("duration", .int(5)), ("file_size", .int(Int64(file.size))),
            ])
        default:
            return .obj([
                ("file_id", .string(fileID)), ("file_unique_id", .string(file.uniqueID)),
                ("file_name", file.name.map(SimJSON.string)), ("mime_type", file.mimeType.map(SimJSON.string)),
                ("file_size", .int(Int64(file.size))),
            ])
        }
    }

    /// Flood control for `cost` messages to `chatID`; a refusal is counted. With
    /// `allow_paid_broadcast` the free limit is exceeded for a fee (counted) up to the paid one.
    mutating func admit(_ chatID: Int64, cost: Int, _ p: SimParams) -> SimRefusal? {
        guard p.bool("allow_paid_broadcast") == true else { return admit(chatID, cost: cost) }
        switch flood.admitPaid(chatID: chatID, cost: cost, now: now) {
        case .success(let charged):
            counters.paidBroadcastMessages += max(cost, 1)
            counters.paidBroadcastCharged += charged
            return nil
        case .failure(let reason):
            counters.floodRefusals += 1
            counters.floodRefusalsByScope[reason.scope.rawValue, default: 0] += 1
            let seconds = max(1, Int(reason.wait.rounded(.up)))
            return SimRefusal(status: 429, description: "Too Many Requests: retry after \(seconds)", retryAfter: seconds)
        }
    }

    /// Flood control for `cost` messages to `chatID`; a refusal is counted.
    mutating func admit(_ chatID: Int64, cost: Int) -> SimRefusal? {
        guard let (scope, wait) = flood.admit(chatID: chatID, cost: cost, now: now) else { return nil }
        counters.floodRefusals += 1
        counters.floodRefusalsByScope[scope.rawValue, default: 0] += 1
        let seconds = max(1, Int(wait.rounded(.up)))
        return SimRefusal(status: 429, description: "Too Many Requests: retry after \(seconds)", retryAfter: seconds)
    }

    mutating func record(
        _ json: SimJSON, method: String, chatID: Int64, messageID: Int64, text: String? = nil, caption: String? = nil,
        mediaKind: String? = nil, fileID: String? = nil, buttons: [[SimSentMessage.Button]], countAccepted: Bool = true
    ) {
        let at = now
        botMessages[chatID, default: [:]][messageID] = json
        sentByChat[chatID, default: []].append(sent.count)
        sent.append(
            SimSentMessage(
                method: method, chatID: chatID, messageID: messageID, text: text, caption: caption, mediaKind: mediaKind,
                fileID: fileID, buttons: buttons, at: at))
        if countAccepted { noteAccepted(count: 1, at: at) }
    }
}

extension String {
    func trimmingSpacesAndNewlines() -> Substring {
        var s = self[...]
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return s
    }
}
