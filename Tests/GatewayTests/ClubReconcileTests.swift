import Foundation
import Synchronization
import Testing
import TollgateCore
import TollgateGateway
import TollgateIPC
import TollgateRedis
import TollgateSimulators
import TollgateTestKit

/// Reconciliation of the club's door against the simulator's club, with drift injected behind
/// the gateway's back (no updates): a payer whose link expired unused, members whose right was
/// taken away without their removal, one whose row says paid, one the ledger last saw leave, an
/// administrator and an allow-listed member who are never removed. Then the operator's grant,
/// revoke and status.
@Suite("Club reconciliation", .timeLimit(.minutes(3)))
struct ClubReconcileTests {
    static let club: Int64 = -100_888

    /// Counts the reconciliation's slots of the background budget (and gives them at once).
    final class CountingLimiter: OutboundRateLimiter {
        let background = Atomic<Int>(0)
        let messages = Atomic<Int>(0)
        func acquire(chatID: Int64, cost: Int) async throws { messages.add(cost, ordering: .relaxed) }
        func pushBack(chatID: Int64, by delay: Duration) async throws {}
        func acquireBackground() async throws { background.add(1, ordering: .relaxed) }
    }

    func pay(_ gw: GatewayHarness, _ user: Int64, record: Int64) async throws -> String? {
        _ = try await gw.states.transition(user, to: .awaitingPayment, from: [nil, .idle], metadata: ["record_id": String(record)])
        let delivery = gw.delivery("pc:\(user)", "payment_confirmed", user: user, payload: ["record_id": .number(Double(record))])
        #expect(await gw.deliver.handle(Deliver(deliveries: [delivery])).results[0].outcome == .delivered)
        return link(in: gw.simulator.sent(to: user).last?.text)
    }

    func link(in text: String?) -> String? {
        text?.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init).first { $0.hasPrefix("https://t.me/+sim") }
    }

    @Test("A reconciliation removes who is inside without a right, re-invites a stranded payer once, and spares admins, the allow-list and a paid row")
    func repairsInjectedDrift() async throws {
        let config = ClubConfiguration(chats: [Self.club], inviteTTL: .seconds(3600), allowList: [9807], reconcileInterval: nil)
        let limiter = CountingLimiter()
        try await withGateway(limiter: limiter, club: config) { gw in
            let door = try #require(gw.door)
            let reconciler = ClubReconciler(
                door: door, runner: gw.runner, directory: gw.directory, limiter: limiter, leadership: AlwaysLeader(),
                redis: gw.pool, keys: gw.keys, logger: quietLogger)
            let (inside, stranded, revoked, paidRow, unseen, admin, allowed) = (Int64(9801), Int64(9802), Int64(9803), Int64(9804), Int64(9805), Int64(9806), Int64(9807))
            gw.simulator.addClub(id: Self.club, title: "Club", administrators: [admin])
            gw.simulator.addUsers([inside, stranded, revoked, paidRow, unseen, allowed].map { SimUser(id: $0, firstName: "P\($0)") })
            for (user, row) in [(inside, Int64(81)), (revoked, 83), (paidRow, 84)] {
                let personal = try #require(try await pay(gw, user, record: row))
                #expect(gw.simulator.join(user, club: Self.club, link: personal) == .joined)
            }
            _ = try #require(try await pay(gw, stranded, record: 82))
            #expect(await eventually { door.stats.joinsEntitled == 3 })

            // Drift, behind the gateway's back.
            // The stranded payer's link expired unused.
            let entryKey = RedisArgument(gw.keys("club", "ent", String(stranded)))
            _ = try await gw.pool.next().send("HSET", entryKey, RedisArgument("link_exp:\(Self.club)"), "1000")
            // Two rights taken away whose removal never happened; one row says unpaid, one paid.
            try await door.ledger.revoke(revoked)
            try await door.ledger.revoke(paidRow)
            gw.directory.state.withLock { $0.payments[83] = PaymentRecord(paid: false) }
            // Someone the ledger saw leave is inside after all, the administrator and the
            // allow-listed user are known to the ledger but have no right.
            try await door.ledger.recordMembership(unseen, chat: Self.club, status: "left")
            gw.simulator.setMembership(unseen, club: Self.club, status: "member")
            try await door.ledger.recordMembership(admin, chat: Self.club, status: "administrator")
            gw.simulator.setMembership(allowed, club: Self.club, status: "member")
            try await door.ledger.recordMembership(allowed, chat: Self.club, status: "member")

            // A dry run counts and changes nothing.
            let sentBefore = gw.simulator.sent(to: stranded).count
            let dry = try #require(try await reconciler.reconcile(trigger: "request", dryRun: true))
            #expect(dry.scanned == 7 && dry.insideUnentitled == 3 && dry.removed == 2 && dry.keptPaid == 1, "\(dry)")
            #expect(dry.strandedPayers == 1 && dry.reinvited == 0 && dry.errors == 0, "\(dry)")
            #expect(gw.simulator.clubState(Self.club)?.members[revoked] == "member")
            #expect(gw.simulator.sent(to: stranded).count == sentBefore)

            // The real run: the two without a right are out, the stranded payer has a new link.
            let messagesBefore = limiter.messages.load(ordering: .relaxed)
            let fixed = try #require(try await reconciler.reconcile(trigger: "request", dryRun: false))
            #expect(fixed.removed == 2 && fixed.reinvited == 1 && fixed.keptPaid == 1 && fixed.inside == 6, "\(fixed)")
            #expect(fixed.checked == 7 && limiter.background.load(ordering: .relaxed) == 7 + 7 + 2 * 2, "every getChatMember (dry run and real), and the ban and unban of both removals, on the background budget")
            #expect(limiter.messages.load(ordering: .relaxed) == messagesBefore + 1, "only the re-invite takes a message slot")
            let members = try #require(gw.simulator.clubState(Self.club)?.members)
            #expect(members[revoked] == "left" && members[unseen] == "left")
            #expect(members[paidRow] == "member" && members[admin] == "administrator" && members[allowed] == "member" && members[inside] == "member")
            #expect(gw.simulator.sent(to: stranded).count == sentBefore + 1)
            let fresh = try #require(link(in: gw.simulator.sent(to: stranded).last?.text))
            #expect(gw.simulator.join(stranded, club: Self.club, link: fresh) == .joined)
            #expect(await eventually { door.stats.joinsEntitled == 4 })

            // Again: nothing left to fix; the paid row is still reported, nobody is re-invited twice.
            try await Task.sleep(for: .milliseconds(50))
            let again = try #require(try await reconciler.reconcile(trigger: "schedule", dryRun: false))
            #expect(again.removed == 0 && again.reinvited == 0 && again.strandedPayers == 0 && again.keptPaid == 1, "\(again)")
            #expect(gw.simulator.sent(to: stranded).count == sentBefore + 1)

            // In a 5xx storm (half of getChatMember calls answered 502), each check is tried again:
            // everyone is still checked, nothing is removed for Telegram's failure.
            gw.simulator.setHostility(SimHostility(rate: 0.5, faults: [.serverError], routes: ["getChatMember"], seed: 7))
            let stormy = try #require(try await reconciler.reconcile(trigger: "request", dryRun: false))
            #expect(gw.simulator.hostileInjected.values.reduce(0, +) > 0)
            #expect(stormy.errors == 0 && stormy.removed == 0 && stormy.keptPaid == 1 && stormy.inside == 5, "\(stormy)")
            gw.simulator.setHostility(SimHostility(rate: 0))

            let status = try await reconciler.status()
            #expect(status.known == 7 && status.entitled == 3 && status.members == 5, "\(status)")
            #expect(status.insideUnentitled == 1 && status.strandedPayers == 0, "\(status)")
            #expect(status.lastReconcile?.trigger == "request" && status.nextReconcileAtMs == nil)
        }
    }

    @Test("An operator's grant gives a link through the ledger and ends like a payment's period; a revoke shows the member out")
    func operatorGrantAndRevoke() async throws {
        let config = ClubConfiguration(
            chats: [Self.club], inviteTTL: .seconds(3600), accessPeriod: .seconds(30 * 86400), reconcileInterval: nil)
        try await withGateway(club: config) { gw in
            let door = try #require(gw.door)
            let reconciler = ClubReconciler(
                door: door, runner: gw.runner, directory: gw.directory, limiter: NoLimits(), leadership: AlwaysLeader(),
                redis: gw.pool, keys: gw.keys, logger: quietLogger)
            let (guest, other) = (Int64(9811), Int64(9812))
            gw.simulator.addClub(id: Self.club, title: "Club")
            gw.simulator.addUsers([SimUser(id: guest, firstName: "Guest"), SimUser(id: other, firstName: "Other")])
            await #expect(throws: IPCError.self) { try await reconciler.grant(ClubGrant(userID: guest, untilMs: 1000)) }
            let before = WallClock.epochMilliseconds()
            let granted = try await reconciler.grant(ClubGrant(userID: guest, periodMs: 10 * 86_400_000))
            #expect(granted.member.entitled && granted.member.source == "manual" && granted.links.count == 1)
            let until = try #require(granted.member.expiresAtMs)
            #expect(until >= before + 10 * 86_400_000)
            // Its end is scheduled like a payment's: the reminders and the lapse.
            #expect(gw.pollerRequests.scheduled[AccessTerms.lapseJobID(user: guest, untilMs: until)]?.dueAtMs == until)
            #expect(gw.pollerRequests.scheduled[AccessTerms.reminderJobID(user: guest, untilMs: until, step: "renew-3d")] != nil)
            #expect(gw.simulator.join(guest, club: Self.club, link: granted.links[0]) == .joined)
            #expect(await eventually { door.stats.joinsEntitled == 1 })
            // The lapse falls due: shown out.
            let lapse = DueWork.accessLapse(untilMs: until)
            let result = await gw.deliver.handle(
                Deliver(deliveries: [gw.delivery("al:g", lapse.kind, user: guest, payload: lapse.payload)])).results[0]
            #expect(result.outcome == .delivered, "\(result)")
            #expect(gw.simulator.clubState(Self.club)?.members[guest] == "left")
            #expect(try await !door.ledger.entry(guest).entitled)

            // A grant with no end, then a revoke: out, and a second revoke changes nothing.
            let forever = try await reconciler.grant(ClubGrant(userID: other))
            #expect(forever.member.entitled && forever.member.expiresAtMs == nil)
            #expect(gw.simulator.join(other, club: Self.club, link: forever.links[0]) == .joined)
            #expect(await eventually { door.stats.joinsEntitled == 2 })
            let revoked = try await reconciler.revoke(ClubRevoke(userID: other))
            #expect(!revoked.member.entitled && revoked.removedFrom == 1)
            #expect(gw.simulator.clubState(Self.club)?.members[other] == "left")
            #expect(try await reconciler.revoke(ClubRevoke(userID: other)).removedFrom == 0)
        }
    }

    @Test("Without access periods, a grant with an end is refused: nothing would end it")
    func aGrantWithAnEndNeedsPeriods() async throws {
        let config = ClubConfiguration(chats: [Self.club], reconcileInterval: nil)
        try await withGateway(club: config) { gw in
            let reconciler = ClubReconciler(
                door: try #require(gw.door), runner: gw.runner, directory: gw.directory, limiter: NoLimits(),
                leadership: AlwaysLeader(), redis: gw.pool, keys: gw.keys, logger: quietLogger)
            gw.simulator.addClub(id: Self.club, title: "Club")
            await #expect(throws: IPCError.self) { try await reconciler.grant(ClubGrant(userID: 9821, periodMs: 86_400_000)) }
            #expect(try await !gw.door!.ledger.entry(9821).entitled, "no change of state")
        }
    }
}
