/// The club's door as Telegram has it: private supergroups and channels with members, the bot's
/// administrator rights, invite links (member limit, expiry, revocation, join requests), bans,
/// and the `chat_member` / `chat_join_request` updates they cause — with Telegram's errors.
extension SimWorld {
    struct ClubRecord: Sendable {
        var id: Int64
        var title: String
        /// `supergroup` or `channel`.
        var type: String
        var botIsAdmin: Bool
        var botCanInvite: Bool
        var botCanRestrict: Bool
        /// Status by user id: `creator`, `administrator`, `member`, `left`, `kicked`.
        var members: [Int64: String] = [:]
        var bannedUntil: [Int64: Int64] = [:]
        var links: [String: InviteLinkRecord] = [:]
        /// Pending join requests: user id → the link they used.
        var requests: [Int64: String] = [:]
        var linkCounter = 0
    }

    struct InviteLinkRecord: Sendable {
        var link: String
        var name: String?
        var expireDate: Int64?
        var memberLimit: Int?
        var createsJoinRequest: Bool
        var isRevoked = false
        /// Users who came in with it.
        var joined: [Int64] = []
    }

    var botID: Int64 { botUser["id"]?.int64Value ?? 0 }

    static let notEnoughRightsToInvite = SimRefusal.badRequest("Bad Request: not enough rights to manage chat invite links")
    static let notEnoughRightsToRestrict = SimRefusal.badRequest("Bad Request: not enough rights to restrict/unrestrict chat member")

    // MARK: Bot API

    func getChat(_ p: SimParams) -> Result<SimJSON, SimRefusal> {
        guard case .success(let id?) = p.int("chat_id") else { return .failure(.badRequest("Bad Request: chat_id is empty")) }
        if let club = clubs[id] {
            return .success(.obj([("id", .int(id)), ("type", .string(club.type)), ("title", .string(club.title))]))
        }
        if groups[id] != nil || users[id] != nil { return .success(chatJSON(id)) }
        return .failure(.chatNotFound)
    }

    func getChatMember(_ p: SimParams) -> Result<SimJSON, SimRefusal> {
        let club: ClubRecord
        switch self.club(p) {
        case .success(let c): club = c
        case .failure(let r): return .failure(r)
        }
        guard case .success(let userID?) = p.int("user_id") else { return .failure(.badRequest("Bad Request: user_id is empty")) }
        return memberJSON(club, userID).map { .success($0) } ?? .failure(.badRequest("Bad Request: user not found"))
    }

    mutating func createChatInviteLink(_ p: SimParams) -> Result<SimJSON, SimRefusal> {
        var club: ClubRecord
        switch self.club(p) {
        case .success(let c): club = c
        case .failure(let r): return .failure(r)
        }
        guard club.botIsAdmin, club.botCanInvite else { return .failure(Self.notEnoughRightsToInvite) }
        let name = p.string("name")
        if let name, name.count > 32 { return .failure(.badRequest("Bad Request: invite link name is too long")) }
        guard case .success(let expire) = p.int("expire_date"), case .success(let limit) = p.int("member_limit") else {
            return .failure(.badRequest("Bad Request: invalid parameters"))
        }
        if let expire, expire != 0, expire <= Self.unixTime { return .failure(.badRequest("Bad Request: EXPIRE_DATE_INVALID")) }
        if let limit, !(1...99_999).contains(limit) { return .failure(.badRequest("Bad Request: USAGE_LIMIT_INVALID")) }
        let joinRequest = p.bool("creates_join_request") ?? false
        if joinRequest && limit != nil {
            return .failure(.badRequest("Bad Request: member_limit can't be specified for links requiring administrator approval"))
        }
        club.linkCounter += 1
        let link = "https://t.me/+sim\(-club.id)x\(club.linkCounter)"
        let record = InviteLinkRecord(
            link: link, name: name, expireDate: expire == 0 ? nil : expire, memberLimit: limit.map(Int.init),
            createsJoinRequest: joinRequest)
        club.links[link] = record
        clubs[club.id] = club
        return .success(linkJSON(record))
    }

    mutating func revokeChatInviteLink(_ p: SimParams) -> Result<SimJSON, SimRefusal> {
        var club: ClubRecord
        switch self.club(p) {
        case .success(let c): club = c
        case .failure(let r): return .failure(r)
        }
        guard club.botIsAdmin, club.botCanInvite else { return .failure(Self.notEnoughRightsToInvite) }
        guard let link = p.string("invite_link"), var record = club.links[link] else {
            return .failure(.badRequest("Bad Request: INVITE_HASH_EXPIRED"))
        }
        record.isRevoked = true
        club.links[link] = record
        clubs[club.id] = club
        return .success(linkJSON(record))
    }

    mutating func banChatMember(_ p: SimParams) -> Result<SimJSON, SimRefusal> {
        var club: ClubRecord
        switch self.club(p) {
        case .success(let c): club = c
        case .failure(let r): return .failure(r)
        }
        guard club.botIsAdmin, club.botCanRestrict else { return .failure(Self.notEnoughRightsToRestrict) }
        guard case .success(let userID?) = p.int("user_id"), case .success(let until) = p.int("until_date") else {
            return .failure(.badRequest("Bad Request: user_id is empty"))
        }
        if userID == botID { return .failure(.badRequest("Bad Request: can't restrict self")) }
        let old = club.members[userID] ?? "left"
        if old == "creator" { return .failure(.badRequest("Bad Request: can't remove chat owner")) }
        if old == "administrator" { return .failure(.badRequest("Bad Request: user is an administrator of the chat")) }
        club.members[userID] = "kicked"
        club.bannedUntil[userID] = until ?? 0
        club.requests[userID] = nil
        clubs[club.id] = club
        if old != "kicked" { memberChanged(club.id, userID, from: botID, old: old, new: "kicked") }
        return .success(.bool(true))
    }

    mutating func unbanChatMember(_ p: SimParams) -> Result<SimJSON, SimRefusal> {
        var club: ClubRecord
        switch self.club(p) {
        case .success(let c): club = c
        case .failure(let r): return .failure(r)
        }
        guard club.botIsAdmin, club.botCanRestrict else { return .failure(Self.notEnoughRightsToRestrict) }
        guard case .success(let userID?) = p.int("user_id") else { return .failure(.badRequest("Bad Request: user_id is empty")) }
        let old = club.members[userID] ?? "left"
        if old == "creator" || old == "administrator" {
            return .failure(.badRequest("Bad Request: user is an administrator of the chat"))
        }
        let onlyIfBanned = p.bool("only_if_banned") ?? false
        // Without only_if_banned Telegram guarantees the user is outside afterwards: a member is removed.
        guard old == "kicked" || (!onlyIfBanned && old == "member") else { return .success(.bool(true)) }
        club.members[userID] = "left"
        club.bannedUntil[userID] = nil
        clubs[club.id] = club
        memberChanged(club.id, userID, from: botID, old: old, new: "left")
        return .success(.bool(true))
    }

    mutating func answerJoinRequest(_ p: SimParams, approve: Bool) -> Result<SimJSON, SimRefusal> {
        var club: ClubRecord
        switch self.club(p) {
        case .success(let c): club = c
        case .failure(let r): return .failure(r)
        }
        guard club.botIsAdmin, club.botCanInvite else { return .failure(Self.notEnoughRightsToInvite) }
        guard case .success(let userID?) = p.int("user_id") else { return .failure(.badRequest("Bad Request: user_id is empty")) }
        guard let link = club.requests.removeValue(forKey: userID) else {
            if approve, ["member", "administrator", "creator"].contains(club.members[userID] ?? "") {
                return .failure(.badRequest("Bad Request: USER_ALREADY_PARTICIPANT"))
            }
            return .failure(.badRequest("Bad Request: HIDE_REQUESTER_MISSING"))
        }
        clubs[club.id] = club
        if approve {
            let old = club.members[userID] ?? "left"
            clubs[club.id]?.members[userID] = "member"
            clubs[club.id]?.links[link]?.joined.append(userID)
            memberChanged(club.id, userID, from: botID, old: old, new: "member", link: link, viaJoinRequest: true)
        }
        return .success(.bool(true))
    }

    // MARK: What simulated people do

    /// `userID` opens `link` to `chatID`: joins, asks to join, or is refused with the reason.
    mutating func join(_ userID: Int64, chatID: Int64, link: String) -> SimJoinResult {
        guard var club = clubs[chatID] else { return .refused("no such chat") }
        guard let record = club.links[link] else { return .refused("the link is invalid") }
        if record.isRevoked { return .refused("the link was revoked") }
        if let expire = record.expireDate, expire <= Self.unixTime { return .refused("the link has expired") }
        let old = club.members[userID] ?? "left"
        if ["member", "administrator", "creator"].contains(old) { return .refused("already a member") }
        if old == "kicked" { return .refused("banned from the chat") }
        if record.createsJoinRequest {
            club.requests[userID] = link
            clubs[chatID] = club
            ensureUser(SimUser(id: userID))
            let user = users[userID]!.user.json
            let body = SimJSON.obj([
                ("chat", clubJSON(club)), ("from", user), ("user_chat_id", .int(userID)), ("date", .int(Self.unixTime)),
                ("invite_link", linkJSON(record)),
            ])
            _ = enqueue(kind: "chat_join_request", chatID: userID, body: body)
            return .requested
        }
        if let limit = record.memberLimit, record.joined.count >= limit { return .refused("the link's member limit is reached") }
        club.members[userID] = "member"
        club.links[link]?.joined.append(userID)
        clubs[chatID] = club
        memberChanged(chatID, userID, from: userID, old: old, new: "member", link: link)
        return .joined
    }

    /// `userID` leaves `chatID`.
    mutating func leave(_ userID: Int64, chatID: Int64) {
        guard let old = clubs[chatID]?.members[userID], old == "member" else { return }
        clubs[chatID]?.members[userID] = "left"
        memberChanged(chatID, userID, from: userID, old: old, new: "left")
    }

    // MARK: Helpers

    func club(_ p: SimParams) -> Result<ClubRecord, SimRefusal> {
        guard case .success(let id?) = p.int("chat_id") else { return .failure(.badRequest("Bad Request: chat_id is empty")) }
        guard let club = clubs[id] else { return .failure(.chatNotFound) }
        return .success(club)
    }

    func clubJSON(_ club: ClubRecord) -> SimJSON {
        .obj([("id", .int(club.id)), ("type", .string(club.type)), ("title", .string(club.title))])
    }

    func linkJSON(_ record: InviteLinkRecord) -> SimJSON {
        .obj([
            ("invite_link", .string(record.link)), ("creator", botUser), ("creates_join_request", .bool(record.createsJoinRequest)),
            ("is_primary", .bool(false)), ("is_revoked", .bool(record.isRevoked)), ("name", record.name.map(SimJSON.string)),
            ("expire_date", record.expireDate.map(SimJSON.int)), ("member_limit", record.memberLimit.map { .int(Int64($0)) }),
        ])
    }

    /// `getChatMember`'s answer for `userID`, or nil for a user Telegram never saw.
    func memberJSON(_ club: ClubRecord, _ userID: Int64) -> SimJSON? {
        if userID == botID {
            guard club.botIsAdmin else { return .obj([("status", .string("member")), ("user", botUser)]) }
            return .obj([
                ("status", .string("administrator")), ("user", botUser), ("can_be_edited", .bool(false)),
                ("can_invite_users", .bool(club.botCanInvite)), ("can_restrict_members", .bool(club.botCanRestrict)),
            ])
        }
        guard users[userID] != nil || club.members[userID] != nil else { return nil }
        let user = users[userID]?.user.json ?? SimUser(id: userID).json
        let status = club.members[userID] ?? "left"
        var fields: [(String, SimJSON?)] = [("status", .string(status)), ("user", user)]
        if status == "kicked" { fields.append(("until_date", .int(club.bannedUntil[userID] ?? 0))) }
        if status == "administrator" { fields.append(("can_invite_users", .bool(true))) }
        return .obj(fields)
    }

    /// Queues the `chat_member` update of a status change (delivered only when allowed, as in Telegram).
    mutating func memberChanged(
        _ chatID: Int64, _ userID: Int64, from actor: Int64, old: String, new: String, link: String? = nil,
        viaJoinRequest: Bool = false
    ) {
        guard let club = clubs[chatID] else { return }
        ensureUser(SimUser(id: userID))
        let user = users[userID]!.user.json
        let actorJSON = actor == botID ? botUser : (users[actor]?.user.json ?? user)
        func member(_ status: String) -> SimJSON {
            status == "kicked"
                ? .obj([("status", .string(status)), ("user", user), ("until_date", .int(club.bannedUntil[userID] ?? 0))])
                : .obj([("status", .string(status)), ("user", user)])
        }
        let body = SimJSON.obj([
            ("chat", clubJSON(club)), ("from", actorJSON), ("date", .int(Self.unixTime)), ("old_chat_member", member(old)),
            ("new_chat_member", member(new)), ("invite_link", link.flatMap { club.links[$0] }.map(linkJSON)),
            ("via_join_request", viaJoinRequest ? .bool(true) : nil),
        ])
        _ = enqueue(kind: "chat_member", chatID: userID, body: body)
    }
}

/// What happened when a simulated person opened an invite link.
public enum SimJoinResult: Sendable, Equatable {
    case joined
    /// The link creates join requests: a `chat_join_request` update is queued.
    case requested
    case refused(String)
}

/// A club chat as the simulator holds it, for checks.
public struct SimClubState: Sendable, Equatable {
    public var members: [Int64: String]
    /// Every link created, by its text: who joined with it, whether it is revoked.
    public var links: [String: SimInviteLinkState]
    public var pendingRequests: [Int64: String]
}

public struct SimInviteLinkState: Sendable, Equatable {
    public var name: String?
    public var memberLimit: Int?
    public var expireDate: Int64?
    public var createsJoinRequest: Bool
    public var isRevoked: Bool
    public var joined: [Int64]
}
