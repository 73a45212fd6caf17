import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// Jobs flowing through the installed system while operators do what they do: restart the
/// gateway, lose a poller to kill -9, scale the pollers out and in. Redis and the Telegram and
/// NocoDB simulators run on the host; the services run under the container's systemd.
struct JobFlowRig: Sendable {
    let deployment: Deployment
    let telegram: TelegramSimulator
    let users: [Int64]

    var container: SystemdContainer { deployment.container }

    /// Boots the container configured against simulators started by `body`'s caller, and runs `body`.
    static func run(
        users count: Int, extraEnvironment: [String: String] = [:], _ body: @Sendable (JobFlowRig) async throws -> Void
    ) async throws {
        let telegram = TelegramSimulator(configuration: .init(token: "123456:TEST-token"), logger: systemLogger)
        let nocodb = NocoDBSimulator(logger: systemLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await telegram.run() }
            group.addTask { try await nocodb.run() }
            let users = (0..<Int64(count)).map { 5_000_000 + $0 }
            telegram.addUsers(users.map { SimUser(id: $0) })
            var env = extraEnvironment
            env["TELEGRAM_API_URL"] = try await telegram.baseURL()
            env["NOCODB_URL"] = try await nocodb.baseURL()
            env["NOCODB_TABLE_ID"] = "users"
            let deployment = try await Deployment.start(
                extraEnvironment: env, botToken: "123456:TEST-token", nocodbToken: "123456:TEST-nocodb-token")
            let rig = JobFlowRig(deployment: deployment, telegram: telegram, users: users)
            do {
                try await body(rig)
            } catch {
                await rig.dumpJournals()
                await deployment.stop()
                throw error
            }
            await deployment.stop()
            group.cancelAll()
        }
    }

    /// Schedules one `message` job per user, due evenly over `window` from now (Redis clock).
    func schedule(prefix: String, over window: Duration) async throws {
        let client = IPCClient(path: deployment.pollerSocket, logger: systemLogger)
        for (i, user) in users.enumerated() {
            let delay = window.milliseconds * Int64(i) / Int64(users.count)
            let reply = try await client.call(
                Schedule(
                    jobID: "\(prefix)-\(user)", kind: "message", userID: user, chatID: user, delayMs: delay,
                    payload: ["text": .string("\(prefix) for \(user)")]),
                timeout: .seconds(30))
            #expect(reply.created)
        }
        await client.close()
    }

    /// How many times the bot sent each job's text (keyed by chat).
    func received(prefix: String) -> [Int64: Int] {
        var counts: [Int64: Int] = [:]
        for message in telegram.allSent() where message.text?.hasPrefix(prefix + " for ") == true {
            counts[message.chatID, default: 0] += 1
        }
        return counts
    }

    /// Waits until every user got the message, then checks nobody got it twice.
    func expectEachDeliveredOnce(prefix: String, timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, received(prefix: prefix).count < users.count {
            try await Task.sleep(for: .milliseconds(250))
        }
        let counts = received(prefix: prefix)
        #expect(counts.count == users.count, "delivered to \(counts.count) of \(users.count) users")
        let twice = counts.filter { $0.value > 1 }
        #expect(twice.isEmpty, "sent more than once: \(twice.prefix(5))")
        #expect(telegram.counters.floodRefusals == 0, "the bot tripped Telegram's flood limits")
    }

    func dumpJournals() async {
        for unit in ["bot-gateway.service", "poller-scheduler@1.service", "poller-scheduler@2.service"] {
            let text = (try? await container.journal(unit)) ?? ""
            print("---- \(unit)\n\(text.suffix(4000))")
        }
    }
}

@Suite(.enabled(if: SystemdContainer.preparedRoot != nil, "needs scripts/system-test (root, a prepared rootfs)"), .serialized, .timeLimit(.minutes(10)))
struct JobFlowTests {
    @Test func restartingTheGatewayWhilePollersDeliverLosesNothing() async throws {
        try await JobFlowRig.run(users: 300) { rig in
            let c = rig.container
            try await c.systemctl("enable", "--now", "bot-gateway.socket", "bot-gateway.service", "poller-scheduler.socket", "poller-scheduler@1")
            try await c.waitFor("both active") {
                let gateway = try await c.property("bot-gateway.service", "ActiveState")
                let poller = try await c.property("poller-scheduler@1.service", "ActiveState")
                return gateway == "active" && poller == "active"
            }
            try await rig.schedule(prefix: "restart", over: .seconds(10))
            try await Task.sleep(for: .seconds(3))
            let before = rig.received(prefix: "restart").count
            try await c.systemctl("restart", "bot-gateway.service")
            try await rig.expectEachDeliveredOnce(prefix: "restart")
            #expect(before > 0 && before < rig.users.count, "the restart happened mid-flow (\(before) delivered before it)")
        }
    }

    @Test func aKilledPollersLeasedJobsAreRecovered() async throws {
        // Short leases so the test does not wait the default 30 s for the recovery.
        try await JobFlowRig.run(users: 300, extraEnvironment: ["JOB_LEASE": "4s"]) { rig in
            let c = rig.container
            try await c.systemctl("enable", "--now", "bot-gateway.socket", "poller-scheduler.socket", "poller-scheduler@1")
            try await c.waitFor("poller active") { try await c.property("poller-scheduler@1.service", "ActiveState") == "active" }
            try await rig.schedule(prefix: "kill", over: .seconds(10))
            try await Task.sleep(for: .seconds(3))
            try await c.systemctl("kill", "--signal=SIGKILL", "--kill-whom=main", "poller-scheduler@1.service")
            try await rig.expectEachDeliveredOnce(prefix: "kill")
            #expect((Int(try await c.property("poller-scheduler@1.service", "NRestarts")) ?? 0) >= 1)
        }
    }

    @Test func scalingPollersOutAndInWhileJobsFlow() async throws {
        try await JobFlowRig.run(users: 600) { rig in
            let c = rig.container
            try await c.systemctl("enable", "--now", "bot-gateway.socket", "poller-scheduler.socket", "poller-scheduler@1")
            try await c.waitFor("poller active") { try await c.property("poller-scheduler@1.service", "ActiveState") == "active" }
            try await rig.schedule(prefix: "scale", over: .seconds(20))
            try await Task.sleep(for: .seconds(4))
            try await c.systemctl("start", "poller-scheduler@2", "poller-scheduler@3")
            try await Task.sleep(for: .seconds(6))
            #expect(try await c.property("poller-scheduler@3.service", "ActiveState") == "active")
            try await c.systemctl("stop", "poller-scheduler@2", "poller-scheduler@3")
            #expect(try await c.property("poller-scheduler@2.service", "Result") == "success")
            try await rig.expectEachDeliveredOnce(prefix: "scale")
        }
    }
}
