import Foundation
import Testing
import TollgateSimulators
import TollgateTelegram

/// The Bot API methods of the club's door, through the Telegram client against the simulator's
/// model of a private supergroup: the bot's rights, personal links (member limit, expiry,
/// revocation), join requests, removal — and the `chat_member` / `chat_join_request` updates.
@Suite("Club door: client and simulator", .timeLimit(.minutes(2)))
struct ClubDoorClientTests {
    static let club: Int64 = -100_777

    /// The chat_member and chat_join_request updates queued so far (confirming them).
    func membershipUpdates(_ gw: GatewayHarness) async throws -> [Update] {
        let batch = try await gw.telegram.getUpdates(
            offset: nil, timeout: 0, allowedUpdates: ["message", "callback_query", "chat_member", "chat_join_request"])
        if let last = batch.updates.last {
            _ = try await gw.telegram.getUpdates(offset: last.updateID + 1, timeout: 0)
        }
        return batch.updates
    }

    @Test("The bot's own rights, the chat, and an unknown chat")
    func rights() async throws {
        try await withGateway(startPolling: false) { gw in
            gw.simulator.addClub(id: Self.club, title: "Paid club", botCanRestrict: false)
            let me = try await gw.telegram.getMe()
            let bot = try await gw.telegram.getChatMember(chatID: Self.club, userID: me.id)
            #expect(bot.status == .administrator && bot.canInviteUsers && !bot.canRestrictMembers)
            let chat = try await gw.telegram.getChat(chatID: Self.club)
            #expect(chat.type == "supergroup" && chat.title == "Paid club")
            await #expect(throws: TelegramError.self) { try await gw.telegram.getChat(chatID: -100_999) }
            do throws(TelegramError) {
                _ = try await gw.telegram.getChatMember(chatID: -100_999, userID: me.id)
                Issue.record("an unknown chat must be refused")
            } catch {
                #expect(error.code == .chatNotFound)
            }
            // A user Telegram never saw.
            do throws(TelegramError) {
                _ = try await gw.telegram.getChatMember(chatID: Self.club, userID: 424_242)
                Issue.record("an unknown user must be refused")
            } catch {
                #expect(error.detail.contains("user not found"))
            }
        }
    }

    @Test("A personal link: one member may use it; a second person is refused; the join names the link")
    func personalLink() async throws {
        try await withGateway(startPolling: false) { gw in
            gw.simulator.addClub(id: Self.club, title: "Paid club")
            gw.simulator.addUsers([SimUser(id: 9001, firstName: "Payer"), SimUser(id: 9002, firstName: "Friend")])
            let link = try await gw.telegram.createChatInviteLink(
                chatID: Self.club, name: "u9001", expireDate: Int64(Date.now.timeIntervalSince1970) + 3600, memberLimit: 1)
            #expect(link.memberLimit == 1 && link.name == "u9001" && !link.isRevoked && !link.createsJoinRequest)
            #expect(gw.simulator.join(9001, club: Self.club, link: link.inviteLink) == .joined)
            #expect(gw.simulator.join(9002, club: Self.club, link: link.inviteLink) == .refused("the link's member limit is reached"))
            #expect(gw.simulator.join(9001, club: Self.club, link: link.inviteLink) == .refused("already a member"))
            let updates = try await membershipUpdates(gw)
            let change = try #require(updates.compactMap(\.chatMember).first)
            #expect(change.joined && change.newChatMember.user.id == 9001)
            #expect(change.inviteLink?.name == "u9001")
            #expect(updates.first?.chatID == 9001, "a membership change belongs to the member's lane")
            let member = try await gw.telegram.getChatMember(chatID: Self.club, userID: 9001)
            #expect(member.isInside && !member.isAdministrator)

            // Revoked: nobody gets in with it any more.
            let revoked = try await gw.telegram.revokeChatInviteLink(chatID: Self.club, inviteLink: link.inviteLink)
            #expect(revoked.isRevoked)
            gw.simulator.leave(9001, club: Self.club)
            #expect(gw.simulator.join(9001, club: Self.club, link: link.inviteLink) == .refused("the link was revoked"))
        }
    }

    @Test("Parameters Telegram refuses are refused before any request")
    func localValidation() async throws {
        try await withGateway(startPolling: false) { gw in
            gw.simulator.addClub(id: Self.club, title: "Paid club")
            func refusedLocally(name: String? = nil, limit: Int? = nil, joinRequest: Bool = false) async -> Bool {
                do throws(TelegramError) {
                    _ = try await gw.telegram.createChatInviteLink(
                        chatID: Self.club, name: name, memberLimit: limit, createsJoinRequest: joinRequest)
                    return false
                } catch {
                    return error.code == .badRequest
                }
            }
            #expect(await refusedLocally(name: String(repeating: "n", count: 33)))
            #expect(await refusedLocally(limit: 0))
            #expect(await refusedLocally(limit: 100_000))
            #expect(await refusedLocally(limit: 1, joinRequest: true))
            #expect(gw.simulator.counters.requests["createChatInviteLink"] == nil, "nothing reached Telegram")
            // Telegram's own refusals come back typed too: an expiry in the past.
            do throws(TelegramError) {
                _ = try await gw.telegram.createChatInviteLink(chatID: Self.club, expireDate: 1_000_000)
                Issue.record("an expiry in the past must be refused")
            } catch {
                #expect(error.code == .badRequest && error.detail.contains("EXPIRE_DATE_INVALID"))
            }
        }
    }

    @Test("Join requests: approved for one, declined for another, each an update")
    func joinRequests() async throws {
        try await withGateway(startPolling: false) { gw in
            gw.simulator.addClub(id: Self.club, title: "Paid club")
            gw.simulator.addUsers([SimUser(id: 9101), SimUser(id: 9102)])
            let link = try await gw.telegram.createChatInviteLink(chatID: Self.club, createsJoinRequest: true)
            #expect(link.createsJoinRequest)
            #expect(gw.simulator.join(9101, club: Self.club, link: link.inviteLink) == .requested)
            #expect(gw.simulator.join(9102, club: Self.club, link: link.inviteLink) == .requested)
            let requests = try await membershipUpdates(gw).compactMap(\.chatJoinRequest)
            #expect(Set(requests.map(\.from.id)) == [9101, 9102])
            #expect(requests.allSatisfy { $0.inviteLink?.createsJoinRequest == true && $0.chat.id == Self.club })
            try await gw.telegram.approveChatJoinRequest(chatID: Self.club, userID: 9101)
            try await gw.telegram.declineChatJoinRequest(chatID: Self.club, userID: 9102)
            let approved = try #require(try await membershipUpdates(gw).compactMap(\.chatMember).first)
            #expect(approved.joined && approved.viaJoinRequest && approved.newChatMember.user.id == 9101)
            #expect(gw.simulator.clubState(Self.club)?.members[9101] == "member")
            #expect(gw.simulator.clubState(Self.club)?.members[9102] == nil)
            // A second answer to a request already answered is Telegram's error, typed.
            do throws(TelegramError) {
                try await gw.telegram.approveChatJoinRequest(chatID: Self.club, userID: 9101)
                Issue.record("must be refused")
            } catch {
                #expect(error.code == .badRequest && error.detail.contains("USER_ALREADY_PARTICIPANT"))
            }
        }
    }

    @Test("Removal without a lasting ban: ban then unban; administrators are never removed; rights are checked")
    func removal() async throws {
        try await withGateway(startPolling: false) { gw in
            gw.simulator.addClub(id: Self.club, title: "Paid club", administrators: [9200])
            gw.simulator.addUsers([SimUser(id: 9201)])
            let link = try await gw.telegram.createChatInviteLink(chatID: Self.club, memberLimit: 1)
            #expect(gw.simulator.join(9201, club: Self.club, link: link.inviteLink) == .joined)
            _ = try await membershipUpdates(gw)
            try await gw.telegram.banChatMember(chatID: Self.club, userID: 9201)
            #expect(try await gw.telegram.getChatMember(chatID: Self.club, userID: 9201).status == .kicked)
            try await gw.telegram.unbanChatMember(chatID: Self.club, userID: 9201, onlyIfBanned: true)
            let after = try await gw.telegram.getChatMember(chatID: Self.club, userID: 9201)
            #expect(after.status == .left && !after.isInside)
            let changes = try await membershipUpdates(gw).compactMap(\.chatMember)
            #expect(changes.map { $0.newChatMember.status } == [.kicked, .left])
            #expect(changes.first?.left == true)
            // Back with a new link after paying again.
            let second = try await gw.telegram.createChatInviteLink(chatID: Self.club, memberLimit: 1)
            #expect(gw.simulator.join(9201, club: Self.club, link: second.inviteLink) == .joined)
            // unban with only_if_banned leaves a member inside.
            try await gw.telegram.unbanChatMember(chatID: Self.club, userID: 9201, onlyIfBanned: true)
            #expect(gw.simulator.clubState(Self.club)?.members[9201] == "member")

            do throws(TelegramError) {
                try await gw.telegram.banChatMember(chatID: Self.club, userID: 9200)
                Issue.record("an administrator must not be removable")
            } catch {
                #expect(error.code == .badRequest && error.detail.contains("administrator"))
            }
            gw.simulator.setBotRights(club: Self.club, admin: true, canInvite: true, canRestrict: false)
            do throws(TelegramError) {
                try await gw.telegram.banChatMember(chatID: Self.club, userID: 9201)
                Issue.record("without can_restrict_members the ban must be refused")
            } catch {
                #expect(error.code == .badRequest && error.detail.contains("not enough rights"))
            }
            #expect(gw.simulator.clubState(Self.club)?.members[9201] == "member")
        }
    }
}
