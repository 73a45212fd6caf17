import Foundation
import ServiceLifecycle
import Testing
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// Both services as real processes — bot-gateway and poller-scheduler — against the Telegram
/// simulator in a process of its own and the NocoDB simulator (50 requests/s; the services use
/// 40), with a private Redis. ``with(prefix:flowYAML:extra:_:)`` starts everything, runs the test,
/// records any error with both services' logs, and stops what it started by pid.
struct BothServices: Sendable {
    let directory: String
    let telegram: RemoteTelegram
    let nocodb: NocoDBSimulator
    let environment: [String: String]
    let gateway: ServiceProcess
    let poller: ServiceProcess

    static let token = "123456:TEST-both-token"
    static let nocodbToken = "TEST-both-nocodb"

    static func with(
        prefix: String, flowYAML: String? = nil, extra: [String: String] = [:],
        prepare: ((RemoteTelegram) async throws -> Void)? = nil, _ body: (BothServices) async throws -> Void
    ) async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let dir = TestNetwork.temporaryDirectory(prefix: prefix)
        let telegram = try await RemoteTelegram(token: token, rate: 30, burst: 5, directory: dir)
        // What must be there before the services start (a club the gateway checks at start).
        try await prepare?(telegram)
        var nocodbConfig = NocoDBSimulator.Configuration()
        nocodbConfig.tokens = [nocodbToken]
        nocodbConfig.rateLimit = 50
        let nocodb = NocoDBSimulator(configuration: nocodbConfig, logger: quietLogger)
        let group = ServiceGroup(services: [nocodb], logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var settings: [String: String] = [
                "BOT_TOKEN": token, "TELEGRAM_API_URL": telegram.base, "NOCODB_URL": try await nocodb.baseURL(),
                "NOCODB_TOKEN": nocodbToken, "NOCODB_TABLE_ID": "users", "NOCODB_RATE_LIMIT": "40",
            ]
            if let flowYAML {
                try flowYAML.write(toFile: dir + "/flow.yaml", atomically: true, encoding: .utf8)
                settings["FLOW_FILE"] = dir + "/flow.yaml"
            }
            let env = ServiceProcess.environment(
                redisURL: redis.url, directory: dir, extra: settings.merging(extra) { _, new in new })
            let poller = try ServiceProcess("poller-scheduler", environment: env, logPath: dir + "/poller.log")
            let gateway = try ServiceProcess("bot-gateway", environment: env, logPath: dir + "/gateway.log")
            do {
                try await poller.waitUntilReady()
                try await gateway.waitUntilReady()
                try await body(
                    BothServices(
                        directory: dir, telegram: telegram, nocodb: nocodb, environment: env, gateway: gateway, poller: poller))
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

    /// A service's `stats` counters, over its socket.
    static func stats(_ socket: String) async throws -> [String: Double] {
        let client = IPCClient(path: socket, logger: quietLogger)
        let reply = try await client.call(Stats(), timeout: .seconds(5))
        await client.close()
        return reply.snapshot.counters
    }

    var gatewayStats: [String: Double] { get async throws { try await Self.stats(environment["GATEWAY_SOCKET"]!) } }
    var pollerStats: [String: Double] { get async throws { try await Self.stats(environment["POLLER_SOCKET"]!) } }

    /// The NocoDB row of `user` (created by the gateway when they pressed "Get access").
    func row(of user: SimUser) -> Int64? {
        let count = Int64(nocodb.rowCount(table: "users"))
        guard count > 0 else { return nil }
        return (1...count).first { nocodb.row(table: "users", id: $0)?["TelegramId"] == .string(String(user.id)) }
    }
}
