/// The Bot API methods of the club's door, typed. The bot must be an administrator of the chat:
/// `can_invite_users` for links and join requests, `can_restrict_members` for removal.
///
/// Parameters Telegram would refuse are refused here first with ``TelegramError/Code/badRequest``
/// and no request (a `name` over 32 characters, a `member_limit` outside 1...99999, a limit
/// together with `creates_join_request`).
///
/// Note that Telegram answers `getChatMember` for a user it does not know with 400 "user not
/// found", which ``TelegramError/Code/chatNotFound`` names: for these methods it is about the
/// user in that chat, not a private chat to suppress.
extension TelegramClient {
    /// `getChat`: the chat's id, type and title (checks that the bot can see it).
    public func getChat(chatID: Int64) async throws(TelegramError) -> Chat {
        var p = TelegramParameters()
        p.add("chat_id", chatID)
        return try await call("getChat", p)
    }

    /// `getChatMember`: a user's status in a chat (the bot's own, for its rights).
    public func getChatMember(chatID: Int64, userID: Int64) async throws(TelegramError) -> ChatMember {
        var p = TelegramParameters()
        p.add("chat_id", chatID)
        p.add("user_id", userID)
        return try await call("getChatMember", p)
    }

    /// `createChatInviteLink`.
    ///
    /// - Parameters:
    ///   - name: up to 32 characters, shown to administrators.
    ///   - expireDate: Unix seconds.
    ///   - memberLimit: 1...99999; not with `createsJoinRequest`.
    public func createChatInviteLink(
        chatID: Int64, name: String? = nil, expireDate: Int64? = nil, memberLimit: Int? = nil, createsJoinRequest: Bool = false
    ) async throws(TelegramError) -> ChatInviteLink {
        let method = "createChatInviteLink"
        if let name, name.count > 32 {
            throw TelegramError(code: .badRequest, method: method, detail: "name is \(name.count) characters (at most 32)")
        }
        if let memberLimit, !(1...99_999).contains(memberLimit) {
            throw TelegramError(code: .badRequest, method: method, detail: "member_limit \(memberLimit) is outside 1...99999")
        }
        if memberLimit != nil && createsJoinRequest {
            throw TelegramError(
                code: .badRequest, method: method, detail: "member_limit and creates_join_request exclude each other")
        }
        var p = TelegramParameters()
        p.add("chat_id", chatID)
        p.add("name", name)
        p.add("expire_date", expireDate)
        p.add("member_limit", memberLimit)
        if createsJoinRequest { p.add("creates_join_request", true) }
        return try await call(method, p)
    }

    /// `revokeChatInviteLink`: the link stops working; returns it with `is_revoked`.
    public func revokeChatInviteLink(chatID: Int64, inviteLink: String) async throws(TelegramError) -> ChatInviteLink {
        var p = TelegramParameters()
        p.add("chat_id", chatID)
        p.add("invite_link", inviteLink)
        return try await call("revokeChatInviteLink", p)
    }

    /// `banChatMember`: removes the user and keeps them out (until `untilDate`, or for ever).
    @discardableResult
    public func banChatMember(
        chatID: Int64, userID: Int64, untilDate: Int64? = nil, revokeMessages: Bool? = nil
    ) async throws(TelegramError) -> Bool {
        var p = TelegramParameters()
        p.add("chat_id", chatID)
        p.add("user_id", userID)
        p.add("until_date", untilDate)
        p.add("revoke_messages", revokeMessages)
        return try await call("banChatMember", p)
    }

    /// `unbanChatMember`; with `onlyIfBanned` a user who is not banned is left as they are (a
    /// member is not removed).
    @discardableResult
    public func unbanChatMember(chatID: Int64, userID: Int64, onlyIfBanned: Bool = true) async throws(TelegramError) -> Bool {
        var p = TelegramParameters()
        p.add("chat_id", chatID)
        p.add("user_id", userID)
        p.add("only_if_banned", onlyIfBanned)
        return try await call("unbanChatMember", p)
    }

    /// `approveChatJoinRequest`.
    @discardableResult
    public func approveChatJoinRequest(chatID: Int64, userID: Int64) async throws(TelegramError) -> Bool {
        var p = TelegramParameters()
        p.add("chat_id", chatID)
        p.add("user_id", userID)
        return try await call("approveChatJoinRequest", p)
    }

    /// `declineChatJoinRequest`.
    @discardableResult
    public func declineChatJoinRequest(chatID: Int64, userID: Int64) async throws(TelegramError) -> Bool {
        var p = TelegramParameters()
        p.add("chat_id", chatID)
        p.add("user_id", userID)
        return try await call("declineChatJoinRequest", p)
    }
}
