import Foundation
import Testing
import TollgateCore
import TollgateGateway
import TollgateIPC
import TollgateNocoDB
import TollgateSimulators
import TollgateTelegram
import TollgateTestKit

/// Access periods of the club's door, pure parts: what a payment grants, what renews, which
/// reminders are still ahead.
@Suite struct AccessTermsTests {
    let now: Int64 = 1_800_000_000_000
    let period = ClubConfiguration(chats: [-1001], accessPeriod: .seconds(30 * 86400))
    let column = ClubConfiguration(chats: [-1001], paidUntilField: "PaidUntil")

    @Test func aPaymentGrantsThePeriodTheRowsDateOrNoEnd() {
        let forever = AccessTerms.atConfirmation(ClubConfiguration(chats: [-1001]), record: nil, nowMs: now, unit: "j:a")
        #expect(forever.term == .forever && forever.grantID == "pay:j:a")
        let p = AccessTerms.atConfirmation(period, record: PaymentRecord(paid: true), nowMs: now, unit: "j:a")
        #expect(p.term == .period(.seconds(30 * 86400)) && p.grantID == "pay:j:a")
        let dated = AccessTerms.atConfirmation(column, record: PaymentRecord(paid: true, paidUntilMs: now + 5000), nowMs: now, unit: "j:a")
        #expect(dated.term == .until(now + 5000) && dated.grantID == "until:\(now + 5000)")
        // A date that passed while the confirmation was held up: still the end (the lapse, due at
        // once, reads the row again); a row without a date: a day, read again at the lapse.
        let past = AccessTerms.atConfirmation(column, record: PaymentRecord(paid: true, paidUntilMs: now - 1), nowMs: now, unit: "j:a")
        #expect(past.term == .until(now - 1))
        let undated = AccessTerms.atConfirmation(column, record: PaymentRecord(paid: true), nowMs: now, unit: "j:a")
        #expect(undated.term == .period(.seconds(86400)))
    }

    @Test func aRenewalIsALaterDateOrPaidTickedAgain() {
        #expect(AccessTerms.renewal(column, record: PaymentRecord(paid: true, paidUntilMs: now), untilMs: now, unit: "j:r") == nil)
        let later = AccessTerms.renewal(column, record: PaymentRecord(paid: true, paidUntilMs: now + 1), untilMs: now, unit: "j:r")
        #expect(later?.term == .until(now + 1) && later?.grantID == "until:\(now + 1)")
        #expect(AccessTerms.renewal(period, record: PaymentRecord(paid: false), untilMs: now, unit: "j:r") == nil)
        let again = AccessTerms.renewal(period, record: PaymentRecord(paid: true), untilMs: now, unit: "j:r")
        #expect(again?.term == .period(.seconds(30 * 86400)) && again?.grantID == "renew:j:r")
        #expect(AccessTerms.renewal(period, record: nil, untilMs: now, unit: "j:r") == nil)
    }

    @Test func onlyRemindersStillAheadAreScheduledEarliestFirst() {
        let until = now + 2 * 86_400_000
        let due = AccessTerms.reminders(.defaults, untilMs: until, nowMs: now)
        // renew-3d (3 days before) has passed; renew-1d is ahead.
        #expect(due.map(\.step) == ["renew-1d"] && due[0].dueMs == until - 86_400_000)
        #expect(AccessTerms.reminders(.defaults, untilMs: now + 10 * 86_400_000, nowMs: now).map(\.step) == ["renew-3d", "renew-1d"])
        #expect(AccessTerms.shown(PaidUntil.milliseconds(.string("2026-12-31 10:05:00"))!) == "2026-12-31 10:05 UTC")
    }

    @Test func plansOfRemindersAndLapses() {
        let engine = FlowEngine(flow: .defaults, club: true, periods: true, credits: true)
        let lapse = engine.plan(.accessLapse(untilMs: now), phase: .paid)
        #expect(lapse.steps.first == .renewFromRecord(untilMs: now))
        #expect(lapse.steps.contains(.ifRenewed(false, .endAccess(untilMs: now))))
        #expect(lapse.steps.contains(.ifRenewed(true, .creditPayment)) && lapse.steps.contains(.ifRenewed(true, .schedulePeriod)))
        // Whether the period is still in force is the ledger's to say, whatever the state (expired, an operator's grant).
        for phase in [UserPhase.paid, .awaitingPayment, nil] {
            #expect(engine.plan(.accessReminder(step: "renew-1d", untilMs: now), phase: phase).steps.first == .renewFromRecord(untilMs: now))
        }
        #expect(engine.plan(.accessReminder(step: "nope", untilMs: now), phase: .paid).skipReason != nil)
        let paid = engine.plan(.paymentConfirmed, phase: .awaitingPayment).steps
        #expect(Array(paid.dropFirst().prefix(3)) == [.grantAccess, .creditPayment, .schedulePeriod])
        // Without periods: no lapse, no credit.
        let plain = FlowEngine(flow: .defaults, club: true)
        #expect(plain.plan(.accessLapse(untilMs: now), phase: .paid).skipReason != nil)
        #expect(!plain.plan(.paymentConfirmed, phase: .awaitingPayment).steps.contains(.creditPayment))
    }

    @Test func theDueWorkOfPeriodsIsTyped() throws {
        let work = try DueWork(kind: "access_reminder", payload: ["step": .string("renew-1d"), "until_ms": .number(1_797_592_000_000)])
        #expect(work == .accessReminder(step: "renew-1d", untilMs: 1_797_592_000_000))
        #expect(try DueWork(kind: work.kind, payload: work.payload) == work)
        #expect(try DueWork(kind: "access_lapse", payload: ["until_ms": .number(5)]) == .accessLapse(untilMs: 5))
        for bad: [String: JSONValue] in [[:], ["until_ms": .number(-1)], ["until_ms": .number(5e12)], ["until_ms": .string("x")], ["until_ms": .number(5), "x": .null]] {
            #expect(throws: IPCError.self) { try DueWork(kind: "access_lapse", payload: bad) }
        }
    }

    @Test func periodSettingsAreReadAndCheckedOnlyWithAClub() throws {
        var reader = ConfigReader(ConfigSource(values: ["CLUB_CHAT_ID": "-1001", "ACCESS_PERIOD": "30d", "NOCODB_PAID_UNTIL_FIELD": "PaidUntil"]))
        let club = try #require(ClubConfiguration.read(&reader))
        try reader.finish()
        #expect(club.accessPeriod == .seconds(30 * 86400) && club.paidUntilField == "PaidUntil" && club.needsRestrict && !club.creditsPayments)
        var short = ConfigReader(ConfigSource(values: ["CLUB_CHAT_ID": "-1001", "ACCESS_PERIOD": "5s"]))
        _ = ClubConfiguration.read(&short)
        #expect(throws: (any Error).self) { try short.finish() }
        var alone = ConfigReader(ConfigSource(values: ["ACCESS_PERIOD": "30d"]))
        #expect(ClubConfiguration.read(&alone) == nil)
        #expect(throws: (any Error).self) { try alone.finish() }
    }
}

/// Access periods through the gateway, against the simulator's club: a period's reminder, its
/// lapse (the member shown out, told how to renew, watched again), a renewal found in the row
/// while the period runs, a payment after the lapse, and jobs of an earlier period.
@Suite("Access periods", .timeLimit(.minutes(3)))
struct AccessPeriodTests {
    static let club: Int64 = -100_777

    func pay(_ gw: GatewayHarness, _ user: Int64, record: Int64, job: String) async throws -> DeliveryResult {
        _ = try await gw.states.transition(user, to: .awaitingPayment, from: [nil, .idle], metadata: ["record_id": String(record)])
        let delivery = gw.delivery(job, "payment_confirmed", user: user, payload: ["record_id": .number(Double(record))])
        return await gw.deliver.handle(Deliver(deliveries: [delivery])).results[0]
    }

    func deliver(_ gw: GatewayHarness, _ job: String, _ work: DueWork, user: Int64) async -> DeliveryResult {
        await gw.deliver.handle(Deliver(deliveries: [gw.delivery(job, work.kind, user: user, payload: work.payload)])).results[0]
    }

    func link(in text: String?) -> String? {
        text?.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init).first { $0.hasPrefix("https://t.me/+sim") }
    }

    func nowMs() -> Int64 { WallClock.epochMilliseconds() }

    @Test("ACCESS_PERIOD: a reminder, the lapse shows the member out and watches again; paying again re-admits with a new link")
    func lapseAndPayAgain() async throws {
        let config = ClubConfiguration(chats: [Self.club], inviteTTL: .seconds(3600), accessPeriod: .seconds(10 * 86400))
        try await withGateway(club: config) { gw in
            let user: Int64 = 9701
            gw.simulator.addClub(id: Self.club, title: "Club")
            gw.simulator.addUsers([SimUser(id: user, firstName: "Payer")])
            let before = nowMs()
            #expect(try await pay(gw, user, record: 71, job: "pc:1").outcome == .delivered)
            let entry = try await gw.door!.ledger.entry(user)
            let until = try #require(entry.expiresAtMs)
            #expect(until >= before + 10 * 86_400_000 && until <= nowMs() + 10 * 86_400_000)
            // The payment is credited (the row's Paid unticked), the period's jobs scheduled by id.
            #expect(gw.directory.state.withLock { $0.credits } == [71])
            let jobs = gw.pollerRequests.scheduled
            #expect(jobs["access_lapse:\(user):\(until)"]?.dueAtMs == until)
            #expect(jobs["access_reminder:\(user):\(until):renew-3d"]?.dueAtMs == until - 3 * 86_400_000)
            #expect(jobs["access_reminder:\(user):\(until):renew-1d"] != nil)
            let first = try #require(link(in: gw.simulator.sent(to: user).last?.text))
            #expect(gw.simulator.join(user, club: Self.club, link: first) == .joined)
            #expect(await eventually { gw.door!.stats.joinsEntitled == 1 })

            // The reminder: the row is not paid again, so it is sent, with the period's end.
            #expect(await deliver(gw, "ar:1", .accessReminder(step: "renew-3d", untilMs: until), user: user).outcome == .delivered)
            let reminder = try #require(gw.simulator.sent(to: user).last?.text)
            #expect(reminder.contains(AccessTerms.shown(until)) && reminder.contains("https://pay.example.com"), Comment(rawValue: reminder))

            // The lapse: out of the club, no longer entitled, told how to renew, watched again.
            let sentBefore = gw.simulator.sent(to: user).count
            #expect(await deliver(gw, "al:1", .accessLapse(untilMs: until), user: user).outcome == .delivered)
            #expect(gw.simulator.clubState(Self.club)?.members[user] == "left")
            #expect(try await !gw.door!.ledger.entry(user).entitled)
            #expect(try await gw.states.state(of: user)?.phase == .awaitingPayment)
            #expect(gw.simulator.sent(to: user).count == sentBefore + 1)
            #expect(gw.simulator.sent(to: user).last?.text?.contains("has ended") == true)
            #expect(gw.pollerRequests.watches[user]?.recordID == 71)
            #expect(gw.door!.stats.lapses == 1 && gw.door!.stats.removedLapsed == 1)
            // A replay of the lapse repeats nothing.
            #expect(await deliver(gw, "al:1", .accessLapse(untilMs: until), user: user).outcome == .duplicate)
            #expect(gw.simulator.sent(to: user).count == sentBefore + 1)
            // The old link does not let anyone in any more.
            #expect(gw.simulator.join(9799, club: Self.club, link: first) != .joined)

            // Paid again (a new watch, a new confirmation): a new period from now and a new link.
            #expect(try await pay(gw, user, record: 71, job: "pc:2").outcome == .delivered)
            let renewed = try await gw.door!.ledger.entry(user)
            #expect(renewed.entitled && (renewed.expiresAtMs ?? 0) > until)
            let second = try #require(link(in: gw.simulator.sent(to: user).last?.text))
            #expect(second != first)
            #expect(gw.simulator.join(user, club: Self.club, link: second) == .joined)
            #expect(await eventually { gw.door!.stats.joinsEntitled == 2 })
            #expect(gw.door!.stats.renewals == 1)
        }
    }

    @Test("A join handled just after a period's end, before its lapse job: the member stays (the row may have renewed it); the lapse job then decides")
    func aLateJoinIsLeftToTheLapseJob() async throws {
        let config = ClubConfiguration(chats: [Self.club], inviteTTL: .seconds(3600), accessPeriod: .seconds(10 * 86400))
        try await withGateway(club: config) { gw in
            let door = try #require(gw.door)
            let user: Int64 = 9711
            gw.simulator.addClub(id: Self.club, title: "Club")
            gw.simulator.addUsers([SimUser(id: user, firstName: "Late")])
            let until = nowMs() + 1500
            _ = try await door.ledger.grant(user, source: "nocodb:81", grantID: "g-late", term: .until(until), offer: .set(nil))
            let link = try #require(try await door.invites(for: user).first)
            // Past the end also by the door's clock (whole seconds).
            while nowMs() <= until + 1100 { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!(try await door.ledger.entry(user)).isEntitled(at: nowMs()))
            #expect(gw.simulator.join(user, club: Self.club, link: link) == .joined)
            #expect(await eventually { door.stats.joinsEntitled == 1 }, "let in: the lapse job decides")
            #expect(gw.simulator.clubState(Self.club)?.members[user] == "member")
            // The lapse job finds no renewal in the row: shown out then.
            gw.directory.state.withLock { $0.payments[81] = PaymentRecord(paid: false) }
            #expect(await deliver(gw, AccessTerms.lapseJobID(user: user, untilMs: until), .accessLapse(untilMs: until), user: user).outcome == .delivered)
            #expect(gw.simulator.clubState(Self.club)?.members[user] == "left")
            // An hour after the end (the lapse job never came) the door no longer waits for it.
            var stale = try await door.ledger.entry(user)
            stale.entitled = true
            #expect(ClubDoor.mayStay(stale, nowMs: until + 1000) && !ClubDoor.mayStay(stale, nowMs: until + 3_600_001))
        }
    }

    @Test("A ban left over by a show-out cut short (its unban failed, the retried lapse found them out): the payer's next link lets them in")
    func aLeftOverBanIsLifted() async throws {
        try await withGateway(club: ClubConfiguration(chats: [Self.club], inviteTTL: .seconds(3600))) { gw in
            let door = try #require(gw.door)
            let user: Int64 = 9712
            gw.simulator.addClub(id: Self.club, title: "Club")
            gw.simulator.addUsers([SimUser(id: user, firstName: "Back")])
            gw.simulator.setMembership(user, club: Self.club, status: "kicked")
            try await door.ledger.recordMembership(user, chat: Self.club, status: "kicked")
            // They pay again: the link they get must work.
            _ = try await door.ledger.grant(user, source: "nocodb:82", grantID: "g-back", term: .forever, offer: .set(nil))
            let link = try #require(try await door.invites(for: user).first)
            #expect(gw.simulator.join(user, club: Self.club, link: link) == .joined)
            #expect(door.stats.unbannedEntitled == 1)
            // Not entitled: no link, and nobody is unbanned.
            let other: Int64 = 9713
            gw.simulator.setMembership(other, club: Self.club, status: "kicked")
            try await door.ledger.recordMembership(other, chat: Self.club, status: "kicked")
            #expect(try await door.invites(for: other).isEmpty)
            #expect(gw.simulator.clubState(Self.club)?.members[other] == "kicked")
        }
    }

    @Test("ACCESS_PERIOD: the row paid again while the period runs renews it at the reminder; the old period's lapse shows nobody out")
    func renewedAtTheReminder() async throws {
        let config = ClubConfiguration(chats: [Self.club], inviteTTL: .seconds(3600), accessPeriod: .seconds(10 * 86400))
        try await withGateway(club: config) { gw in
            let user: Int64 = 9711
            gw.simulator.addClub(id: Self.club, title: "Club")
            gw.simulator.addUsers([SimUser(id: user, firstName: "Payer")])
            #expect(try await pay(gw, user, record: 72, job: "pc:1").outcome == .delivered)
            let until = try #require(try await gw.door!.ledger.entry(user).expiresAtMs)
            let personal = try #require(link(in: gw.simulator.sent(to: user).last?.text))
            #expect(gw.simulator.join(user, club: Self.club, link: personal) == .joined)
            // The payment system ticks Paid again: a renewal, found when the reminder falls due.
            gw.directory.state.withLock { $0.payments[72] = PaymentRecord(paid: true) }
            #expect(await deliver(gw, "ar:1", .accessReminder(step: "renew-1d", untilMs: until), user: user).outcome == .delivered)
            let entry = try await gw.door!.ledger.entry(user)
            #expect(entry.expiresAtMs == until + 10 * 86_400_000)
            #expect(gw.simulator.sent(to: user).last?.text?.contains("renewed until \(AccessTerms.shown(until + 10 * 86_400_000))") == true)
            #expect(gw.directory.state.withLock { $0.credits } == [72, 72], "credited again")
            #expect(gw.pollerRequests.scheduled["access_lapse:\(user):\(until + 10 * 86_400_000)"] != nil)
            #expect(gw.door!.stats.renewals == 1)
            // The first period's lapse: a job of an earlier period, skipped; the member stays.
            let result = await deliver(gw, "al:1", .accessLapse(untilMs: until), user: user)
            #expect(result.outcome == .skipped, "\(result)")
            #expect(gw.simulator.clubState(Self.club)?.members[user] == "member")
            #expect(try await gw.door!.ledger.entry(user).entitled)
        }
    }

    @Test("NOCODB_PAID_UNTIL_FIELD: the row's date is the end; a later date found at the lapse renews; an unchanged one ends it")
    func theRowsDate() async throws {
        let config = ClubConfiguration(chats: [Self.club], inviteTTL: .seconds(3600), paidUntilField: "PaidUntil")
        try await withGateway(club: config) { gw in
            let user: Int64 = 9721
            let first = nowMs() + 5 * 86_400_000
            gw.directory.state.withLock { $0.payments[73] = PaymentRecord(paid: true, paidUntilMs: first) }
            gw.simulator.addClub(id: Self.club, title: "Club")
            gw.simulator.addUsers([SimUser(id: user, firstName: "Payer")])
            #expect(try await pay(gw, user, record: 73, job: "pc:1").outcome == .delivered)
            #expect(try await gw.door!.ledger.entry(user).expiresAtMs == first)
            #expect(gw.directory.state.withLock { $0.credits }.isEmpty, "the row is never written")
            let personal = try #require(link(in: gw.simulator.sent(to: user).last?.text))
            #expect(gw.simulator.join(user, club: Self.club, link: personal) == .joined)
            // The payment system moves the date: at the lapse the period is renewed, nobody shown out.
            let second = first + 30 * 86_400_000
            gw.directory.state.withLock { $0.payments[73] = PaymentRecord(paid: true, paidUntilMs: second) }
            #expect(await deliver(gw, "al:1", .accessLapse(untilMs: first), user: user).outcome == .delivered)
            #expect(try await gw.door!.ledger.entry(user).expiresAtMs == second)
            #expect(gw.simulator.clubState(Self.club)?.members[user] == "member")
            #expect(gw.pollerRequests.scheduled["access_lapse:\(user):\(second)"]?.dueAtMs == second)
            // The next lapse with the date unchanged ends it.
            #expect(await deliver(gw, "al:2", .accessLapse(untilMs: second), user: user).outcome == .delivered)
            #expect(gw.simulator.clubState(Self.club)?.members[user] == "left")
            #expect(try await !gw.door!.ledger.entry(user).entitled)
        }
    }

    @Test("A lapse never shows out an administrator or someone on the allow-list, and a revoked user's reminder is skipped")
    func administratorsAllowListAndRevoked() async throws {
        let config = ClubConfiguration(
            chats: [Self.club], inviteTTL: .seconds(3600), allowList: [9732], accessPeriod: .seconds(86400))
        try await withGateway(club: config) { gw in
            gw.simulator.addClub(id: Self.club, title: "Club", administrators: [9731])
            gw.simulator.addUsers([SimUser(id: 9731), SimUser(id: 9732), SimUser(id: 9733)])
            for (user, record) in [(Int64(9731), Int64(81)), (9732, 82), (9733, 83)] {
                #expect(try await pay(gw, user, record: record, job: "pc:\(user)").outcome == .delivered)
            }
            let link2 = try #require(link(in: gw.simulator.sent(to: 9732).last?.text))
            #expect(gw.simulator.join(9732, club: Self.club, link: link2) == .joined)
            for user: Int64 in [9731, 9732] {
                let until = try #require(try await gw.door!.ledger.entry(user).expiresAtMs)
                #expect(await deliver(gw, "al:\(user)", .accessLapse(untilMs: until), user: user).outcome == .delivered)
            }
            #expect(gw.simulator.clubState(Self.club)?.members[9731] == "administrator")
            #expect(gw.simulator.clubState(Self.club)?.members[9732] == "member")
            #expect(gw.door!.stats.removedLapsed == 0)
            // An operator took 9733's access away: their period's reminder is skipped.
            let until = try #require(try await gw.door!.ledger.entry(9733).expiresAtMs)
            _ = try await gw.door!.ledger.revoke(9733)
            let sent = gw.simulator.sent(to: 9733).count
            #expect(await deliver(gw, "ar:3", .accessReminder(step: "renew-1d", untilMs: until), user: 9733).outcome == .skipped)
            #expect(gw.simulator.sent(to: 9733).count == sent)
        }
    }
}
