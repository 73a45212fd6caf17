import Foundation
import Logging
import ServiceLifecycle
import Testing
import TollgateCore
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// Both real services, a backlog slower than the poller's patience: twelve different messages
/// for one chat, all due at once — Telegram allows that chat one a second — with the poller's
/// `DELIVER_TIMEOUT` at 3 s. Before the gateway answered within the poller's wait and claimed
/// each unit while running, this showed the user 29 messages for 12 (the poller gave up, delivered
/// again, and both runs sent). Counted from what the Telegram simulator received.
@Suite("Backlog slower than DELIVER_TIMEOUT", .serialized, .timeLimit(.minutes(3)))
struct BacklogProcessTests {
    @Test func twelveMessagesForOneChatWithAThreeSecondTimeoutArriveOnceEach() async throws {
        let redis = try RedisServer()
        let dir = TestNetwork.temporaryDirectory(prefix: "backlog")
        let token = "123456:TEST-backlog-token"
        let telegram = try await RemoteTelegram(token: token, rate: 30, burst: 5, directory: dir)
        var nocodbConfig = NocoDBSimulator.Configuration()
        nocodbConfig.tokens = ["TEST-backlog-nocodb"]
        let nocodb = NocoDBSimulator(configuration: nocodbConfig, logger: quietLogger)
        let group = ServiceGroup(services: [nocodb], logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let env = ServiceProcess.environment(
                redisURL: redis.url, directory: dir,
                extra: [
                    "BOT_TOKEN": token, "TELEGRAM_API_URL": telegram.base, "NOCODB_URL": try await nocodb.baseURL(),
                    "NOCODB_TOKEN": "TEST-backlog-nocodb", "NOCODB_TABLE_ID": "users", "TELEGRAM_POLL_TIMEOUT": "2s",
                    "DELIVER_TIMEOUT": "3s", "JOB_RETRY_BASE": "200ms", "LOG_LEVEL": "notice",
                ])
            let poller = try ServiceProcess("poller-scheduler", environment: env, logPath: dir + "/poller.log")
            let gateway = try ServiceProcess("bot-gateway", environment: env, logPath: dir + "/gateway.log")
            do {
                try await poller.waitUntilReady()
                try await gateway.waitUntilReady()
                let chat: Int64 = 770_001
                try await telegram.addUsers([chat])
                let client = IPCClient(path: env["POLLER_SOCKET"]!, logger: quietLogger)
                for n in 1...12 {
                    _ = try await client.call(
                        Schedule(
                            jobID: "backlog:\(n)", kind: "message", userID: chat, chatID: chat, delayMs: 0,
                            payload: ["text": .string("Backlog \(n)")]))
                }
                await client.close()
                var texts: [String] = []
                #expect(await eventually(timeout: .seconds(60), every: .milliseconds(250)) {
                    texts = ((try? await telegram.sentByChat()) ?? [:])[chat]?.map { $0.text ?? "" } ?? []
                    return Set(texts).count == 12
                }, "received \(texts)")
                // Anything still running would show up now.
                try await Task.sleep(for: .seconds(4))
                texts = try await telegram.sentByChat()[chat]?.map { $0.text ?? "" } ?? []
                #expect(texts.count == 12, "\(texts.count) messages for 12: \(texts)")
                #expect(Set(texts) == Set((1...12).map { "Backlog \($0)" }))
                // The poller never gave up waiting: the gateway answered in parts, in time.
                let pollerStats = try await HostilePeersTests.stats(env["POLLER_SOCKET"]!)
                #expect(pollerStats["gateway_failures_total"] == 0, "\(pollerStats)")
                #expect((pollerStats["jobs_postponed_total"] ?? 0) > 0, "\(pollerStats)")
                #expect(pollerStats["jobs_dead_lettered_total"] == 0)
                #expect(pollerStats["jobs_acked_total"] == 12)
            } catch {
                Issue.record("\(error)\ngateway:\n\(gateway.logTail())\npoller:\n\(poller.logTail())")
            }
            await gateway.stop()
            await poller.stop()
            await telegram.stop()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
