import Foundation
import Testing
import TollgateCore
import TollgateGateway
import TollgateIPC
import TollgateSimulators
import TollgateTelegram
import TollgateTestKit

/// The club's door in the flow, against the simulator's club: a confirmed payment grants access
/// and sends a personal link (one member, expiring) instead of the flow file's; asking again
/// shows the same live link; someone who joins with a link meant for another is shown out and
/// the link revoked; join requests are approved for payers only.
@Suite("Club door in the flow", .timeLimit(.minutes(2)))
struct ClubDoorFlowTests {
    static let club: Int64 = -100_555

    static func config(_ mode: ClubConfiguration.AccessMode = .inviteLink) -> ClubConfiguration {
        ClubConfiguration(chats: [club], mode: mode, inviteTTL: .seconds(3600))
    }

    /// Makes `user` a payer: awaiting payment, then the confirmation job delivered.
    func pay(_ gw: GatewayHarness, _ user: Int64, record: Int64) async throws -> DeliveryResult {
        _ = try await gw.states.transition(user, to: .awaitingPayment, from: [nil], metadata: ["record_id": String(record)])
        let job = gw.delivery("paid:\(user):\(record)", "payment_confirmed", user: user, payload: ["record_id": .number(Double(record))])
        return await gw.deliver.handle(Deliver(deliveries: [job])).results[0]
    }

    func link(in text: String?) -> String? {
        text?.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init).first { $0.hasPrefix("https://t.me/+sim") }
    }

    @Test("A confirmed payment sends a personal link (one member, expiring); /status shows the same live link")
    func personalLinkOnConfirmation() async throws {
        try await withGateway(club: Self.config()) { gw in
            gw.simulator.addClub(id: Self.club, title: "Club")
            gw.simulator.addUsers([SimUser(id: 9301, firstName: "Payer")])
            #expect(try await pay(gw, 9301, record: 31).outcome == .delivered)
            let confirmation = try #require(gw.simulator.sent(to: 9301).last?.text)
            let personal = try #require(link(in: confirmation), Comment(rawValue: confirmation))
            #expect(!confirmation.contains("club-invite"), "not the flow file's static link")
            let state = try #require(gw.simulator.clubState(Self.club))
            let created = try #require(state.links[personal])
            #expect(created.memberLimit == 1 && created.name == "tollgate 9301" && created.expireDate != nil)
            #expect(try await gw.door!.ledger.entry(9301).isEntitled(at: Int64(Date().timeIntervalSince1970 * 1000)))

            // Asking again: the same link, none created.
            gw.simulator.userSends("/status", from: SimUser(id: 9301, firstName: "Payer"))
            #expect(await eventually { gw.simulator.sent(to: 9301).count == 2 })
            #expect(link(in: gw.simulator.sent(to: 9301).last?.text) == personal)
            #expect(gw.simulator.clubState(Self.club)?.links.count == 1)
            #expect(gw.door!.stats.linksReused == 1)

            // The payer joins: admitted and recorded.
            #expect(gw.simulator.join(9301, club: Self.club, link: personal) == .joined)
            #expect(await eventually { gw.door!.stats.joinsEntitled == 1 })
            #expect(gw.simulator.clubState(Self.club)?.members[9301] == "member")
            #expect(try await gw.door!.ledger.entry(9301).membership[Self.club] == "member")
        }
    }

    @Test("A link forwarded to a friend: the friend is shown out, the link revoked, and the payer gets a new one")
    func sharedLinkCaught() async throws {
        try await withGateway(club: Self.config()) { gw in
            gw.simulator.addClub(id: Self.club, title: "Club")
            gw.simulator.addUsers([SimUser(id: 9401, firstName: "Payer"), SimUser(id: 9402, firstName: "Friend")])
            #expect(try await pay(gw, 9401, record: 41).outcome == .delivered)
            let personal = try #require(link(in: gw.simulator.sent(to: 9401).last?.text))
            // The friend uses it first.
            #expect(gw.simulator.join(9402, club: Self.club, link: personal) == .joined)
            #expect(await eventually { gw.simulator.clubState(Self.club)?.members[9402] == "left" })
            #expect(await eventually { gw.simulator.clubState(Self.club)?.links[personal]?.isRevoked == true })
            #expect(gw.door!.stats.removedUnentitled == 1)
            // The payer asks again: a new link, and they get in with it.
            gw.simulator.userSends("/status", from: SimUser(id: 9401, firstName: "Payer"))
            #expect(await eventually { gw.simulator.sent(to: 9401).count == 2 })
            let second = try #require(link(in: gw.simulator.sent(to: 9401).last?.text))
            #expect(second != personal)
            #expect(gw.simulator.join(9401, club: Self.club, link: second) == .joined)
            #expect(await eventually { gw.door!.stats.joinsEntitled == 1 })
            #expect(gw.simulator.clubState(Self.club)?.members[9401] == "member")
            #expect(gw.simulator.clubState(Self.club)?.members[9402] == "left", "the friend stays out")
        }
    }

    @Test("Join-request mode: one link; a payer's request approved, anyone else's declined; administrators never removed")
    func joinRequests() async throws {
        try await withGateway(club: Self.config(.joinRequest)) { gw in
            gw.simulator.addClub(id: Self.club, title: "Club", administrators: [9500])
            gw.simulator.addUsers([SimUser(id: 9501, firstName: "Payer"), SimUser(id: 9502, firstName: "Stranger")])
            #expect(try await pay(gw, 9501, record: 51).outcome == .delivered)
            let shared = try #require(link(in: gw.simulator.sent(to: 9501).last?.text))
            #expect(gw.simulator.clubState(Self.club)?.links[shared]?.createsJoinRequest == true)
            #expect(gw.simulator.join(9501, club: Self.club, link: shared) == .requested)
            #expect(gw.simulator.join(9502, club: Self.club, link: shared) == .requested)
            #expect(await eventually { gw.simulator.clubState(Self.club)?.pendingRequests.isEmpty == true })
            #expect(gw.simulator.clubState(Self.club)?.members[9501] == "member")
            #expect(gw.simulator.clubState(Self.club)?.members[9502] == nil)
            // Counted once Telegram's answer is back (a moment after the simulator took the request).
            #expect(await eventually { gw.door!.stats.requestsApproved == 1 && gw.door!.stats.requestsDeclined == 1 })
            #expect(gw.simulator.clubState(Self.club)?.members[9500] == "administrator")
            // A second payer gets the same shared link.
            gw.simulator.addUsers([SimUser(id: 9503)])
            #expect(try await pay(gw, 9503, record: 53).outcome == .delivered)
            #expect(link(in: gw.simulator.sent(to: 9503).last?.text) == shared)
            #expect(gw.simulator.clubState(Self.club)?.links.count == 1)
        }
    }

    @Test("Without a club the flow file's link is sent, as before")
    func noClub() async throws {
        try await withGateway { gw in
            gw.simulator.addUsers([SimUser(id: 9601)])
            let result = try await pay(gw, 9601, record: 61)
            #expect(result.outcome == .delivered)
            #expect(gw.simulator.sent(to: 9601).last?.text?.contains("https://t.me/+club-invite") == true)
        }
    }

    @Test("The start check: each refusal names the chat and the right; no answer means ask again")
    func preflightVerdicts() {
        let bot = User(id: 1, isBot: true, firstName: "Bot")
        let chat = Chat(id: Self.club, type: "supergroup", title: "Club")
        func admin(invite: Bool, restrict: Bool) -> ChatMember {
            ChatMember(status: .administrator, user: bot, canInviteUsers: invite, canRestrictMembers: restrict)
        }
        typealias P = ClubPreflight
        #expect(P.verdict(chatID: Self.club, chat: .success(chat), bot: .success(admin(invite: true, restrict: true)), needRestrict: true) == .ready)
        guard case .refused(let noInvite) = P.verdict(
            chatID: Self.club, chat: .success(chat), bot: .success(admin(invite: false, restrict: true)), needRestrict: true)
        else {
            Issue.record("must refuse")
            return
        }
        #expect(noInvite.contains("can_invite_users") && noInvite.contains("\(Self.club)"))
        guard case .refused(let noRestrict) = P.verdict(
            chatID: Self.club, chat: .success(chat), bot: .success(admin(invite: true, restrict: false)), needRestrict: true)
        else {
            Issue.record("must refuse")
            return
        }
        #expect(noRestrict.contains("can_restrict_members"))
        #expect(
            P.verdict(chatID: Self.club, chat: .success(chat), bot: .success(admin(invite: true, restrict: false)), needRestrict: false)
                == .ready)
        guard case .refused(let notAdmin) = P.verdict(
            chatID: Self.club, chat: .success(chat), bot: .success(ChatMember(status: .member, user: bot)), needRestrict: false)
        else {
            Issue.record("must refuse")
            return
        }
        #expect(notAdmin.contains("not an administrator"))
        let notFound = TelegramError(code: .chatNotFound, method: "getChat", errorCode: 400, detail: "Bad Request: chat not found")
        guard case .refused(let unseen) = P.verdict(chatID: Self.club, chat: .failure(notFound), bot: nil, needRestrict: false)
        else {
            Issue.record("must refuse")
            return
        }
        #expect(unseen.contains("cannot see this chat"))
        guard case .refused(let group) = P.verdict(
            chatID: Self.club, chat: .success(Chat(id: Self.club, type: "group")), bot: nil, needRestrict: false)
        else {
            Issue.record("must refuse")
            return
        }
        #expect(group.contains("not a supergroup"))
        let down = TelegramError(code: .transient, method: "getChat", errorCode: 502, detail: "Bad Gateway")
        guard case .askAgain = P.verdict(chatID: Self.club, chat: .failure(down), bot: nil, needRestrict: false)
        else {
            Issue.record("a 502 is no answer")
            return
        }
    }

    @Test("The start check against the simulator: a missing right refuses to start, naming it")
    func preflightAgainstTheSimulator() async throws {
        try await withGateway(startPolling: false) { gw in
            gw.simulator.addClub(id: Self.club, title: "Club", botCanRestrict: false)
            let good = ClubPreflight(
                telegram: gw.telegram, club: ClubConfiguration(chats: [Self.club], removeUnentitled: false), logger: quietLogger)
            #expect(await good.check() == nil)
            let strict = ClubPreflight(telegram: gw.telegram, club: Self.config(), logger: quietLogger)
            let refusal = try #require(await strict.check())
            #expect(refusal.contains("can_restrict_members") && refusal.contains("\(Self.club)"))
            let missing = ClubPreflight(
                telegram: gw.telegram, club: ClubConfiguration(chats: [-100_404], removeUnentitled: false), logger: quietLogger)
            #expect(await missing.check()?.contains("cannot see this chat") == true)
        }
    }

    @Test("bot-gateway with a club where it lacks the ban right refuses to start (78), naming the chat and the right")
    func processRefusesWithoutRights() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let dir = TestNetwork.temporaryDirectory(prefix: "gw-club")
        var env = ServiceProcess.environment(redisURL: redis.url, directory: dir)
        let telegram = try await RemoteTelegram(token: env["BOT_TOKEN"]!, rate: 30, burst: 5, directory: dir)
        try await telegram.post("/_sim/clubs", #"{"id": -100777, "title": "Club", "can_restrict_members": false}"#)
        env["TELEGRAM_API_URL"] = telegram.base
        env["CLUB_CHAT_ID"] = "-100777"
        let process = try ChildProcess(try TestBinaries.path(of: "bot-gateway"), [], environment: env, output: dir + "/out.log")
        let status = await offPool { process.wait(timeout: .seconds(60)) }
        if status == nil { process.kill9() }
        await telegram.stop()
        let output = (try? String(contentsOfFile: dir + "/out.log", encoding: .utf8)) ?? ""
        #expect(status.flatMap(ChildProcess.exitCode) == 78, Comment(rawValue: String(output.suffix(3000))))
        #expect(output.contains("can_restrict_members") && output.contains("-100777"), Comment(rawValue: String(output.suffix(3000))))
        #expect(!output.contains("TEST-token"), "no secret in the refusal")
    }

    @Test(arguments: [
        (["CLUB_CHAT_ID": "12345"], "CLUB_CHAT_ID"),
        (["CLUB_CHAT_ID": "-100,abc"], "CLUB_CHAT_ID"),
        (["CLUB_CHAT_ID": "-100", "ACCESS_MODE": "door"], "ACCESS_MODE"),
        (["CLUB_CHAT_ID": "-100", "INVITE_TTL": "5s"], "INVITE_TTL"),
        (["CLUB_CHAT_ID": "-100", "CLUB_ALLOW_LIST": "1,x"], "CLUB_ALLOW_LIST"),
        (["ACCESS_MODE": "join_request"], "ACCESS_MODE"),
    ] as [([String: String], String)])
    func badClubSettings(_ env: [String: String], key: String) {
        var reader = ConfigReader(ConfigSource(values: env))
        _ = ClubConfiguration.read(&reader)
        do {
            try reader.finish()
            Issue.record("must be refused: \(env)")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
    }

    @Test func goodClubSettings() throws {
        var reader = ConfigReader(
            ConfigSource(values: [
                "CLUB_CHAT_ID": "-1001, -1002", "ACCESS_MODE": "join_request", "INVITE_TTL": "2h", "CLUB_ALLOW_LIST": "7, 8",
                "CLUB_REMOVE_UNENTITLED": "no",
            ]))
        let club = try #require(ClubConfiguration.read(&reader))
        try reader.finish()
        #expect(club.chats == [-1001, -1002] && club.mode == .joinRequest && club.inviteTTL == .seconds(7200))
        #expect(club.allowList == [7, 8] && !club.removeUnentitled)
        var none = ConfigReader(ConfigSource(values: [:]))
        #expect(ClubConfiguration.read(&none) == nil)
    }
}
