import Testing
import TollgateGateway
import TollgateIPC
import TollgateRedis
import TollgateSimulators
import TollgateTelegram

@Suite("Gateway flow against the simulator", .timeLimit(.minutes(3)))
struct FlowEndToEndTests {
    @Test("/start → Get access → reminder → paid: one welcome, one link, reminders while unpaid, one confirmation")
    func wholeFlow() async throws {
        try await withGateway { gw in
            let ana = SimUser(id: 7001, firstName: "Ana")
            gw.simulator.userSends("/start", from: ana)
            #expect(await eventually { gw.simulator.sent(to: 7001).count == 1 })
            let welcome = gw.simulator.sent(to: 7001)[0]
            #expect(welcome.text == "Hi Ana! This bot gives access to the private club. Press the button below to get access.")
            #expect(welcome.callbackData == [FlowDefinition.getAccessData])
            let v1 = try await gw.states.state(of: 7001)
            #expect(v1?.phase == .idle)

            try gw.simulator.userPresses(FlowDefinition.getAccessData, from: ana)
            #expect(await eventually { gw.simulator.sent(to: 7001).count == 2 })
            #expect(await eventually { gw.pollerRequests.scheduled.values.contains { $0.userID == 7001 } })
            let link = gw.simulator.sent(to: 7001)[1]
            let recordID = try #require(gw.directory.rows[7001])
            #expect(link.text?.contains("telegram_id=7001&record=\(recordID)") == true)
            #expect(link.buttons.first?.first?.url?.contains("record=\(recordID)") == true)
            let state = try #require(try await gw.states.state(of: 7001))
            #expect(state.phase == .awaitingPayment)
            #expect(state.metadata["record_id"] == String(recordID))
            #expect(gw.pollerRequests.watches[7001]?.recordID == recordID)
            let reminderJob = try #require(gw.pollerRequests.scheduled.values.first { $0.userID == 7001 })
            #expect(reminderJob.kind == "reminder")
            #expect(reminderJob.delayMs == 300_000)
            #expect(gw.simulator.counters.requests["answerCallbackQuery"] == 1)

            // The reminder falls due while unpaid: sent.
            let reminder = gw.delivery(reminderJob.jobID!, "reminder", user: 7001, payload: reminderJob.payload)
            let r1 = await gw.deliver.handle(Deliver(deliveries: [reminder]))
            #expect(r1.results.map(\.outcome) == [.delivered])
            #expect(gw.texts(7001).last?.hasPrefix("Still thinking?") == true)

            // Payment confirmed: welcome + invite, state paid, reminders cancelled.
            let paid = gw.delivery("paid:7001:\(recordID)", "payment_confirmed", user: 7001, payload: ["record_id": .number(Double(recordID))])
            let r2 = await gw.deliver.handle(Deliver(deliveries: [paid]))
            #expect(r2.results.map(\.outcome) == [.delivered])
            #expect(gw.texts(7001).last == "Payment received — welcome to the club! Here is your invite link: https://t.me/+club-invite")
            let v2 = try await gw.states.state(of: 7001)
            #expect(v2?.phase == .paid)
            #expect(gw.pollerRequests.cancels.contains { $0.userID == 7001 && $0.kind == "reminder" })

            // The same job again: duplicate, nothing sent. A late reminder: skipped. A second confirmation job: skipped.
            let before = gw.simulator.sent(to: 7001).count
            let r3 = await gw.deliver.handle(
                Deliver(deliveries: [
                    paid, gw.delivery("late-reminder", "reminder", user: 7001, payload: reminderJob.payload),
                    gw.delivery("paid-again", "payment_confirmed", user: 7001),
                ]))
            #expect(r3.results.map(\.outcome) == [.duplicate, .skipped, .skipped])
            #expect(gw.simulator.sent(to: 7001).count == before)

            gw.simulator.userSends("/status", from: ana)
            #expect(await eventually { gw.simulator.sent(to: 7001).count == before + 1 })
            #expect(gw.texts(7001).last == "You have access. Your invite link: https://t.me/+club-invite")
            #expect(gw.directory.rows.count == 1)
        }
    }

    @Test("One chat's updates are handled in order; many chats at once")
    func perChatOrder() async throws {
        try await withGateway { gw in
            let users = (1...40).map { SimUser(id: Int64(8000 + $0)) }
            for round in 0..<4 {
                for user in users { gw.simulator.userSends(round % 2 == 0 ? "/start" : "/status", from: user) }
            }
            // 160 replies at 1/s per chat and 30/s in all: about 6 s unloaded.
            #expect(await eventually(timeout: .seconds(90)) { users.allSatisfy { gw.simulator.sent(to: $0.id).count == 4 } })
            for user in users {
                let texts = gw.texts(user.id)
                try #require(texts.count == 4, "\(texts)")
                #expect(texts[0].hasPrefix("Hi "), "\(texts)")
                #expect(texts[1].hasPrefix("You have not requested access"), "\(texts)")
                #expect(texts[2].hasPrefix("Hi "), "\(texts)")
                #expect(texts[3].hasPrefix("You have not requested access"), "\(texts)")
            }
            #expect(await eventually { gw.processor.stats.handled == 160 })
            #expect(gw.simulator.pendingUpdateCount == 0)
        }
    }

    @Test("A failing dependency makes the update retry; the replay repeats nothing")
    func retryRepeatsNothing() async throws {
        try await withGateway { gw in
            let bo = SimUser(id: 7100, firstName: "Bo")
            gw.simulator.userSends("/start", from: bo)
            #expect(await eventually { gw.simulator.sent(to: 7100).count == 1 })
            gw.directory.failNext(3)
            try gw.simulator.userPresses(FlowDefinition.getAccessData, from: bo)
            #expect(await eventually { gw.simulator.sent(to: 7100).count == 2 })
            try await Task.sleep(for: .milliseconds(300))
            #expect(gw.simulator.sent(to: 7100).count == 2)
            #expect(gw.directory.calls == 4)
            #expect(gw.processor.stats.retries == 3)
            #expect(gw.simulator.counters.requests["answerCallbackQuery"] == 1, "the button was answered once")
            // The steps after the link (watch, reminders) finish a moment later on a loaded machine.
            #expect(await eventually { gw.pollerRequests.scheduled.count == 1 })
        }
    }

    @Test("Inbound limit: ten messages a minute, then one polite reply, then silence")
    func inboundLimit() async throws {
        try await withGateway { gw in
            let chatty = SimUser(id: 7200)
            for i in 0..<15 { gw.simulator.userSends("hello \(i)", from: chatty) }
            #expect(await eventually { gw.processor.stats.handled == 15 })
            let texts = gw.texts(7200)
            #expect(texts.count == 11)
            #expect(texts.filter { $0 == FlowDefinition.defaults.help }.count == 10)
            #expect(texts.last == FlowDefinition.defaults.rateLimited)
            #expect(gw.processor.stats.limited == 5)
        }
    }

    @Test("A blocked user is tried once, then suppressed: later sends are skipped and counted")
    func blockedUserSuppressed() async throws {
        try await withGateway { gw in
            gw.simulator.addUsers([SimUser(id: 7300)])
            gw.simulator.block(userID: 7300)
            let first = await gw.deliver.handle(
                Deliver(deliveries: [gw.delivery("m1", "message", user: 7300, payload: ["text": .string("news")])]))
            #expect(first.results[0].outcome == .skipped)
            #expect(first.results[0].detail?.contains("blocked") == true)
            let second = await gw.deliver.handle(
                Deliver(deliveries: [gw.delivery("m2", "message", user: 7300, payload: ["text": .string("more news")])]))
            #expect(second.results[0].outcome == .skipped)
            #expect(gw.simulator.counters.forbidden == 1, "Telegram was asked once")
            #expect(gw.sender.stats.skippedSuppressed == 1)
            let v3 = try await gw.suppression.reason(for: 7300)
            #expect(v3 != nil)
            // Writing to the bot again lifts the suppression.
            gw.simulator.userSends("/start", from: SimUser(id: 7300))
            #expect(await eventually { gw.simulator.sent(to: 7300).count == 1 })
            let v4 = try await gw.suppression.reason(for: 7300)
            #expect(v4 == nil)
        }
    }

    @Test("A send that may have gone out before a crash: skipped for a message, resent for the confirmation (also from first-format records)")
    func uncertainSends() async throws {
        try await withGateway(startPolling: false) { gw in
            gw.simulator.addUsers([SimUser(id: 7400), SimUser(id: 7401)])
            // As if a crash came between Telegram accepting the message and the journal's mark.
            try await gw.effects.markDone("j:msg-1", "plan", .plan(phase: .idle, version: 1))
            try await gw.effects.markStarted("j:msg-1", "s0")
            let skipped = await gw.deliver.handle(
                Deliver(deliveries: [gw.delivery("msg-1", "message", user: 7400, payload: ["text": .string("hi")])]))
            #expect(skipped.results[0].outcome == .delivered)
            #expect(gw.simulator.sent(to: 7400).isEmpty, "on_uncertain skip: not repeated")
            #expect(try await gw.effects.load("j:msg-1").result("s0") == .uncertainSkipped)

            // The same window left by a version before typed records: its strings are still read.
            _ = try await gw.states.transition(7401, to: .awaitingPayment, from: [nil])
            let key = RedisArgument(gw.keys("gw", "fx", "j:paid-1"))
            _ = try await gw.pool.next().send(
                "HSET", key, "plan", "d:awaiting_payment@1", "s0", "d:m:2", "s1", "s")
            let repeated = await gw.deliver.handle(Deliver(deliveries: [gw.delivery("paid-1", "payment_confirmed", user: 7401)]))
            #expect(repeated.results[0].outcome == .delivered)
            #expect(gw.simulator.sent(to: 7401).count == 1, "on_uncertain resend: the confirmation is sent")
            let counters = gw.runner.counters.snapshot
            #expect(counters.uncertainSkipped == 1)
            #expect(counters.uncertainResent == 1)
            #expect(counters.uncertainSends == 2)
            // A replay of the finished unit sends nothing more.
            let again = await gw.deliver.handle(Deliver(deliveries: [gw.delivery("paid-1", "payment_confirmed", user: 7401)]))
            #expect(again.results[0].outcome == .duplicate)
            #expect(gw.simulator.sent(to: 7401).count == 1)
        }
    }
}
