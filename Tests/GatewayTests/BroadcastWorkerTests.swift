import Foundation
import Testing
import TollgateBroadcast
import TollgateCoordination
import TollgateCore
import TollgateGateway
import TollgateIPC
import TollgateRedis
import TollgateSimulators
import TollgateTestKit

/// The broadcast worker through the Telegram simulator: every recipient gets the campaign's text
/// once, with their name; a blocked user is tried once and counted as suppressed; recipients
/// handed out again after a lapsed lease are not sent again; an uncertain send is skipped by
/// default. Counted from what the simulator saw.
@Suite("Broadcast worker", .timeLimit(.minutes(2)))
struct BroadcastWorkerTests {
    func worker(_ gw: GatewayHarness, batch: Int = 20, lease: Duration = .seconds(60)) -> (BroadcastWorker, BroadcastOutbox) {
        let outbox = BroadcastOutbox(redis: gw.pool, keys: gw.keys)
        let worker = BroadcastWorker(
            outbox: outbox, journal: gw.effects, claims: RunClaims(redis: gw.pool, keys: gw.keys, logger: quietLogger),
            sender: gw.sender, states: gw.states, settings: .init(batch: batch, lease: lease, idle: .milliseconds(50)), logger: quietLogger)
        return (worker, outbox)
    }

    func campaign(_ outbox: BroadcastOutbox, _ id: String, _ users: [Int64], text: String) async throws {
        _ = try await outbox.create(id: id, fields: BroadcastMessage(text: text).fields, idempotencyKey: id)
        for start in stride(from: 0, to: users.count, by: BroadcastOutbox.chunk) {
            _ = try await outbox.enqueue(id, recipients: Array(users[start..<min(users.count, start + BroadcastOutbox.chunk)]))
        }
        try await outbox.seal(id)
    }

    @Test("120 recipients: each gets the text once with their name; a blocked one is tried once and suppressed; the campaign is done")
    func everyoneOnce() async throws {
        try await withGateway(startPolling: false) { gw in
            let users = (0..<120).map { SimUser(id: Int64(7_000_000 + $0), firstName: "P\($0)") }
            gw.simulator.addUsers(users)
            gw.simulator.block(userID: users[7].id)
            _ = try await gw.states.transition(users[3].id, to: .idle, from: [nil], metadata: ["first_name": "Zoe"])
            let (worker, outbox) = worker(gw)
            try await campaign(outbox, "hello", users.map(\.id), text: "News for {first_name} ({user_id})")
            #expect(try await worker.step())
            // What stats and STATUS= show: looked at before the first batch.
            #expect(worker.stats.campaignsRunning == 1 && worker.stats.toGo == 120, "\(worker.stats)")
            while try await worker.step() {}
            for (index, user) in users.enumerated() where index != 7 {
                #expect(gw.texts(user.id) == ["News for \(index == 3 ? "Zoe" : "there") (\(user.id))"], "\(user.id)")
            }
            #expect(gw.texts(users[7].id).isEmpty)
            let progress = try #require(try await outbox.progress("hello"))
            #expect(progress.state == .done && progress.sent == 119 && progress.suppressed == 1, "\(progress)")
            #expect(gw.simulator.counters.forbidden == 1)
            #expect(worker.stats.sent == 119 && worker.stats.batches == 6)
            // Blocked users of later campaigns are skipped without a request.
            try await campaign(outbox, "again", [users[7].id, users[8].id], text: "Once more")
            while try await worker.step() {}
            #expect(gw.simulator.counters.forbidden == 1 && gw.texts(users[8].id).last == "Once more")
            #expect(try await outbox.progress("again")?.suppressed == 1)
        }
    }

    @Test("A gateway that sent a batch and died before completing it: after the lease the batch is handed out again and nobody gets it twice")
    func redeliveredBatchIsNotSentTwice() async throws {
        try await withGateway(startPolling: false) { gw in
            let users = (0..<10).map { SimUser(id: Int64(7_100_000 + $0), firstName: "Q\($0)") }
            gw.simulator.addUsers(users)
            let (worker, outbox) = worker(gw, batch: 5)
            try await campaign(outbox, "c", users.map(\.id), text: "Hi {first_name}")
            // The first gateway claims five with a short lease, sends them, and dies before completing.
            let dead = try await outbox.claim("c", limit: 5, lease: .milliseconds(300))
            let message = BroadcastMessage(text: "Hi {first_name}")
            for user in dead.recipients { #expect(try await worker.sendOne(message, campaign: "c", to: user) == .sent) }
            // A send that may have gone out: a request on the wire when that gateway died.
            try await gw.effects.markStarted("b:c:\(users[9].id)", "s0")
            // Another gateway takes over once the lease has lapsed.
            let deadline = ContinuousClock.now + .seconds(30)
            while try await outbox.progress("c")?.state != .done, ContinuousClock.now < deadline {
                if try await !worker.step() { try await Task.sleep(for: .milliseconds(50)) }
            }
            for user in users.prefix(9) { #expect(gw.texts(user.id) == ["Hi there"], "\(user.id): \(gw.texts(user.id))") }
            #expect(gw.texts(users[9].id).isEmpty, "uncertain: skipped by default, never sent twice")
            let progress = try #require(try await outbox.progress("c"))
            #expect(progress.sent == 9 && progress.uncertain == 1 && progress.state == .done, "\(progress)")
            #expect(worker.stats.alreadyDone == 5)
            #expect(gw.simulator.counters.messagesAccepted == 9)
        }
    }

    @Test("The operator's API: a dry run counts, a campaign by state or by ids is made once per key, shown, paused, resumed, cancelled; bad input refused before anything is queued")
    func operatorAPI() async throws {
        try await withGateway(startPolling: false) { gw in
            let users = (0..<6).map { SimUser(id: Int64(7_200_000 + $0), firstName: "R\($0)") }
            gw.simulator.addUsers(users)
            for (index, user) in users.enumerated() {
                _ = try await gw.states.transition(user.id, to: index < 4 ? .paid : .idle, from: [nil], metadata: ["first_name": user.firstName])
            }
            let (worker, outbox) = worker(gw)
            let api = BroadcastAPI(outbox: outbox, redis: gw.pool, keys: gw.keys, logger: quietLogger)
            func call<T>(_ body: () async throws -> T) async throws(IPCError) -> T { try await BroadcastAPI.call(body) }

            let paid = BroadcastAudience(kind: "state", state: "paid")
            let dry = try await call { try await api.create(BroadcastCreate(text: "Hi {first_name}", audience: paid, idempotencyKey: "k0", dryRun: true)) }
            let none = try await outbox.list()
            #expect(dry.audience == 4 && dry.id.isEmpty && none.isEmpty, "a dry run makes nothing")
            let made = try await call { try await api.create(BroadcastCreate(text: "Hi {first_name}", audience: paid, idempotencyKey: "k1")) }
            #expect(made.created && made.audience == 4)
            let again = try await call { try await api.create(BroadcastCreate(text: "Hi {first_name}", audience: paid, idempotencyKey: "k1")) }
            #expect(again == .init(id: made.id, created: false, audience: 4), "a retried command makes nothing new")
            // Paused before anything went: nothing is sent until resumed.
            #expect(try await call { try await api.control(BroadcastControl(id: made.id, action: "pause")) }.state == "paused")
            #expect(try await !worker.step())
            _ = try await call { try await api.control(BroadcastControl(id: made.id, action: "resume")) }
            while try await worker.step() {}
            for (index, user) in users.enumerated() { #expect(gw.texts(user.id) == (index < 4 ? ["Hi \(user.firstName)"] : []), "\(user.id)") }
            let shown = try await call { try await api.show(BroadcastShow(id: made.id)) }
            #expect(shown.state == "done" && shown.sent == 4 && shown.text == "Hi {first_name}", "\(shown)")

            // By ids: added in requests, sealed, then sent; ids of another kind refused.
            let list = try await call {
                try await api.create(BroadcastCreate(text: "Just you", audience: BroadcastAudience(kind: "ids"), idempotencyKey: "k2"))
            }
            #expect(try await call { try await api.add(BroadcastAdd(id: list.id, userIDs: [users[4].id, users[5].id, users[4].id])) }.added == 2)
            await #expect(throws: IPCError.self) { try await call { try await api.add(BroadcastAdd(id: made.id, userIDs: [1])) } }
            #expect(try await call { try await api.seal(BroadcastSeal(id: list.id)) }.state == "running")
            await #expect(throws: IPCError.self) { try await call { try await api.add(BroadcastAdd(id: list.id, userIDs: [9])) } }
            let cancelled = try await call { try await api.control(BroadcastControl(id: list.id, action: "cancel")) }
            #expect(cancelled.state == "cancelled" && cancelled.dropped == 2)
            #expect(try await !worker.step())
            #expect(gw.texts(users[4].id) == [])
            #expect(try await call { try await api.list() }.campaigns.map(\.id) == [list.id, made.id])

            // Members whose access ends within a week (the club's ledger): two of them; one ends later, one was revoked.
            let ledger = EntitlementLedger(redis: gw.pool, keys: gw.keys)
            let now = WallClock.epochMilliseconds()
            let ends: [(index: Int, days: Int64)] = [(0, 3), (1, 6), (2, 30), (3, 2)]
            for end in ends {
                let until = now + end.days * 86_400_000
                _ = try await ledger.grant(users[end.index].id, source: "manual", grantID: "g\(end.index)", term: .until(until), offer: .set(nil))
            }
            try await ledger.revoke(users[3].id)
            let week = BroadcastAudience(kind: "expiring", withinMs: 7 * 86_400_000)
            let ending = try await call { try await api.create(BroadcastCreate(text: "Renew, {first_name}", audience: week, idempotencyKey: "k5")) }
            #expect(ending.audience == 2, "\(ending)")
            while try await worker.step() {}
            let renewTexts = users.map { gw.texts($0.id).last ?? "" }
            #expect(renewTexts[0] == "Renew, R0")
            #expect(renewTexts[1] == "Renew, R1")
            #expect(renewTexts[2] != "Renew, R2")
            #expect(renewTexts[3] != "Renew, R3")

            // Bad input: typed errors, nothing made.
            for bad in [
                BroadcastCreate(text: "Hi {name}", audience: paid, idempotencyKey: "k3"),
                BroadcastCreate(text: String(repeating: "x", count: 4097), audience: paid, idempotencyKey: "k4"),
                BroadcastCreate(text: "Hi", audience: BroadcastAudience(kind: "expiring"), idempotencyKey: "k6"),
                BroadcastCreate(
                    text: "Hi", audience: paid, idempotencyKey: "k8", button: BroadcastButton(text: "Pay", url: "javascript:alert(1)")),
            ] {
                do throws(IPCError) {
                    _ = try await call { try await api.create(bad) }
                    Issue.record("accepted: \(bad.text.prefix(20))")
                } catch {
                    #expect(error.code == .invalidRequest, "\(error)")
                }
            }
            do throws(IPCError) {
                _ = try await call { try await api.show(BroadcastShow(id: "nope")) }
                Issue.record("a missing campaign was shown")
            } catch {
                #expect(error.code == .notFound)
            }
            #expect(try await outbox.list().count == 3)
        }
    }

    @Test("A URL button under a campaign's message, its link filled per recipient")
    func buttonPerRecipient() async throws {
        try await withGateway(startPolling: false) { gw in
            let user = SimUser(id: 7_300_001, firstName: "Button")
            gw.simulator.addUsers([user])
            let (worker, outbox) = worker(gw)
            let api = BroadcastAPI(outbox: outbox, redis: gw.pool, keys: gw.keys, logger: quietLogger)
            var withButton = BroadcastCreate(text: "Renew today", audience: BroadcastAudience(kind: "ids"), idempotencyKey: "k7")
            withButton.button = BroadcastButton(text: "Renew", url: "https://pay.example.com/renew?u={user_id}")
            let buttoned = try await api.create(withButton)
            _ = try await api.add(BroadcastAdd(id: buttoned.id, userIDs: [user.id]))
            _ = try await api.seal(BroadcastSeal(id: buttoned.id))
            while try await worker.step() {}
            let last = try #require(gw.simulator.sent(to: user.id).last)
            #expect(last.text == "Renew today")
            #expect(last.buttons.first?.first?.url == "https://pay.example.com/renew?u=\(user.id)", "\(last)")
        }
    }

    @Test("A campaign with a photo from a path: the text is the caption, filled per recipient; the file is uploaded once, then sent by its file_id")
    func mediaFromAPath() async throws {
        try await withGateway(startPolling: false) { gw in
            let users = (0..<6).map { SimUser(id: Int64(7_400_000 + $0), firstName: "M\($0)") }
            gw.simulator.addUsers(users)
            let path = TestNetwork.temporaryDirectory(prefix: "bc-media") + "/poster.png"
            try "not really a png".write(toFile: path, atomically: true, encoding: .utf8)
            let (worker, outbox) = worker(gw)
            let api = BroadcastAPI(outbox: outbox, redis: gw.pool, keys: gw.keys, logger: quietLogger)
            var request = BroadcastCreate(text: "Poster for {first_name}", audience: BroadcastAudience(kind: "ids"), idempotencyKey: "media")
            request.media = BroadcastMedia(kind: "photo", source: path)
            let made = try await api.create(request)
            _ = try await api.add(BroadcastAdd(id: made.id, userIDs: users.map(\.id)))
            _ = try await api.seal(BroadcastSeal(id: made.id))
            while try await worker.step() {}
            for user in users {
                let sent = gw.simulator.sent(to: user.id)
                #expect(sent.count == 1 && sent.first?.mediaKind == "photo" && sent.first?.caption == "Poster for there", "\(sent)")
            }
            #expect(gw.simulator.counters.uploads == 1)
            #expect(try await outbox.progress(made.id)?.sent == 6)
        }
    }

    @Test("Media refused before anything is queued: a path that is not there, a caption over 1,024, an unknown kind, a file_id with junk")
    func badMedia() async throws {
        try await withGateway(startPolling: false) { gw in
            let (_, outbox) = worker(gw)
            let api = BroadcastAPI(outbox: outbox, redis: gw.pool, keys: gw.keys, logger: quietLogger)
            let cases: [(BroadcastMedia, String, String)] = [
                (BroadcastMedia(kind: "photo", source: "/nonexistent/poster.png"), "Hi", "does not exist"),
                (BroadcastMedia(kind: "video", source: "file_id:AgAD123"), String(repeating: "x", count: 1025), "caption"),
                (BroadcastMedia(kind: "sticker", source: "file_id:AgAD123"), "Hi", "photo, video or document"),
                (BroadcastMedia(kind: "document", source: "file_id:a b"), "Hi", "file_id"),
                (BroadcastMedia(kind: "document", source: "relative/file.pdf"), "Hi", "absolute path"),
            ]
            for (n, (media, text, says)) in cases.enumerated() {
                var request = BroadcastCreate(text: text, audience: BroadcastAudience(kind: "all"), idempotencyKey: "bad\(n)")
                request.media = media
                do throws(IPCError) {
                    _ = try await BroadcastAPI.call { try await api.create(request) }
                    Issue.record("accepted: \(media)")
                } catch {
                    #expect(error.code == .invalidRequest && error.message.contains(says), "\(media): \(error.message)")
                }
            }
            let made: [String] = try await outbox.list(limit: 10)
            #expect(made.isEmpty, "nothing made")
        }
    }

    @Test("allow_paid_broadcast: past the bot's own budget on the paid one, each message sent with the flag (the simulator charges those above its free limit); replies keep the bot's budget")
    func paidBroadcast() async throws {
        // The bot's budget is 2 msg/s (Telegram's free limit as the simulator plays it, too); the paid one 200.
        let limits = SimFloodLimits(globalPerSecond: 2, globalBurst: 2, perChatPerSecond: 100, perChatBurst: 100)
        let shared = SharedSendLimits(
            limiter: LocalRateLimiter(), botID: "123456", globalPerSecond: 2, chatPerSecond: 100, groupPerMinute: 6000, paidPerSecond: 200)
        try await withGateway(limits: limits, limiter: shared, startPolling: false) { gw in
            let users = (0..<40).map { SimUser(id: Int64(7_500_000 + $0)) }
            gw.simulator.addUsers(users)
            let (worker, outbox) = worker(gw)
            let api = BroadcastAPI(outbox: outbox, redis: gw.pool, keys: gw.keys, logger: quietLogger)
            var request = BroadcastCreate(text: "Flash sale", audience: BroadcastAudience(kind: "ids"), idempotencyKey: "paid")
            request.allowPaidBroadcast = true
            let made = try await api.create(request)
            _ = try await api.add(BroadcastAdd(id: made.id, userIDs: users.map(\.id)))
            _ = try await api.seal(BroadcastSeal(id: made.id))
            while try await worker.step() {}
            for user in users { #expect(gw.texts(user.id) == ["Flash sale"]) }
            let counters = gw.simulator.counters
            #expect(counters.paidBroadcastMessages == 40, "every message with the flag")
            #expect(counters.paidBroadcastCharged > 0 && counters.floodRefusals == 0, "\(counters.paidBroadcastCharged) charged, \(counters.floodRefusals) 429s")
            // The bot's own budget was not spent on the campaign: a reply goes at once.
            #expect(try await shared.limiter.currentWait(shared.global) == .zero)
        }
    }
}
