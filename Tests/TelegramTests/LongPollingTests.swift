import Testing
import TollgateCore
import TollgateHTTP
import TollgateSimulators
import TollgateTelegram

@Suite("Long polling against the simulator", .timeLimit(.minutes(2)))
struct LongPollingTests {
    @Test("Offsets confirm earlier updates; limit caps a batch")
    func offsets() async throws {
        try await withSimulator { sim in
            for i in 1...5 { sim.simulator.userSends("m\(i)", from: SimUser(id: Int64(100 + i))) }
            let first = try await sim.telegram.getUpdates(offset: nil, limit: 2, timeout: 0).updates
            #expect(first.map { $0.message?.text } == ["m1", "m2"])
            // Without an offset nothing is confirmed: the same two come again.
            let again = try await sim.telegram.getUpdates(offset: nil, limit: 2, timeout: 0).updates
            #expect(again.map(\.updateID) == first.map(\.updateID))
            let rest = try await sim.telegram.getUpdates(offset: first[1].updateID + 1, timeout: 0).updates
            #expect(rest.map { $0.message?.text } == ["m3", "m4", "m5"])
            #expect(sim.simulator.pendingUpdateCount == 3)
            let none = try await sim.telegram.getUpdates(offset: rest[2].updateID + 1, timeout: 0).updates
            #expect(none.isEmpty)
            #expect(sim.simulator.pendingUpdateCount == 0)
            #expect(sim.simulator.counters.updatesDelivered == 5)
        }
    }

    @Test("A waiting poll returns as soon as an update arrives; an empty wait ends at the timeout")
    func waitsForUpdates() async throws {
        try await withSimulator { sim in
            async let polled = sim.telegram.getUpdates(offset: nil, timeout: 20).updates
            // Inject once the poll is waiting.
            #expect(await eventually { sim.simulator.counters.requests["getUpdates"] == 1 })
            try await Task.sleep(for: .milliseconds(50))
            sim.simulator.userSends("wake up", from: SimUser(id: 1))
            let updates = try await polled
            #expect(updates.map { $0.message?.text } == ["wake up"])

            let clock = ContinuousClock()
            let start = clock.now
            let empty = try await sim.telegram.getUpdates(offset: updates[0].updateID + 1, timeout: 1).updates
            #expect(empty.isEmpty)
            #expect(clock.now - start >= .milliseconds(900))
        }
    }

    @Test("allowed_updates filters kinds and is kept for later calls")
    func allowedUpdates() async throws {
        try await withSimulator { sim in
            let user = SimUser(id: 31)
            sim.simulator.addUsers([user])
            _ = try await sim.telegram.sendMessage(
                chatID: 31, text: "pick", replyMarkup: InlineKeyboardMarkup([[.callback("A", data: "a")]]))
            sim.simulator.userSends("text", from: user)
            try sim.simulator.userPresses("a", from: user)
            let onlyCallbacks = try await sim.telegram.getUpdates(offset: nil, timeout: 0, allowedUpdates: ["callback_query"]).updates
            #expect(onlyCallbacks.map(\.kind) == ["callback_query"])
            sim.simulator.userSends("later text", from: user)
            let kept = try await sim.telegram.getUpdates(offset: onlyCallbacks[0].updateID + 1, timeout: 0).updates
            #expect(kept.isEmpty, "the message kind is still not allowed")
        }
    }

    @Test("A second getUpdates ends the waiting one with 409; the newer poll gets the updates")
    func conflictBetweenPollers() async throws {
        try await withSimulator { sim in
            let other = sim.client()
            async let older: [Update] = sim.telegram.getUpdates(offset: nil, timeout: 30).updates
            #expect(await eventually { sim.simulator.counters.requests["getUpdates"] == 1 })
            try await Task.sleep(for: .milliseconds(50))
            async let newer = other.getUpdates(offset: nil, timeout: 30)
            do {
                _ = try await older
                Issue.record("the older poll must be terminated")
            } catch let error as TelegramError {
                #expect(error.code == .conflict)
                #expect(error.errorCode == 409)
                #expect(error.detail.contains("terminated by other getUpdates request"))
            }
            sim.simulator.userSends("for the newer", from: SimUser(id: 2))
            let got = try await newer
            #expect(got.updates.map { $0.message?.text } == ["for the newer"])
            #expect(sim.simulator.counters.conflicts == 1)
        }
    }

    @Test("getUpdates while a webhook is set is a 409; deleteWebhook switches back")
    func conflictWithWebhook() async throws {
        try await withSimulator { sim in
            try await sim.telegram.setWebhook(url: "http://127.0.0.1:9/hook", secretToken: "s3cret_-X")
            #expect(try await sim.telegram.getWebhookInfo().url == "http://127.0.0.1:9/hook")
            do throws(TelegramError) {
                _ = try await sim.telegram.getUpdates(offset: nil, timeout: 0).updates
                Issue.record("must conflict")
            } catch {
                #expect(error.code == .conflict)
                #expect(error.detail.contains("webhook is active"))
            }
            // A bad secret token is refused.
            await #expect(throws: TelegramError.self) {
                try await sim.telegram.setWebhook(url: "http://127.0.0.1:9/hook", secretToken: "no spaces allowed")
            }
            try await sim.telegram.deleteWebhook()
            #expect(try await sim.telegram.getUpdates(offset: nil, timeout: 0).updates.isEmpty)
        }
    }
}
