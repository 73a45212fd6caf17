import Foundation
import Testing
import TollgateCore
import TollgateGateway
import TollgateIPC
import TollgateRedis
import TollgateSimulators
import TollgateTelegram
import TollgateTestKit

/// Offers (`topics` in the flow file, seed 003's `topic_selected`): after `/start` the user picks
/// one, "Get access" continues for it (its payment page, reminders), and a payment opens only its
/// chats — someone who paid for one offer and walks into another's chat is shown out, by the
/// door and by a reconciliation. One topic, or none, is the flow as before.
@Suite("Topics: offers in the flow", .timeLimit(.minutes(2)))
struct TopicsTests {
    static let lounge: Int64 = -100_701
    static let vipRoom: Int64 = -100_702

    static let flowText = """
        topics:
          - id: basic
            title: Basic
            chats: [-100701]
            payment: { url: "https://pay.example.com/basic?u={user_id}&r={record_id}" }
            reminders:
              - { step: basic-nudge, delay: 10m, text: "Basic is waiting: {payment_url}" }
          - id: vip
            title: VIP room
            access_period: 90d
            payment:
              url: "https://pay.example.com/{topic}?u={user_id}"
              text: "VIP ({topic_title}) costs more: {payment_url}"
        """

    static func flow() throws -> FlowDefinition { try FlowFile.parse(flowText, name: "topics.yaml") }

    // MARK: The flow file

    @Test("The flow file's topics: ids, titles, chats, periods, payment pages, reminders; what a topic leaves out is the flow's")
    func parsesTopics() throws {
        let flow = try Self.flow()
        #expect(flow.topics.map(\.id) == ["basic", "vip"] && flow.choosesTopic)
        #expect(flow.topics[0].chats == [Self.lounge] && flow.topics[1].chats == nil)
        #expect(flow.topics[1].accessPeriod == .seconds(90 * 86400) && flow.topics[0].accessPeriod == nil)
        let basic = flow.offer("basic")
        #expect(basic.paymentURL.contains("/basic?") && basic.reminders.map(\.step) == ["basic-nudge"])
        #expect(basic.payment == FlowDefinition.defaults.payment, "no payment text of its own: the flow's")
        let vip = flow.offer("vip")
        #expect(vip.payment.text.hasPrefix("VIP") && vip.reminders == FlowDefinition.defaults.reminders)
        #expect(flow.offer(nil) == flow && flow.offer("gone") == flow, "no offer picked: the flow as it is")
    }

    @Test(arguments: [
        ("topics: {id: a}", "must be a list"),
        ("topics: [{title: A}]", "needs an 'id'"),
        ("topics: [{id: A, title: A}]", "1-32 of a-z"),
        ("topics: [{id: a, title: A}, {id: a, title: B}]", "used twice"),
        ("topics: [{id: a}]", "needs a 'title'"),
        ("topics: [{id: a, title: A, price: 5}]", "unknown key 'price'"),
        ("topics: [{id: a, title: A, chats: [42]}]", "negative chat ids"),
        ("topics: [{id: a, title: A, chats: []}]", "list of chat ids"),
        ("topics: [{id: a, title: A, access_period: soon}]", "not a duration"),
        ("topics: [{id: a, title: A, payment: {url: 'https://x/{access_until}'}}]", "unknown placeholder {access_until}"),
        ("topics: [{id: a, title: A, reminders: [{step: r, delay: 1m}]}]", "needs a 'text'"),
    ])
    func badTopicsRefused(text: String, reason: String) {
        do {
            _ = try FlowFile.parse(text, name: "bad.yaml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(reason), "\(error.description)")
            #expect(error.line == 1, "the line is named")
        }
    }

    @Test("The club takes in the offers: a chat outside CLUB_CHAT_ID or a period without periods is refused, by name")
    func clubAdoptsOffers() throws {
        let flow = try Self.flow()
        var club = ClubConfiguration(chats: [Self.lounge, Self.vipRoom])
        let problems = club.adopt(flow.topics)
        #expect(problems.count == 1 && problems[0].contains("'vip'") && problems[0].contains("ACCESS_PERIOD"), "\(problems)")
        club = ClubConfiguration(chats: [Self.lounge, Self.vipRoom], accessPeriod: .seconds(30 * 86400))
        #expect(club.adopt(flow.topics).isEmpty)
        #expect(club.chats(of: "basic") == [Self.lounge] && club.chats(of: "vip") == [Self.lounge, Self.vipRoom])
        #expect(club.chats(of: nil) == club.chats && club.chats(of: "gone").isEmpty, "an offer the flow no longer lists opens nothing")
        #expect(club.period(of: "vip") == .seconds(90 * 86400) && club.period(of: "basic") == .seconds(30 * 86400))
        var other = ClubConfiguration(chats: [Self.vipRoom])
        let outside = other.adopt(flow.topics)
        #expect(outside.contains { $0.contains("'basic'") && $0.contains("\(Self.lounge)") && $0.contains("CLUB_CHAT_ID") }, "\(outside)")
    }

    @Test("bot-gateway's settings refuse offers that do not fit the club, naming FLOW_FILE and the topic")
    func settingsRefuseMisfits() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("topics-\(UUID().uuidString).yaml").path
        try Self.flowText.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let base = ["BOT_TOKEN": "123456:ABCdef_ghi-JKL", "FLOW_FILE": path]
        for (extra, reason) in [
            (["CLUB_CHAT_ID": "-100702", "ACCESS_PERIOD": "30d"], "topic 'basic' names chat -100701"),
            (["CLUB_CHAT_ID": "-100701,-100702"], "topic 'vip' has an access_period"),
            (["CLUB_CHAT_ID": "-100701,-100702", "NOCODB_PAID_UNTIL_FIELD": "PaidUntil"], "NOCODB_PAID_UNTIL_FIELD sets the end"),
            ([:], "that needs CLUB_CHAT_ID"),
        ] {
            var reader = ConfigReader(ConfigSource(values: base.merging(extra) { $1 }))
            _ = GatewayConfiguration.read(&reader)
            #expect(throws: (any Error).self) { try reader.finish() }
            do { try reader.finish() } catch { #expect("\(error)".contains("FLOW_FILE") && "\(error)".contains(reason), "\(error)") }
        }
        var good = ConfigReader(
            ConfigSource(values: base.merging(["CLUB_CHAT_ID": "-100701,-100702", "ACCESS_PERIOD": "30d"]) { $1 }))
        let config = GatewayConfiguration.read(&good)
        try good.finish()
        #expect(config.club?.chats(of: "basic") == [Self.lounge] && config.club?.period(of: "vip") == .seconds(90 * 86400))
    }

    // MARK: Plans

    @Test("Plans with several offers: pick, then Get access for it; a pick while paying for another is refused; one offer is today's flow")
    func plans() throws {
        let engine = FlowEngine(flow: try Self.flow(), club: true)
        let welcome = engine.plan(.start, phase: nil)
        guard case .send(let send) = welcome.steps.last else { Issue.record("\(welcome)"); return }
        #expect(send.keyboard == .topics)
        #expect(engine.plan(.chooseTopic(id: "vip", callbackID: "c"), phase: .idle).steps.contains(.selectTopic("vip")))
        #expect(engine.plan(.chooseTopic(id: "vip", callbackID: "c"), phase: .topicSelected, topic: "basic").steps.contains(.selectTopic("vip")))
        // "Get access" before any pick (an old button): the offers again, no record, no watch.
        let early = engine.plan(.getAccess(callbackID: "c"), phase: .idle)
        #expect(!early.steps.contains(.watchPayment) && !early.steps.contains(.ensureRecord))
        #expect(engine.forOffer("vip").plan(.getAccess(callbackID: "c"), phase: .topicSelected, topic: "vip").steps.contains(.watchPayment))
        // Paying for basic, picks vip: told it is locked, nothing recorded.
        let locked = engine.forOffer("basic").plan(.chooseTopic(id: "vip", callbackID: "c"), phase: .awaitingPayment, topic: "basic")
        #expect(!locked.steps.contains(.selectTopic("vip")))
        #expect(locked.steps.contains { if case .send(let s) = $0 { s.message == engine.flow.topicLocked } else { false } })
        // An offer no longer in the flow.
        #expect(!engine.plan(.chooseTopic(id: "gone", callbackID: "c"), phase: .idle).steps.contains(.selectTopic("gone")))

        // One offer, or none: the plans of the flow without offers.
        var single = try Self.flow()
        single.topics = [single.topics[0]]
        let one = FlowEngine(flow: single, club: true)
        let none = FlowEngine(flow: .defaults, club: true)
        for (event, phase) in [(FlowEvent.start, UserPhase?.none), (.getAccess(callbackID: "c"), .idle), (.paymentConfirmed, .awaitingPayment)] {
            #expect(one.forOffer(nil).plan(event, phase: phase) == none.plan(event, phase: phase), "\(event)")
        }
        #expect(one.forOffer(nil).flow.offer(nil).paymentURL.contains("/basic?"), "the one offer's values are the flow's")
        #expect(one.plan(.chooseTopic(id: "basic", callbackID: "c"), phase: .idle).steps == [.answerCallback(id: "c", text: nil)])
    }

    // MARK: With the simulator

    func link(in text: String?) -> [String] {
        (text ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init).filter { $0.hasPrefix("https://t.me/+sim") }
    }

    /// `user` picks `topic` and presses "Get access"; returns the payment message.
    func pick(_ gw: GatewayHarness, _ user: SimUser, _ topic: String) async throws -> String {
        gw.simulator.userSends("/start", from: user)
        #expect(await eventually { gw.simulator.sent(to: user.id).last?.callbackData.contains(FlowDefinition.topicData(topic)) == true })
        let before = gw.simulator.sent(to: user.id).count
        _ = try gw.simulator.userPresses(FlowDefinition.topicData(topic), from: user)
        #expect(await eventually { gw.simulator.sent(to: user.id).count == before + 1 })
        #expect(gw.simulator.sent(to: user.id).last?.callbackData == [FlowDefinition.getAccessData])
        #expect(try await gw.states.state(of: user.id)?.phase == .topicSelected)
        _ = try gw.simulator.userPresses(FlowDefinition.getAccessData, from: user)
        #expect(await eventually { gw.simulator.sent(to: user.id).count == before + 2 })
        #expect(await eventually { gw.pollerRequests.watches[user.id] != nil })
        return gw.simulator.sent(to: user.id).last?.text ?? ""
    }

    func confirm(_ gw: GatewayHarness, _ user: Int64) async throws -> [String] {
        let record = try #require(try await gw.states.state(of: user)?.metadata["record_id"].flatMap { Int64($0) })
        let job = gw.delivery("paid:\(user):\(record)", "payment_confirmed", user: user, payload: ["record_id": .number(Double(record))])
        #expect(await gw.deliver.handle(Deliver(deliveries: [job])).results[0].outcome == .delivered)
        return link(in: gw.simulator.sent(to: user).last?.text)
    }

    @Test("Picked, paid, let in: each payer gets links to their offer's chats only; a basic payer in the VIP room is shown out (door and reconciliation)")
    func offersOpenTheirOwnChats() async throws {
        var config = ClubConfiguration(
            chats: [Self.lounge, Self.vipRoom], inviteTTL: .seconds(3600), accessPeriod: .seconds(30 * 86400), reconcileInterval: nil)
        config.removeUnentitled = true
        try await withGateway(flow: try Self.flow(), club: config) { gw in
            let door = try #require(gw.door)
            gw.simulator.addClub(id: Self.lounge, title: "Lounge")
            gw.simulator.addClub(id: Self.vipRoom, title: "VIP room")
            let (ann, bob) = (SimUser(id: 9701, firstName: "Ann"), SimUser(id: 9702, firstName: "Bob"))
            gw.simulator.addUsers([ann, bob])

            // Ann first picks basic, then changes her mind before "Get access": the second pick is
            // recorded and answered.
            gw.simulator.userSends("/start", from: ann)
            #expect(await eventually { gw.simulator.sent(to: ann.id).last?.callbackData.contains(FlowDefinition.topicData("basic")) == true })
            _ = try gw.simulator.userPresses(FlowDefinition.topicData("basic"), from: ann)
            #expect(await eventually { gw.simulator.sent(to: ann.id).count == 2 })
            _ = try gw.simulator.userPresses(FlowDefinition.topicData("vip"), from: ann)
            #expect(await eventually { gw.simulator.sent(to: ann.id).count == 3 })
            #expect(gw.simulator.sent(to: ann.id).last?.text?.contains("You chose VIP room") == true)
            #expect(try await gw.states.state(of: 9701)?.metadata["topic"] == "vip")

            // Ann picks VIP: its payment text and page; Bob picks basic: the flow's text, basic's page and reminder.
            let annPayment = try await pick(gw, ann, "vip")
            #expect(annPayment.contains("VIP (VIP room)") && annPayment.contains("https://pay.example.com/vip?u=9701"), "\(annPayment)")
            let bobPayment = try await pick(gw, bob, "basic")
            #expect(bobPayment.contains("https://pay.example.com/basic?u=9702"), "\(bobPayment)")
            // Scheduled right after the watch (the step that follows it).
            #expect(await eventually { gw.pollerRequests.scheduled.values.contains { $0.userID == 9702 && $0.jobID?.hasSuffix(":basic-nudge") == true } })
            #expect(!gw.pollerRequests.scheduled.values.contains { $0.userID == 9701 && $0.jobID?.hasSuffix(":basic-nudge") == true })
            #expect(try await gw.states.state(of: 9701)?.metadata["topic"] == "vip")

            // Bob, paying for basic, picks VIP: told his payment decides, the pick not recorded.
            let sentBefore = gw.simulator.sent(to: bob.id).count
            _ = try gw.simulator.userPresses(FlowDefinition.topicData("vip"), from: bob)
            #expect(await eventually { gw.simulator.sent(to: bob.id).count == sentBefore + 1 })
            #expect(gw.simulator.sent(to: bob.id).last?.text?.contains("Your payment for Basic is in progress") == true)
            #expect(try await gw.states.state(of: 9702)?.metadata["topic"] == "basic")

            // Paid: Ann gets a link to each chat of VIP, Bob one to the lounge.
            let annLinks = try await confirm(gw, 9701)
            let bobLinks = try await confirm(gw, 9702)
            #expect(annLinks.count == 2 && bobLinks.count == 1, "\(annLinks) \(bobLinks)")
            #expect(gw.simulator.clubState(Self.lounge)?.links[bobLinks[0]] != nil)
            let annEntry = try await door.ledger.entry(9701)
            let bobEntry = try await door.ledger.entry(9702)
            #expect(annEntry.offer == "vip" && bobEntry.offer == "basic")
            // The VIP period is its own (90 days), basic's the default (30 days).
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let day: Int64 = 86_400_000
            let annDays = ((annEntry.expiresAtMs ?? 0) - now + day / 2) / day
            let bobDays = ((bobEntry.expiresAtMs ?? 0) - now + day / 2) / day
            #expect(annDays == 90 && bobDays == 30, "\(annEntry) \(bobEntry)")

            // Both join with their links; Bob then walks into the VIP room with Ann's VIP link.
            let vipLink = try #require(annLinks.first { gw.simulator.clubState(Self.vipRoom)?.links[$0] != nil })
            #expect(gw.simulator.join(9702, club: Self.lounge, link: bobLinks[0]) == .joined)
            #expect(gw.simulator.join(9702, club: Self.vipRoom, link: vipLink) == .joined)
            #expect(await eventually { gw.simulator.clubState(Self.vipRoom)?.members[9702] == "left" })
            #expect(gw.simulator.clubState(Self.lounge)?.members[9702] == "member", "his own chat he keeps")
            #expect(await eventually { door.stats.removedUnentitled == 1 }, "counted once the removal is done")

            // Drift behind the door's back: Bob in the VIP room again. A reconciliation shows him out
            // of that room only; Ann, entitled to both and in neither, is stranded and re-invited.
            gw.simulator.setMembership(9702, club: Self.vipRoom, status: "member")
            let reconciler = ClubReconciler(
                door: door, runner: gw.runner, directory: gw.directory, limiter: NoLimits(), leadership: AlwaysLeader(),
                redis: gw.pool, keys: gw.keys, logger: quietLogger)
            for (chat, link) in try await door.ledger.entry(9701).links {
                _ = try await gw.telegram.revokeChatInviteLink(chatID: chat, inviteLink: link.link)
                try await door.ledger.dropLink(9701, chat: chat, link: link.link)
            }
            let report = try #require(try await reconciler.reconcile(trigger: "request", dryRun: false))
            #expect(report.insideUnentitled == 1 && report.removed == 1 && report.strandedPayers == 1 && report.reinvited == 1, "\(report)")
            #expect(gw.simulator.clubState(Self.vipRoom)?.members[9702] == "left")
            #expect(gw.simulator.clubState(Self.lounge)?.members[9702] == "member")
            #expect(link(in: gw.simulator.sent(to: 9701).last?.text).count == 2, "the re-invite carries both VIP links")
            let status = try await reconciler.status()
            #expect(status.insideUnentitled == 0 && status.entitled == 2, "\(status)")
        }
    }

    static let separateFlow = """
        topics:
          - id: basic
            title: Basic
            chats: [-100701]
          - id: vip
            title: VIP room
            chats: [-100702]
            renewal_reminders:
              - { step: renew-1d, before: 1d, text: "Your VIP room closes on {access_until}: {payment_url}" }
            payment: { url: "https://pay.example.com/vip?u={user_id}" }
        """

    @Test("The work of a grant follows the grant: with the user's state gone, a lapse and a renewal reminder use the offer and row of the ledger; an operator's grant names an offer or keeps the one held; links of an earlier offer are revoked")
    func grantWorkFollowsTheLedger() async throws {
        let config = ClubConfiguration(
            chats: [Self.lounge, Self.vipRoom], inviteTTL: .seconds(3600), accessPeriod: .seconds(30 * 86400), reconcileInterval: nil)
        try await withGateway(flow: try FlowFile.parse(Self.separateFlow, name: "separate.yaml"), club: config) { gw in
            let door = try #require(gw.door)
            gw.simulator.addClub(id: Self.lounge, title: "Lounge")
            gw.simulator.addClub(id: Self.vipRoom, title: "VIP room")
            let (ann, bob) = (SimUser(id: 9711, firstName: "Ann"), SimUser(id: 9712, firstName: "Bob"))
            gw.simulator.addUsers([ann, bob])
            func forget(_ user: Int64) async throws {
                _ = try await gw.pool.next().send("DEL", RedisArgument(gw.keys("gw", "user", String(user))))
                #expect(try await gw.states.state(of: user) == nil)
            }

            // Bob pays for basic and joins; then his state expires (USER_STATE_TTL) before the lapse.
            _ = try await pick(gw, bob, "basic")
            let record = try #require(try await gw.states.state(of: bob.id)?.metadata["record_id"].flatMap { Int64($0) })
            let bobLinks = try await confirm(gw, bob.id)
            #expect(bobLinks.count == 1 && gw.simulator.join(bob.id, club: Self.lounge, link: bobLinks[0]) == .joined)
            let bobUntil = try #require(try await door.ledger.entry(bob.id).expiresAtMs)
            try await forget(bob.id)
            // ... and he says /start again: a fresh state (idle) that knows neither his row nor his offer.
            let sentBefore = gw.simulator.sent(to: bob.id).count
            gw.simulator.userSends("/start", from: bob)
            #expect(await eventually { gw.simulator.sent(to: bob.id).count == sentBefore + 1 })
            #expect(try await gw.states.state(of: bob.id)?.metadata["record_id"] == nil)
            // The poller dropped the watch when it confirmed the payment.
            gw.pollerRequests.state.withLock { $0.watches[bob.id] = nil }
            let lapse = DueWork.accessLapse(untilMs: bobUntil)
            let lapsed = await gw.deliver.handle(
                Deliver(deliveries: [gw.delivery(AccessTerms.lapseJobID(user: bob.id, untilMs: bobUntil), lapse.kind, user: bob.id, payload: lapse.payload)]))
            #expect(lapsed.results[0].outcome == .delivered, "\(lapsed)")
            #expect(gw.simulator.clubState(Self.lounge)?.members[bob.id] == "left")
            #expect(gw.simulator.sent(to: bob.id).last?.text?.contains("Your access to the club has ended") == true)
            // Watched again for the row the grant came from, and awaiting payment once more.
            #expect(await eventually { gw.pollerRequests.watches[bob.id]?.recordID == record })
            let awaiting = try await gw.states.state(of: bob.id)
            #expect(awaiting?.phase == .awaitingPayment && awaiting?.metadata["topic"] == "basic", "\(String(describing: awaiting))")
            // He pays again: the confirmation (naming the row) grants basic again — the lounge, not the whole club.
            let again = gw.delivery("paid:\(bob.id):\(record):2", "payment_confirmed", user: bob.id, payload: ["record_id": .number(Double(record))])
            #expect(await gw.deliver.handle(Deliver(deliveries: [again])).results[0].outcome == .delivered)
            let renewedEntry = try await door.ledger.entry(bob.id)
            #expect(renewedEntry.offer == "basic" && renewedEntry.isEntitled(at: WallClock.epochMilliseconds()), "\(renewedEntry)")
            #expect(link(in: gw.simulator.sent(to: bob.id).last?.text).count == 1)

            // Ann pays for VIP; with her state gone, the renewal reminder is VIP's own text.
            _ = try await pick(gw, ann, "vip")
            let annLinks = try await confirm(gw, ann.id)
            #expect(annLinks.count == 1 && gw.simulator.clubState(Self.vipRoom)?.links[annLinks[0]] != nil)
            let annUntil = try #require(try await door.ledger.entry(ann.id).expiresAtMs)
            #expect(gw.pollerRequests.scheduled[AccessTerms.reminderJobID(user: ann.id, untilMs: annUntil, step: "renew-1d")] != nil)
            try await forget(ann.id)
            let remind = DueWork.accessReminder(step: "renew-1d", untilMs: annUntil)
            let reminded = await gw.deliver.handle(
                Deliver(deliveries: [
                    gw.delivery(AccessTerms.reminderJobID(user: ann.id, untilMs: annUntil, step: "renew-1d"), remind.kind, user: ann.id, payload: remind.payload)
                ]))
            #expect(reminded.results[0].outcome == .delivered, "\(reminded)")
            let reminder = gw.simulator.sent(to: ann.id).last?.text ?? ""
            #expect(reminder.contains("Your VIP room closes on") && reminder.contains("https://pay.example.com/vip?u=9711"), "\(reminder)")

            // An operator moves Ann to basic: her VIP link stops working, a lounge link is handed over.
            let reconciler = ClubReconciler(
                door: door, runner: gw.runner, directory: gw.directory, limiter: NoLimits(), leadership: AlwaysLeader(),
                redis: gw.pool, keys: gw.keys, logger: quietLogger)
            let moved = try await reconciler.grant(ClubGrant(userID: ann.id, periodMs: 86_400_000, offer: "basic"))
            #expect(moved.member.offer == "basic" && moved.links.count == 1, "\(moved)")
            #expect(gw.simulator.clubState(Self.lounge)?.links[moved.links[0]] != nil)
            #expect(gw.simulator.clubState(Self.vipRoom)?.links[annLinks[0]]?.isRevoked == true, "the VIP link is revoked")
            // A grant without an offer keeps the one held; '' is the whole club; one the flow does not list is refused.
            #expect(try await reconciler.grant(ClubGrant(userID: ann.id)).member.offer == "basic")
            await #expect(throws: IPCError.self) { try await reconciler.grant(ClubGrant(userID: ann.id, offer: "gold")) }
            #expect(try await door.ledger.entry(ann.id).offer == "basic", "a refused grant changes nothing")
            let whole = try await reconciler.grant(ClubGrant(userID: ann.id, offer: ""))
            #expect(whole.member.offer == nil && whole.links.count == 2, "\(whole)")
            // Revoked: no link is issued any more (a /status of a 'paid' state included), the ones held stop working.
            _ = try await reconciler.revoke(ClubRevoke(userID: ann.id))
            #expect(try await door.invites(for: ann.id).isEmpty)
            #expect(whole.links.allSatisfy { l in [Self.lounge, Self.vipRoom].contains { gw.simulator.clubState($0)?.links[l]?.isRevoked == true } })
            // Nothing in force: a grant must name the offer.
            await #expect(throws: IPCError.self) { try await reconciler.grant(ClubGrant(userID: ann.id, periodMs: 86_400_000)) }
        }
    }

    @Test("Which chats a grant opens: its offer's; no offer, or a flow without offers, every chat; an offer the flow no longer lists none")
    func chatsOfAnOffer() throws {
        var config = ClubConfiguration(chats: [Self.lounge, Self.vipRoom])
        #expect(config.chats(of: "vip") == [Self.lounge, Self.vipRoom], "a flow without offers: one club")
        _ = config.adopt(try FlowFile.parse(Self.separateFlow, name: "separate.yaml").topics)
        #expect(config.chats(of: "vip") == [Self.vipRoom] && config.chats(of: nil) == [Self.lounge, Self.vipRoom])
        #expect(config.chats(of: "gold").isEmpty && config.isUnknown(offer: "gold") && !config.isUnknown(offer: "vip"))
        // Stranded is counted in the chats of the grant: a live link to another chat does not count.
        var entry = EntitlementLedger.Entry()
        entry.entitled = true
        entry.grantID = "g"
        let now = WallClock.epochMilliseconds()
        entry.links[Self.lounge] = .init(link: "https://t.me/+simX", expires: now / 1000 + 3600)
        #expect(ClubReconciler.isStranded(entry, inside: false, banned: false, chats: [Self.vipRoom], mode: .inviteLink, nowMs: now))
        #expect(!ClubReconciler.isStranded(entry, inside: false, banned: false, chats: [Self.lounge], mode: .inviteLink, nowMs: now))
    }

    @Test("With an offer column the row decides what a payment opens: a pick of VIP paid as basic opens the lounge only; a name the flow does not list opens nothing")
    func theRowNamesTheOffer() async throws {
        var config = ClubConfiguration(
            chats: [Self.lounge, Self.vipRoom], inviteTTL: .seconds(3600), accessPeriod: .seconds(30 * 86400), reconcileInterval: nil)
        config.offerField = "Offer"
        try await withGateway(flow: try FlowFile.parse(Self.separateFlow, name: "separate.yaml"), club: config) { gw in
            let door = try #require(gw.door)
            gw.simulator.addClub(id: Self.lounge, title: "Lounge")
            gw.simulator.addClub(id: Self.vipRoom, title: "VIP room")
            let (cat, dan) = (SimUser(id: 9721, firstName: "Cat"), SimUser(id: 9722, firstName: "Dan"))
            gw.simulator.addUsers([cat, dan])
            for (user, named) in [(cat, "basic"), (dan, "gold")] {
                _ = try await pick(gw, user, "vip")
                let record = try #require(try await gw.states.state(of: user.id)?.metadata["record_id"].flatMap { Int64($0) })
                gw.directory.state.withLock { $0.payments[record] = PaymentRecord(paid: true, offer: named) }
            }
            let catLinks = try await confirm(gw, cat.id)
            #expect(try await door.ledger.entry(cat.id).offer == "basic")
            #expect(catLinks.count == 1 && gw.simulator.clubState(Self.lounge)?.links[catLinks[0]] != nil, "\(catLinks)")
            let danLinks = try await confirm(gw, dan.id)
            #expect(try await door.ledger.entry(dan.id).offer == "gold" && danLinks.isEmpty, "\(danLinks)")
            #expect(gw.simulator.sent(to: dan.id).last?.text?.contains(FlowDefinition.defaults.inviteLink) == false, "never the flow file's static link")

            // Eve has no right in the ledger but her row says paid, for basic: a reconciliation
            // leaves her in the lounge and shows her out of the VIP room.
            let eve = SimUser(id: 9723, firstName: "Eve")
            gw.simulator.addUsers([eve])
            _ = try await door.ledger.grant(eve.id, source: "nocodb:77", grantID: "g-eve", term: .forever, offer: .set("basic"))
            try await door.ledger.revoke(eve.id)
            gw.directory.state.withLock { $0.payments[77] = PaymentRecord(paid: true, offer: "basic") }
            gw.simulator.setMembership(eve.id, club: Self.lounge, status: "member")
            gw.simulator.setMembership(eve.id, club: Self.vipRoom, status: "member")
            let reconciler = ClubReconciler(
                door: door, runner: gw.runner, directory: gw.directory, limiter: NoLimits(), leadership: AlwaysLeader(),
                redis: gw.pool, keys: gw.keys, logger: quietLogger)
            let report = try #require(try await reconciler.reconcile(trigger: "request", dryRun: false))
            #expect(report.keptPaid == 1 && report.removed == 1, "\(report)")
            #expect(gw.simulator.clubState(Self.lounge)?.members[eve.id] == "member")
            #expect(gw.simulator.clubState(Self.vipRoom)?.members[eve.id] == "left")
        }
        // Without the column the pick decides; an empty cell too.
        var plain = ClubConfiguration(chats: [Self.lounge])
        #expect(AccessTerms.rowOffer(plain, record: PaymentRecord(paid: true, offer: "basic")) == nil)
        plain.offerField = "Offer"
        #expect(AccessTerms.rowOffer(plain, record: PaymentRecord(paid: true, offer: "basic")) == "basic")
        #expect(AccessTerms.rowOffer(plain, record: PaymentRecord(paid: true)) == nil)
        #expect(AccessTerms.rowOffer(plain, record: PaymentRecord(paid: true, offer: "VIP room")) == "?", "not an id: names nothing the flow lists")
        // The cell as NocoDB answers it.
        #expect(NocoDBUserDirectory.offerCell(.string("  VIP \n")) == "vip")
        #expect(NocoDBUserDirectory.offerCell(.string("")) == nil && NocoDBUserDirectory.offerCell(.null) == nil && NocoDBUserDirectory.offerCell(nil) == nil)
        #expect(NocoDBUserDirectory.offerCell(.array([.string("vip")])) == "?" && NocoDBUserDirectory.offerCell(.int(7)) == "7")
        #expect(NocoDBUserDirectory.offerCell(.string(String(repeating: "я", count: 100)))?.count == 64)
    }
}
