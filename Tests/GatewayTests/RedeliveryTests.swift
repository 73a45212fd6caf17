import Synchronization
import Testing
import TollgateCore
import TollgateGateway
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// Work delivered again while its first run still goes on: one runner per unit (a claim in
/// Redis), and a `deliver` that answers within the poller's wait. Counted from what the Telegram
/// simulator received.
@Suite("Redelivery while running", .serialized, .timeLimit(.minutes(3)))
struct RedeliveryTests {
    /// A limiter that makes every message wait `delay` for its slot (a chat at Telegram's 1/s).
    struct SlowLimiter: OutboundRateLimiter {
        let delay: Duration
        func acquire(chatID: Int64, cost: Int) async throws { try await Task.sleep(for: delay) }
        func pushBack(chatID: Int64, by delay: Duration) async throws {}
        func acquireBackground() async throws {}
    }

    @Test("The same job handed to two runners at once is sent once; the second is told to come back")
    func twoRunnersOneJob() async throws {
        try await withGateway(limiter: SlowLimiter(delay: .milliseconds(800)), startPolling: false) { gw in
            gw.simulator.addUsers([SimUser(id: 6100, firstName: "Twice")])
            let job = gw.delivery("message:6100:1", "message", user: 6100, payload: ["text": .string("Only once")])
            // Two deliveries of one job at once: a redelivery after the poller's timeout, a second
            // gateway handed the same unit.
            async let one = gw.deliver.handle(Deliver(deliveries: [job]))
            async let other = gw.deliver.handle(Deliver(deliveries: [job]))
            let outcomes = [await one.results[0], await other.results[0]]
            #expect(outcomes.filter { $0.outcome == .delivered }.count == 1, "\(outcomes)")
            let deferred = try #require(outcomes.first { $0.outcome == .retry }, "\(outcomes)")
            #expect(deferred.attempted == false, "not charged an attempt")
            #expect(deferred.detail == "running elsewhere")
            // It comes back later: answered from the journal, nothing sent again.
            let later = await gw.deliver.handle(Deliver(deliveries: [job]))
            #expect(later.results[0].outcome == .duplicate)
            #expect(gw.texts(6100) == ["Only once"])
            #expect(gw.runner.counters.snapshot.runningElsewhere == 1)
        }
    }

    @Test("A reminder waiting for its slot when the payment is confirmed does not go out after the confirmation")
    func reminderStoppedByAConfirmation() async throws {
        try await withGateway(limiter: SlowLimiter(delay: .milliseconds(1500)), startPolling: false) { gw in
            gw.simulator.addUsers([SimUser(id: 6300, firstName: "Late")])
            guard case .moved(_, let cycle) = try await gw.states.transition(6300, to: .awaitingPayment, from: [nil]) else {
                Issue.record("no state")
                return
            }
            let step = FlowDefinition.defaults.reminders[0].step
            let reminder = gw.delivery(
                "reminder:6300:\(cycle):\(step)", "reminder", user: 6300,
                payload: ["step": .string(step), "cycle": .number(Double(cycle))])
            // The reminder is planned (awaiting payment) and waits 1.5 s for its slot; meanwhile the
            // payment is confirmed.
            async let reminderRun = gw.deliver.handle(Deliver(deliveries: [reminder]))
            // Confirmed once the reminder is planned (its plan recorded) and waiting for its slot.
            let scope = "j:reminder:6300:\(cycle):\(step)"
            #expect(await eventually { (try? await gw.effects.load(scope).result("plan")) != nil })
            _ = try await gw.states.transition(6300, to: .paid, from: [.awaitingPayment])
            let result = await reminderRun.results[0]
            #expect(result.outcome == .skipped, "\(result)")
            #expect(gw.simulator.sent(to: 6300).isEmpty, "\(gw.texts(6300))")
            #expect(gw.runner.counters.snapshot.stoppedByState == 1)
            // Its replay stays stopped.
            let again = await gw.deliver.handle(Deliver(deliveries: [reminder]))
            #expect(again.results[0].outcome == .duplicate || again.results[0].outcome == .skipped)
            #expect(gw.simulator.sent(to: 6300).isEmpty)
        }
    }

    @Test("A deliver answers within the poller's wait: what could not leave in time is not tried, and is sent once later")
    func answersWithinTheWait() async throws {
        try await withGateway(limiter: SlowLimiter(delay: .milliseconds(400)), startPolling: false) { gw in
            gw.simulator.addUsers([SimUser(id: 6200, firstName: "Backlog")])
            let jobs = (1...8).map {
                gw.delivery("message:6200:\($0)", "message", user: 6200, payload: ["text": .string("Message \($0)")])
            }
            // The poller waits 1.6 s: no message may leave after 1.2 s (a quarter kept for the
            // messages in flight and the reply).
            // Eight messages at 400 ms each need 3.2 s: some cannot leave in time.
            let reply = await gw.deliver.handle(Deliver(deliveries: jobs, replyWithinMs: 1600))
            let delivered = reply.results.filter { $0.outcome == .delivered }
            let notTried = reply.results.filter { $0.outcome == .retry && $0.attempted == false }
            #expect(delivered.count < jobs.count, "\(reply.results)")
            #expect(delivered.count + notTried.count == jobs.count, "\(reply.results)")
            // Only what was answered delivered reached Telegram, in order.
            #expect(gw.texts(6200) == delivered.map { "Message \($0.jobID.split(separator: ":").last!)" })
            // The poller delivers the rest (and the whole batch again): each message once.
            var rounds = 0
            var pending = jobs
            while !pending.isEmpty && rounds < 10 {
                rounds += 1
                let again = await gw.deliver.handle(Deliver(deliveries: pending, replyWithinMs: 1600))
                pending = zip(pending, again.results).filter { $0.1.outcome == .retry }.map(\.0)
            }
            #expect(pending.isEmpty)
            _ = await gw.deliver.handle(Deliver(deliveries: jobs, replyWithinMs: 1600))
            #expect(gw.texts(6200) == (1...8).map { "Message \($0)" })
            #expect(gw.sender.stats.outOfTime >= 1)
        }
    }
}
