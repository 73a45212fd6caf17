import Foundation
import Logging
import Synchronization
import TollgateCore
import TollgateRedis
import TollgateTelegram

/// The club's door: personal invite links for entitled users, join requests answered by the
/// ledger, and members who are not entitled shown out. Every decision reads the ledger
/// (``EntitlementLedger``); every Telegram call is idempotent, so a replay of the same update or
/// job repeats nothing that matters.
public final class ClubDoor: Sendable {
    public struct Counters: Sendable, Equatable {
        public var linksCreated = 0
        public var linksReused = 0
        public var linksRevoked = 0
        public var requestsApproved = 0
        public var requestsDeclined = 0
        /// Members removed because they were not entitled (a link meant for someone else).
        public var removedUnentitled = 0
        public var joinsEntitled = 0
        /// Members shown out because their paid period ended.
        public var removedLapsed = 0
        /// Periods that ended (the ledger's entitlement taken away by a lapse).
        public var lapses = 0
        /// Periods renewed: found in the row at a reminder or a lapse, or paid again after one.
        public var renewals = 0
        /// Entitled users found banned from a club chat when a link was issued (a show-out whose
        /// unban failed, or an operator's ban), unbanned so the link lets them in.
        public var unbannedEntitled = 0
    }

    public let config: ClubConfiguration
    let telegram: TelegramClient
    public let ledger: EntitlementLedger
    let redis: RedisClientPool
    let keys: KeySpace
    let logger: Logger
    let now: @Sendable () -> Int64
    private let counters = Mutex(Counters())

    public init(
        config: ClubConfiguration, telegram: TelegramClient, ledger: EntitlementLedger, redis: RedisClientPool, keys: KeySpace,
        logger: Logger, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) {
        self.config = config
        self.telegram = telegram
        self.ledger = ledger
        self.redis = redis
        self.keys = keys
        self.logger = logger
        self.now = now
    }

    public var stats: Counters { counters.withLock { $0 } }

    func count(_ field: WritableKeyPath<Counters, Int>) { counters.withLock { $0[keyPath: field] += 1 } }

    /// A link is reused while it has at least this long to live: a user who opens it a minute
    /// later still gets in.
    static let reuseMargin: Int64 = 600

    /// The links that let `user` in, one per club chat: their live personal link (created when
    /// there is none or it is about to expire), or in `join_request` mode the club's shared link.
    /// Only the chats of the offer they were granted (the flow's `topics`).
    public func invites(for user: Int64) async throws -> [String] {
        var links: [String] = []
        let entry = try await ledger.entry(user)
        // Not entitled (revoked, lapsed): no link — the ones held stop working.
        let chats: [Int64] =
            if Self.mayStay(entry, nowMs: now() * 1000) {
                config.chats(of: entry.offer)
            } else if config.allowList.contains(user) {
                config.chats
            } else {
                []
            }
        // A ban left over (a show-out whose unban a Telegram failure cut off, retried when the
        // user was already out) would make any link useless: an entitled user is let in. To keep
        // a payer out on purpose, revoke their access (tollgate club revoke).
        for chat in chats where entry.membership[chat] == ChatMember.Status.kicked.text {
            try await telegram.unbanChatMember(chatID: chat, userID: user, onlyIfBanned: true)
            try await ledger.recordMembership(user, chat: chat, status: "left")
            counters.withLock { $0.unbannedEntitled += 1 }
            logger.notice("unbanned an entitled user before issuing their link", metadata: ["chat": "\(chat)", "user": "\(user)"])
        }
        switch config.mode {
        case .inviteLink:
            for chat in chats { links.append(try await personalLink(user, chat: chat, entry: entry)) }
            // Links to chats the grant does not open (an earlier offer's) stop working.
            for (chat, held) in entry.links where !chats.contains(chat) {
                await revoke(chat: chat, link: held.link)
                try await ledger.dropLink(user, chat: chat, link: held.link)
            }
        case .joinRequest:
            for chat in chats { links.append(try await sharedJoinLink(chat)) }
        }
        return links
    }

    func personalLink(_ user: Int64, chat: Int64, entry: EntitlementLedger.Entry) async throws -> String {
        let t = now()
        if let current = entry.links[chat], current.expires > t + Self.reuseMargin {
            counters.withLock { $0.linksReused += 1 }
            return current.link
        }
        let expires = t + Int64(config.inviteTTL.milliseconds / 1000)
        let created = try await telegram.createChatInviteLink(
            chatID: chat, name: Self.linkName(user), expireDate: expires, memberLimit: 1)
        counters.withLock { $0.linksCreated += 1 }
        let kept = try await ledger.installLink(
            user, chat: chat, link: created.inviteLink, expires: expires, liveAfter: t + Self.reuseMargin)
        if kept != created.inviteLink {
            // Another runner installed one first: ours goes.
            await revoke(chat: chat, link: created.inviteLink)
        } else if let old = entry.links[chat], old.link != kept {
            await revoke(chat: chat, link: old.link)
        }
        return kept
    }

    /// The name shown to administrators beside a personal link (Telegram allows 32 characters).
    static func linkName(_ user: Int64) -> String { String("tollgate \(user)".prefix(32)) }

    /// The user a personal link was made for, from its name.
    static func user(ofLinkName name: String?) -> Int64? {
        guard let name, name.hasPrefix("tollgate ") else { return nil }
        return Int64(name.dropFirst(9))
    }

    func sharedJoinLink(_ chat: Int64) async throws -> String {
        let key = RedisArgument(keys("club", "joinlink", String(chat)))
        if let link = try await redis.next().send("GET", key).string { return link }
        let created = try await telegram.createChatInviteLink(chatID: chat, name: "tollgate join requests", createsJoinRequest: true)
        counters.withLock { $0.linksCreated += 1 }
        let set = try await redis.next().send("SET", key, RedisArgument(created.inviteLink), "NX")
        if set.string == "OK" { return created.inviteLink }
        await revoke(chat: chat, link: created.inviteLink)
        return try await redis.next().send("GET", key).string ?? created.inviteLink
    }

    func revoke(chat: Int64, link: String) async {
        do throws(TelegramError) {
            _ = try await telegram.revokeChatInviteLink(chatID: chat, inviteLink: link)
            counters.withLock { $0.linksRevoked += 1 }
        } catch {
            // A link that cannot be revoked still expires and admits one member at most.
            logger.warning("could not revoke an invite link", metadata: ["chat": "\(chat)", "error": "\(error.code.rawValue)"])
        }
    }

    /// Whether `user` may be inside `chat` (entitled to an offer that opens it, allow-listed).
    ///
    /// A period whose end has just passed but that its lapse job has not ended yet counts as
    /// running: the row may have renewed it (the lapse job reads it and decides, and shows the
    /// member out if not) — a join handled late must not remove a member who renewed in time.
    func mayBeInside(_ user: Int64, chat: Int64) async throws -> Bool {
        if config.allowList.contains(user) { return true }
        let entry = try await ledger.entry(user)
        let nowMs = now() * 1000
        return Self.mayStay(entry, nowMs: nowMs) && config.chats(of: entry.offer).contains(chat)
    }

    /// Entitled at `nowMs`, or in the hour after a period's end its lapse job has not ended yet.
    public static func mayStay(_ entry: EntitlementLedger.Entry, nowMs: Int64) -> Bool {
        if entry.isEntitled(at: nowMs) { return true }
        guard entry.entitled, let end = entry.expiresAtMs else { return false }
        return end <= nowMs && end > nowMs - ClubReconciler.lapseGrace
    }

    /// What the door did with a join request or a membership change.
    public enum Decision: Sendable, Equatable {
        case approved, declined, admitted, removed, ignored
    }

    /// A join request: approved for an entitled user, declined for anyone else.
    public func answer(_ request: ChatJoinRequest) async throws -> Decision {
        guard config.chats.contains(request.chat.id) else { return .ignored }
        let user = request.from.id
        if try await mayBeInside(user, chat: request.chat.id) {
            let approved = await Self.result { () async throws(TelegramError) in
                try await self.telegram.approveChatJoinRequest(chatID: request.chat.id, userID: user)
            }
            // Answered before (a replay): done.
            if case .failure(let error) = approved, !Self.answeredBefore(error) { throw error }
            counters.withLock { $0.requestsApproved += 1 }
            return .approved
        }
        let declined = await Self.result { () async throws(TelegramError) in
            try await self.telegram.declineChatJoinRequest(chatID: request.chat.id, userID: user)
        }
        if case .failure(let error) = declined, !Self.answeredBefore(error) { throw error }
        counters.withLock { $0.requestsDeclined += 1 }
        return .declined
    }

    static func memberResult(_ telegram: TelegramClient, chat: Int64, user: Int64) async -> Result<ChatMember, TelegramError> {
        do throws(TelegramError) {
            return .success(try await telegram.getChatMember(chatID: chat, userID: user))
        } catch {
            return .failure(error)
        }
    }

    static func result(_ body: () async throws(TelegramError) -> Void) async -> Result<Void, TelegramError> {
        do throws(TelegramError) {
            try await body()
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    /// `getChatMember`'s answer for someone who never was in the chat (not a chat Telegram cannot find).
    static func isUserNotFound(_ error: TelegramError) -> Bool {
        let detail = error.detail.lowercased()
        return error.code == .chatNotFound && (detail.contains("user not found") || detail.contains("participant_id_invalid"))
    }

    /// Telegram's answer to a join request answered before.
    static func answeredBefore(_ error: TelegramError) -> Bool {
        error.code == .badRequest && (error.detail.contains("USER_ALREADY_PARTICIPANT") || error.detail.contains("HIDE_REQUESTER_MISSING"))
    }

    /// A membership change in a club chat: someone inside who may not be there is shown out
    /// (banned and unbanned at once, so they can pay and come back) and the link they used
    /// revoked; an entitled member is recorded.
    public func check(_ change: ChatMemberUpdated) async throws -> Decision {
        let chat = change.chat.id
        guard config.chats.contains(chat) else { return .ignored }
        let member = change.newChatMember
        let user = member.user.id
        try await ledger.recordMembership(user, chat: chat, status: member.status.text)
        guard change.joined, !member.isAdministrator, !member.user.isBot else { return .ignored }
        if try await mayBeInside(user, chat: chat) {
            counters.withLock { $0.joinsEntitled += 1 }
            // Their personal link has done its work.
            if let link = change.inviteLink?.inviteLink { try await ledger.dropLink(user, chat: chat, link: link) }
            return .admitted
        }
        guard config.removeUnentitled else {
            logger.warning("a member who is not entitled is inside (CLUB_REMOVE_UNENTITLED=no)", metadata: ["chat": "\(chat)", "user": "\(user)"])
            return .ignored
        }
        try await telegram.banChatMember(chatID: chat, userID: user)
        try await telegram.unbanChatMember(chatID: chat, userID: user, onlyIfBanned: true)
        try await ledger.recordMembership(user, chat: chat, status: "left")
        counters.withLock { $0.removedUnentitled += 1 }
        logger.notice(
            "removed a member who is not entitled", metadata: ["chat": "\(chat)", "user": "\(user)", "link_of": "\(Self.user(ofLinkName: change.inviteLink?.name) ?? 0)"])
        if let link = change.inviteLink, !link.createsJoinRequest {
            await revoke(chat: chat, link: link.inviteLink)
            if let owner = Self.user(ofLinkName: link.name) { try await ledger.dropLink(owner, chat: chat, link: link.inviteLink) }
        }
        return .removed
    }

    /// Shows `user` out of every club chat (their period ended): a member inside is banned and
    /// unbanned at once (so they can pay and come back); administrators, the allow-list and
    /// people not inside are left as they are. Their personal links are revoked. Idempotent.
    /// Returns in how many chats they were shown out.
    @discardableResult
    public func showOut(_ user: Int64) async throws -> Int {
        var removed = 0
        if !config.allowList.contains(user) {
            for chat in config.chats {
                let member: ChatMember?
                switch await Self.memberResult(telegram, chat: chat, user: user) {
                case .success(let m): member = m
                case .failure(let error):
                    // "user not found": never was inside. (A chat not found is not that.)
                    guard Self.isUserNotFound(error) else { throw error }
                    member = nil
                }
                guard let member, member.isInside, !member.isAdministrator else {
                    try await ledger.recordMembership(user, chat: chat, status: member?.status.text ?? "left")
                    continue
                }
                try await telegram.banChatMember(chatID: chat, userID: user)
                try await telegram.unbanChatMember(chatID: chat, userID: user, onlyIfBanned: true)
                try await ledger.recordMembership(user, chat: chat, status: "left")
                removed += 1
                counters.withLock { $0.removedLapsed += 1 }
            }
        }
        let entry = try await ledger.entry(user)
        for (chat, link) in entry.links {
            await revoke(chat: chat, link: link.link)
            try await ledger.dropLink(user, chat: chat, link: link.link)
        }
        if removed > 0 { logger.notice("showed out a member whose paid period ended", metadata: ["user": "\(user)", "chats": "\(removed)"]) }
        return removed
    }
}
