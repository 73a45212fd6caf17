#if canImport(Glibc)
    import Glibc
#endif

/// Everything the simulated Telegram knows: users, groups, the messages the bot sent, pending
/// updates, the webhook, flood-control state and counters. Mutated only under the simulator's lock.
struct SimWorld: Sendable {
    struct UserRecord: Sendable {
        var user: SimUser
        var blocked = false
        var deactivated = false
    }

    struct GroupRecord: Sendable {
        var id: Int64
        var title: String
        var supergroup: Bool
        var kicked = false
        var migratedTo: Int64?
    }

    struct PendingUpdate: Sendable {
        var id: Int64
        var kind: String
        var chatID: Int64
        var json: [UInt8]
        var attempts = 0
        var retryAt: Double = 0
        var inFlight = false
    }

    struct Webhook: Sendable {
        var url: String
        var secret: String?
        var maxConnections: Int
        var lastErrorDate: Int64?
        var lastErrorMessage: String?
    }

    struct FileRecord: Sendable {
        var kind: String
        var uniqueID: String
        var size: Int
        var name: String?
        var mimeType: String?
    }

    let token: String
    let botUser: SimJSON
    let startedAt = ContinuousClock.now
    var users: [Int64: UserRecord] = [:]
    var groups: [Int64: GroupRecord] = [:]
    var clubs: [Int64: ClubRecord] = [:]
    var nextMessageID: [Int64: Int64] = [:]
    var botMessages: [Int64: [Int64: SimJSON]] = [:]
    var sent: [SimSentMessage] = []
    /// Indexes into `sent`, by chat.
    var sentByChat: [Int64: [Int]] = [:]
    var pending: [PendingUpdate] = []
    var nextUpdateID: Int64 = 100_000
    var allowedUpdates: [String]?
    var webhook: Webhook?
    var poll: (id: Int, event: SimEvent<PollOutcome>)?
    var pollCounter = 0
    var files: [String: FileRecord] = [:]
    var urlFiles: [String: String] = [:]
    var fileCounter = 0
    var openCallbacks: Set<String> = []
    var callbackCounter = 0
    var mediaGroupCounter = 0
    var flood: SimFloodControl
    var counters = SimTelegramCounters()
    var recentAccepts: [Double] = []
    var recentHead = 0

    init(token: String, botUsername: String, botFirstName: String, limits: SimFloodLimits) {
        self.token = token
        let botID = Int64(token.split(separator: ":").first ?? "") ?? 1
        botUser = .obj([
            ("id", .int(botID)), ("is_bot", .bool(true)), ("first_name", .string(botFirstName)),
            ("username", .string(botUsername)), ("can_join_groups", .bool(true)),
            ("can_read_all_group_messages", .bool(false)), ("supports_inline_queries", .bool(false)),
        ])
        flood = SimFloodControl(limits: limits)
    }

    /// Seconds since the simulator started.
    var now: Double {
        let (s, atto) = (ContinuousClock.now - startedAt).components
        return Double(s) + Double(atto) / 1e18
    }

    static var unixTime: Int64 { Int64(time(nil)) }

    // MARK: Users and chats

    mutating func ensureUser(_ user: SimUser) {
        if users[user.id] == nil { users[user.id] = UserRecord(user: user) }
    }

    func chatJSON(_ chatID: Int64) -> SimJSON {
        if let group = groups[chatID] {
            return .obj([
                ("id", .int(chatID)), ("title", .string(group.title)),
                ("type", .string(group.supergroup ? "supergroup" : "group")),
            ])
        }
        let user = users[chatID]?.user ?? SimUser(id: chatID)
        return .obj([
            ("id", .int(chatID)), ("first_name", .string(user.firstName)),
            ("last_name", user.lastName.map(SimJSON.string)), ("username", user.username.map(SimJSON.string)),
            ("type", .string("private")),
        ])
    }

    /// Whether the bot may write to `chatID` now (403/400 otherwise).
    func checkWritable(_ chatID: Int64) -> SimRefusal? {
        if chatID < 0 {
            guard let group = groups[chatID] else { return .chatNotFound }
            if group.kicked { return .forbidden("Forbidden: bot was kicked from the group chat") }
            if let to = group.migratedTo {
                return SimRefusal(
                    status: 400, description: "Bad Request: group chat was upgraded to a supergroup chat", migrateTo: to)
            }
            return nil
        }
        guard let record = users[chatID] else { return .chatNotFound }
        if record.deactivated { return .forbidden("Forbidden: user is deactivated") }
        if record.blocked { return .forbidden("Forbidden: bot was blocked by the user") }
        return nil
    }

    // MARK: Incoming updates

    /// Queues an update; returns its id.
    mutating func enqueue(kind: String, chatID: Int64, body: SimJSON) -> Int64 {
        nextUpdateID += 1
        let id = nextUpdateID
        let json = SimJSON.object([("update_id", .int(id)), (kind, body)]).encoded()
        pending.append(PendingUpdate(id: id, kind: kind, chatID: chatID, json: json))
        return id
    }

    /// A user writes `text` in `chatID` (their private chat by default). Writing to the bot
    /// unblocks it, as in Telegram.
    mutating func userMessage(_ user: SimUser, text: String, chatID: Int64?) -> Int64 {
        ensureUser(user)
        users[user.id]?.blocked = false
        let chat = chatID ?? user.id
        let messageID = allocateMessageID(chat)
        var entities: SimJSON?
        if text.hasPrefix("/") {
            let length = text.split(separator: " ", maxSplits: 1).first?.utf16.count ?? 0
            entities = .array([.obj([("offset", .int(0)), ("length", .int(Int64(length))), ("type", .string("bot_command"))])])
        }
        let body = SimJSON.obj([
            ("message_id", .int(messageID)), ("from", users[user.id]!.user.json), ("chat", chatJSON(chat)),
            ("date", .int(Self.unixTime)), ("text", .string(text)), ("entities", entities),
        ])
        return enqueue(kind: "message", chatID: chat, body: body)
    }

    /// A user presses the button with `data` on a bot message in their chat (the newest such
    /// message unless `messageID` is given); `nil` when there is no such button.
    mutating func userPress(_ user: SimUser, data: String, messageID: Int64?, chatID: Int64?) -> Int64? {
        ensureUser(user)
        let chat = chatID ?? user.id
        let candidates = (botMessages[chat] ?? [:]).filter { id, message in
            (messageID == nil || messageID == id) && Self.callbackData(of: message).contains(data)
        }
        guard let (_, message) = candidates.max(by: { $0.key < $1.key }) else { return nil }
        callbackCounter += 1
        let queryID = "\(user.id)\(String(callbackCounter, radix: 10))"
        openCallbacks.insert(queryID)
        let body = SimJSON.obj([
            ("id", .string(queryID)), ("from", users[user.id]!.user.json), ("message", message),
            ("chat_instance", .string("ci\(chat)")), ("data", .string(data)),
        ])
        return enqueue(kind: "callback_query", chatID: chat, body: body)
    }

    static func callbackData(of message: SimJSON) -> [String] {
        guard let rows = message["reply_markup"]?["inline_keyboard"]?.arrayValue else { return [] }
        return rows.flatMap { $0.arrayValue ?? [] }.compactMap { $0["callback_data"]?.stringValue }
    }

    mutating func allocateMessageID(_ chatID: Int64) -> Int64 {
        let id = (nextMessageID[chatID] ?? 0) + 1
        nextMessageID[chatID] = id
        return id
    }

    // MARK: Accepted messages

    mutating func noteAccepted(count: Int, at time: Double) {
        counters.messagesAccepted += count
        for _ in 0..<count { recentAccepts.append(time) }
        while recentHead < recentAccepts.count, recentAccepts[recentHead] <= time - 1.0 { recentHead += 1 }
        counters.maxMessagesInOneSecond = max(counters.maxMessagesInOneSecond, recentAccepts.count - recentHead)
        if recentHead > 4096 {
            recentAccepts.removeFirst(recentHead)
            recentHead = 0
        }
    }
}

/// How a waiting long poll ended.
enum PollOutcome: Sendable {
    case updates, conflict, timeout, ended
}
