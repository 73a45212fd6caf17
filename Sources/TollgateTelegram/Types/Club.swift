/// The Bot API's types for the club's door: invite links, members, join requests and membership
/// changes. Decoding is strict where a decision rests on a value (a member's `status`, a link's
/// text, ids) and lenient elsewhere (a right or a count of the wrong type reads as absent).

/// `ChatInviteLink`.
public struct ChatInviteLink: Codable, Sendable, Hashable {
    /// The link itself (`https://t.me/+...`); for links created by another administrator Telegram
    /// replaces its end with `…`.
    public var inviteLink: String
    public var creator: User?
    public var createsJoinRequest: Bool
    public var isPrimary: Bool
    public var isRevoked: Bool
    /// Up to 32 characters.
    public var name: String?
    /// Unix time in seconds.
    public var expireDate: Int64?
    /// 1...99999 members who may join with it.
    public var memberLimit: Int?
    public var pendingJoinRequestCount: Int?

    public init(
        inviteLink: String, creator: User? = nil, createsJoinRequest: Bool = false, isPrimary: Bool = false,
        isRevoked: Bool = false, name: String? = nil, expireDate: Int64? = nil, memberLimit: Int? = nil,
        pendingJoinRequestCount: Int? = nil
    ) {
        self.inviteLink = inviteLink
        self.creator = creator
        self.createsJoinRequest = createsJoinRequest
        self.isPrimary = isPrimary
        self.isRevoked = isRevoked
        self.name = name
        self.expireDate = expireDate
        self.memberLimit = memberLimit
        self.pendingJoinRequestCount = pendingJoinRequestCount
    }

    enum CodingKeys: String, CodingKey {
        case inviteLink = "invite_link"
        case creator
        case createsJoinRequest = "creates_join_request"
        case isPrimary = "is_primary"
        case isRevoked = "is_revoked"
        case name
        case expireDate = "expire_date"
        case memberLimit = "member_limit"
        case pendingJoinRequestCount = "pending_join_request_count"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inviteLink = try c.decode(String.self, forKey: .inviteLink)
        creator = try? c.decodeIfPresent(User.self, forKey: .creator)
        createsJoinRequest = (try? c.decodeIfPresent(Bool.self, forKey: .createsJoinRequest)) ?? false
        isPrimary = (try? c.decodeIfPresent(Bool.self, forKey: .isPrimary)) ?? false
        isRevoked = (try? c.decodeIfPresent(Bool.self, forKey: .isRevoked)) ?? false
        name = try? c.decodeIfPresent(String.self, forKey: .name)
        expireDate = try? c.decodeIfPresent(Int64.self, forKey: .expireDate)
        memberLimit = try? c.decodeIfPresent(Int.self, forKey: .memberLimit)
        pendingJoinRequestCount = try? c.decodeIfPresent(Int.self, forKey: .pendingJoinRequestCount)
    }
}

/// `ChatMember` (all six of Telegram's variants in one value, told apart by ``status``).
public struct ChatMember: Codable, Sendable, Hashable {
    /// `getChatMember`'s `status`.
    public enum Status: Sendable, Hashable {
        case creator, administrator, member, restricted, left, kicked
        /// A status this version does not know: treated as not inside.
        case other(String)

        public init(_ text: String) {
            switch text {
            case "creator": self = .creator
            case "administrator": self = .administrator
            case "member": self = .member
            case "restricted": self = .restricted
            case "left": self = .left
            case "kicked": self = .kicked
            default: self = .other(String(text.prefix(40)))
            }
        }

        public var text: String {
            switch self {
            case .creator: "creator"
            case .administrator: "administrator"
            case .member: "member"
            case .restricted: "restricted"
            case .left: "left"
            case .kicked: "kicked"
            case .other(let t): t
            }
        }
    }

    public var status: Status
    public var user: User
    /// Administrators: may create invite links.
    public var canInviteUsers: Bool
    /// Administrators: may ban and unban members.
    public var canRestrictMembers: Bool
    /// Restricted members: whether they are inside the chat.
    public var isMember: Bool?
    /// Banned or restricted until (Unix seconds; 0 or absent: for ever).
    public var untilDate: Int64?

    public init(
        status: Status, user: User, canInviteUsers: Bool = false, canRestrictMembers: Bool = false, isMember: Bool? = nil,
        untilDate: Int64? = nil
    ) {
        self.status = status
        self.user = user
        self.canInviteUsers = canInviteUsers
        self.canRestrictMembers = canRestrictMembers
        self.isMember = isMember
        self.untilDate = untilDate
    }

    /// Whether the user is inside the chat now.
    public var isInside: Bool {
        switch status {
        case .creator, .administrator, .member: true
        case .restricted: isMember ?? false
        case .left, .kicked, .other: false
        }
    }

    /// The chat's owner or one of its administrators (never removed by the door).
    public var isAdministrator: Bool { status == .creator || status == .administrator }

    enum CodingKeys: String, CodingKey {
        case status, user
        case canInviteUsers = "can_invite_users"
        case canRestrictMembers = "can_restrict_members"
        case isMember = "is_member"
        case untilDate = "until_date"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = Status(try c.decode(String.self, forKey: .status))
        user = try c.decode(User.self, forKey: .user)
        // The owner has every right.
        let owner = status == .creator
        canInviteUsers = owner || ((try? c.decodeIfPresent(Bool.self, forKey: .canInviteUsers)) ?? false)
        canRestrictMembers = owner || ((try? c.decodeIfPresent(Bool.self, forKey: .canRestrictMembers)) ?? false)
        isMember = try? c.decodeIfPresent(Bool.self, forKey: .isMember)
        untilDate = try? c.decodeIfPresent(Int64.self, forKey: .untilDate)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status.text, forKey: .status)
        try c.encode(user, forKey: .user)
        if status == .administrator {
            try c.encode(canInviteUsers, forKey: .canInviteUsers)
            try c.encode(canRestrictMembers, forKey: .canRestrictMembers)
        }
        try c.encodeIfPresent(isMember, forKey: .isMember)
        try c.encodeIfPresent(untilDate, forKey: .untilDate)
    }
}

/// `ChatMemberUpdated`: the `chat_member` (someone else) and `my_chat_member` (the bot) updates.
public struct ChatMemberUpdated: Codable, Sendable, Hashable {
    public var chat: Chat
    /// Who made the change (the user themselves when they joined or left).
    public var from: User
    public var date: Int64
    public var oldChatMember: ChatMember
    public var newChatMember: ChatMember
    /// The link the user joined with, if they joined with one.
    public var inviteLink: ChatInviteLink?
    public var viaJoinRequest: Bool

    public init(
        chat: Chat, from: User, date: Int64, oldChatMember: ChatMember, newChatMember: ChatMember,
        inviteLink: ChatInviteLink? = nil, viaJoinRequest: Bool = false
    ) {
        self.chat = chat
        self.from = from
        self.date = date
        self.oldChatMember = oldChatMember
        self.newChatMember = newChatMember
        self.inviteLink = inviteLink
        self.viaJoinRequest = viaJoinRequest
    }

    enum CodingKeys: String, CodingKey {
        case chat, from, date
        case oldChatMember = "old_chat_member"
        case newChatMember = "new_chat_member"
        case inviteLink = "invite_link"
        case viaJoinRequest = "via_join_request"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        chat = try c.decode(Chat.self, forKey: .chat)
        from = try c.decode(User.self, forKey: .from)
        date = (try? c.decodeIfPresent(Int64.self, forKey: .date)) ?? 0
        oldChatMember = try c.decode(ChatMember.self, forKey: .oldChatMember)
        newChatMember = try c.decode(ChatMember.self, forKey: .newChatMember)
        inviteLink = try? c.decodeIfPresent(ChatInviteLink.self, forKey: .inviteLink)
        viaJoinRequest = (try? c.decodeIfPresent(Bool.self, forKey: .viaJoinRequest)) ?? false
    }

    /// The user came inside (joined, was added or approved).
    public var joined: Bool { !oldChatMember.isInside && newChatMember.isInside }
    /// The user went out (left, was removed or banned).
    public var left: Bool { oldChatMember.isInside && !newChatMember.isInside }
}

/// `ChatJoinRequest`: someone asked to join with a link that `creates_join_request`.
public struct ChatJoinRequest: Codable, Sendable, Hashable {
    public var chat: Chat
    public var from: User
    /// The private chat with the user, open for 5 minutes for the bot to write to them.
    public var userChatID: Int64
    public var date: Int64
    public var inviteLink: ChatInviteLink?

    public init(chat: Chat, from: User, userChatID: Int64, date: Int64, inviteLink: ChatInviteLink? = nil) {
        self.chat = chat
        self.from = from
        self.userChatID = userChatID
        self.date = date
        self.inviteLink = inviteLink
    }

    enum CodingKeys: String, CodingKey {
        case chat, from, date
        case userChatID = "user_chat_id"
        case inviteLink = "invite_link"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        chat = try c.decode(Chat.self, forKey: .chat)
        from = try c.decode(User.self, forKey: .from)
        userChatID = (try? c.decodeIfPresent(Int64.self, forKey: .userChatID)) ?? from.id
        date = (try? c.decodeIfPresent(Int64.self, forKey: .date)) ?? 0
        inviteLink = try? c.decodeIfPresent(ChatInviteLink.self, forKey: .inviteLink)
    }
}
