/// A Telegram user or bot (the parts Tollgate uses; unknown fields are ignored).
public struct User: Codable, Sendable, Hashable {
    public var id: Int64
    public var isBot: Bool
    public var firstName: String
    public var lastName: String?
    public var username: String?
    public var languageCode: String?

    public init(
        id: Int64, isBot: Bool = false, firstName: String, lastName: String? = nil, username: String? = nil,
        languageCode: String? = nil
    ) {
        self.id = id
        self.isBot = isBot
        self.firstName = firstName
        self.lastName = lastName
        self.username = username
        self.languageCode = languageCode
    }

    enum CodingKeys: String, CodingKey {
        case id
        case isBot = "is_bot"
        case firstName = "first_name"
        case lastName = "last_name"
        case username
        case languageCode = "language_code"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int64.self, forKey: .id)
        isBot = try c.decodeIfPresent(Bool.self, forKey: .isBot) ?? false
        firstName = try c.decodeIfPresent(String.self, forKey: .firstName) ?? ""
        lastName = try c.decodeIfPresent(String.self, forKey: .lastName)
        username = try c.decodeIfPresent(String.self, forKey: .username)
        languageCode = try c.decodeIfPresent(String.self, forKey: .languageCode)
    }
}

/// A chat: private (with one user), group, supergroup or channel.
public struct Chat: Codable, Sendable, Hashable {
    public var id: Int64
    /// `private`, `group`, `supergroup` or `channel`.
    public var type: String
    public var title: String?
    public var username: String?
    public var firstName: String?

    public init(id: Int64, type: String, title: String? = nil, username: String? = nil, firstName: String? = nil) {
        self.id = id
        self.type = type
        self.title = title
        self.username = username
        self.firstName = firstName
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int64.self, forKey: .id)
        type = (try? c.decodeIfPresent(String.self, forKey: .type)) ?? "private"
        title = try? c.decodeIfPresent(String.self, forKey: .title)
        username = try? c.decodeIfPresent(String.self, forKey: .username)
        firstName = try? c.decodeIfPresent(String.self, forKey: .firstName)
    }

    /// Whether the chat is a group or supergroup (Telegram's 20 messages per minute apply).
    public var isGroup: Bool { type == "group" || type == "supergroup" }

    enum CodingKeys: String, CodingKey {
        case id, type, title, username
        case firstName = "first_name"
    }
}
