import Testing
import TollgateBroadcast
import TollgateCore
import TollgateGateway
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
}
