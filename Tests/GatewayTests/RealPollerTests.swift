import Logging
import ServiceLifecycle
import Testing
import TollgateCore
import TollgateGateway
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// The gateway's side of the IPC contract against the real poller-scheduler process: reminders
/// scheduled with the gateway's job ids and payloads come back as `deliver` batches, are shown
/// only while the user has not paid, and are cancelled by the confirmation.
@Suite("Gateway with the real poller-scheduler", .serialized, .timeLimit(.minutes(3)))
struct RealPollerTests {
    /// schedule and cancel go to the real poller; payment watching is the payments side's (a stand-in here).
    struct SplitPoller: PollerRequests {
        let link: PollerLink
        let watches = FakePoller()
        func schedule(_ request: Schedule) async throws -> Schedule.Reply { try await link.schedule(request) }
        func cancel(_ request: Cancel) async throws -> Cancel.Reply { try await link.cancel(request) }
        func watchPayment(_ request: WatchPayment) async throws -> WatchPayment.Reply { try await watches.watchPayment(request) }
    }

    @Test("Reminders through the real poller: only while unpaid; the confirmation cancels them")
    func remindersThroughRealPoller() async throws {
        let redis = try RedisServer()
        let dir = TestNetwork.temporaryDirectory(prefix: "gwrp")
        let env = ServiceProcess.environment(redisURL: redis.url, directory: dir, extra: ["LOG_LEVEL": "warning"])
        let pollerProcess = try ServiceProcess("poller-scheduler", environment: env, logPath: dir + "/poller.log")
        defer { pollerProcess.process.kill9() }
        try await pollerProcess.waitUntilReady()
        let client = IPCClient(path: env["POLLER_SOCKET"]!, logger: quietLogger)
        let split = SplitPoller(link: PollerLink(client: client, logger: quietLogger))
        var flow = FlowDefinition.defaults
        flow.reminders = [.init(step: "nudge", delay: .seconds(6), message: .init(text: "Nudge {first_name}"))]

        try await withGateway(flow: flow, poller: split) { gw in
            var router = IPCRouter()
            let deliver = gw.deliver
            router.register(Deliver.self) { request, _ in await deliver.handle(request) }
            let server = IPCServer(name: "gateway", target: .unix(path: env["GATEWAY_SOCKET"]!), router: router, logger: quietLogger)
            let group = ServiceGroup(services: [server], logger: quietLogger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                _ = try await server.listening()
                let users = (1...20).map { SimUser(id: Int64(9700 + $0), firstName: "P\($0)") }
                for user in users { gw.simulator.userSends("/start", from: user) }
                #expect(await eventually { gw.simulator.sentCounts().count == 20 })
                for user in users { try gw.simulator.userPresses(FlowDefinition.getAccessData, from: user) }
                #expect(await eventually { users.allSatisfy { gw.simulator.sent(to: $0.id).count == 2 } })
                // The first half pays at once: the confirmation goes through the poller too.
                let early = users.prefix(10)
                for user in early {
                    _ = try await split.schedule(
                        Schedule(jobID: "paid:\(user.id)", kind: "payment_confirmed", userID: user.id, chatID: user.id, delayMs: 0))
                }
                #expect(await eventually { early.allSatisfy { gw.texts($0.id).contains { $0.hasPrefix("Payment received") } } })
                // Their reminders (due 6 s after the link) are no longer scheduled in the poller: cancelled.
                for user in early {
                    let pending = try await client.call(UserJobs(userID: user.id))
                    let reminders = pending.jobs.filter { $0.kind == "reminder" && $0.state == .scheduled }
                    #expect(reminders.isEmpty, "\(reminders.map(\.jobID))")
                }
                // The others get their reminder, then pay.
                let late = users.suffix(10)
                #expect(await eventually { late.allSatisfy { gw.texts($0.id).contains("Nudge \($0.firstName)") } })
                for user in late {
                    _ = try await split.schedule(
                        Schedule(jobID: "paid:\(user.id)", kind: "payment_confirmed", userID: user.id, chatID: user.id, delayMs: 0))
                }
                #expect(await eventually { late.allSatisfy { gw.texts($0.id).contains { $0.hasPrefix("Payment received") } } })
                try await Task.sleep(for: .seconds(7))
                for user in early {
                    let sent = gw.simulator.sent(to: user.id)
                    let paidAt = sent.first { $0.text?.hasPrefix("Payment received") == true }?.at ?? .infinity
                    #expect(!sent.contains { $0.text?.hasPrefix("Nudge") == true && $0.at > paidAt }, "a reminder after payment")
                    #expect(sent.filter { $0.text?.hasPrefix("Payment received") == true }.count == 1)
                }
                for user in late {
                    let texts = gw.texts(user.id)
                    #expect(texts.filter { $0.hasPrefix("Nudge") }.count == 1, "\(texts)")
                    #expect(texts.filter { $0.hasPrefix("Payment received") }.count == 1)
                }
                await client.close()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
        await pollerProcess.stop()
    }
}
