/// The control side of the simulator, in process: what simulated users do, and what the bot did.
extension TelegramSimulator {
    /// Errors of the control API.
    public enum ControlError: Error, Sendable, Equatable {
        /// No bot message in that chat has a button with that `callback_data`.
        case noSuchButton(chatID: Int64, data: String)
    }

    /// Registers users (each has started the bot, so the bot may write to them).
    public func addUsers(_ users: [SimUser]) {
        world.withLock { w in for user in users { w.ensureUser(user) } }
    }

    /// Registers a group (negative id) or supergroup the bot is a member of.
    public func addGroup(id: Int64, title: String, supergroup: Bool = false) {
        world.withLock { $0.groups[id] = SimWorld.GroupRecord(id: id, title: title, supergroup: supergroup) }
    }

    /// `user` writes `text` to the bot (in `chatID`, their private chat by default); returns the update id.
    @discardableResult
    public func userSends(_ text: String, from user: SimUser, chatID: Int64? = nil) -> Int64 {
        let id = world.withLock { $0.userMessage(user, text: text, chatID: chatID) }
        updatesQueued()
        return id
    }

    /// `user` presses the button with `data` on the newest bot message that has it (or on message
    /// `messageID`); returns the update id.
    @discardableResult
    public func userPresses(_ data: String, from user: SimUser, messageID: Int64? = nil, chatID: Int64? = nil) throws(ControlError) -> Int64 {
        let id = world.withLock { $0.userPress(user, data: data, messageID: messageID, chatID: chatID) }
        guard let id else { throw .noSuchButton(chatID: chatID ?? user.id, data: data) }
        updatesQueued()
        return id
    }

    /// The user blocks the bot: sends to them get 403 until they write again or ``unblock(userID:)``.
    public func block(userID: Int64) {
        world.withLock { w in
            w.ensureUser(SimUser(id: userID))
            w.users[userID]?.blocked = true
        }
    }

    public func unblock(userID: Int64) {
        world.withLock { $0.users[userID]?.blocked = false }
    }

    /// The user's account is deleted: 403 "user is deactivated" for good.
    public func deactivate(userID: Int64) {
        world.withLock { w in
            w.ensureUser(SimUser(id: userID))
            w.users[userID]?.deactivated = true
        }
    }

    /// The bot is removed from a group: 403 "bot was kicked from the group chat".
    public func kickBot(groupID: Int64) {
        world.withLock { $0.groups[groupID]?.kicked = true }
    }

    /// The group becomes a supergroup with id `newID`: sends to the old id get 400 with
    /// `migrate_to_chat_id`.
    public func migrateGroup(_ groupID: Int64, to newID: Int64) {
        world.withLock { w in
            guard let old = w.groups[groupID] else { return }
            w.groups[groupID]?.migratedTo = newID
            w.groups[newID] = SimWorld.GroupRecord(id: newID, title: old.title, supergroup: true)
        }
    }

    /// Registers a private supergroup or channel (negative id) — a paid club — with the bot's
    /// administrator rights and its human administrators.
    public func addClub(
        id: Int64, title: String, channel: Bool = false, botIsAdmin: Bool = true, botCanInvite: Bool = true,
        botCanRestrict: Bool = true, administrators: [Int64] = []
    ) {
        world.withLock { w in
            var club = SimWorld.ClubRecord(
                id: id, title: title, type: channel ? "channel" : "supergroup", botIsAdmin: botIsAdmin,
                botCanInvite: botCanInvite, botCanRestrict: botCanRestrict)
            for admin in administrators {
                w.ensureUser(SimUser(id: admin))
                club.members[admin] = "administrator"
            }
            w.clubs[id] = club
        }
    }

    /// Changes the bot's rights in a club (an owner taking a right away).
    public func setBotRights(club id: Int64, admin: Bool, canInvite: Bool, canRestrict: Bool) {
        world.withLock { w in
            w.clubs[id]?.botIsAdmin = admin
            w.clubs[id]?.botCanInvite = canInvite
            w.clubs[id]?.botCanRestrict = canRestrict
        }
    }

    /// `userID` opens `link` to club `chatID`: joins (a `chat_member` update), asks to join (a
    /// `chat_join_request` update), or is refused as Telegram's app would refuse them.
    @discardableResult
    public func join(_ userID: Int64, club chatID: Int64, link: String) -> SimJoinResult {
        let result = world.withLock { $0.join(userID, chatID: chatID, link: link) }
        updatesQueued()
        return result
    }

    /// `userID` leaves club `chatID`.
    public func leave(_ userID: Int64, club chatID: Int64) {
        world.withLock { $0.leave(userID, chatID: chatID) }
        updatesQueued()
    }

    /// Drift: sets `userID`'s membership of club `chatID` to `status` (`member`, `left`, …) with
    /// no `chat_member` update — the update of a change that happened while nobody read them
    /// for longer than Telegram keeps updates (24 hours), or of an administrator's hand.
    public func setMembership(_ userID: Int64, club chatID: Int64, status: String) {
        world.withLock { w in
            guard w.clubs[chatID] != nil else { return }
            w.ensureUser(SimUser(id: userID))
            w.clubs[chatID]?.members[userID] = status
        }
    }

    /// A club's members, links and pending join requests.
    public func clubState(_ chatID: Int64) -> SimClubState? {
        world.withLock { w in
            guard let club = w.clubs[chatID] else { return nil }
            return SimClubState(
                members: club.members,
                links: club.links.mapValues {
                    SimInviteLinkState(
                        name: $0.name, memberLimit: $0.memberLimit, expireDate: $0.expireDate,
                        createsJoinRequest: $0.createsJoinRequest, isRevoked: $0.isRevoked, joined: $0.joined)
                },
                pendingRequests: club.requests)
        }
    }

    /// Messages the bot sent (and edits it made) to `chatID`, in order.
    public func sent(to chatID: Int64) -> [SimSentMessage] {
        world.withLock { w in (w.sentByChat[chatID] ?? []).map { w.sent[$0] } }
    }

    /// How many messages the bot sent to each chat (one pass, for checks over many users).
    public func sentCounts() -> [Int64: Int] {
        world.withLock { w in w.sentByChat.mapValues(\.count) }
    }

    /// Everything the bot sent, in order.
    public func allSent() -> [SimSentMessage] {
        world.withLock { $0.sent }
    }

    /// What the bot sent from the `index`-th message on (in order; `allSent()[index...]` without
    /// copying the rest), for a watcher that reads it as it grows.
    public func sent(from index: Int) -> [SimSentMessage] {
        world.withLock { w in index < w.sent.count ? Array(w.sent[max(0, index)...]) : [] }
    }

    /// Counters so far.
    public var counters: SimTelegramCounters {
        world.withLock { $0.counters }
    }

    /// Updates not yet confirmed (by offset) or delivered (by webhook).
    public var pendingUpdateCount: Int {
        world.withLock { $0.pending.count }
    }

    /// The webhook URL set by the bot, if any.
    public var webhookURL: String? {
        world.withLock { $0.webhook?.url }
    }

    /// Changes the flood limits from now on.
    public func setFloodLimits(_ limits: SimFloodLimits) {
        world.withLock { $0.flood.limits = limits }
    }

    /// Seconds since the simulator started (the clock of ``SimSentMessage/at``).
    public var clock: Double {
        world.withLock { $0.now }
    }

    /// Makes the simulator misbehave on a fraction of API requests (``SimHostility/none`` heals it).
    public func setHostility(_ settings: SimHostility) { hostile.configure(settings) }

    /// How many replies were spoiled so far, by fault.
    public var hostileInjected: [String: Int] { hostile.injected }
}
