import Foundation
import Logging
import ServiceLifecycle
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// What the gateway benchmarks run against: a private redis-server, the Telegram simulator with its
/// real limits, the NocoDB simulator, a stand-in poller, a flow file without the help reply, and the
/// environment a bot-gateway process needs for all of them.
struct GatewayStage {
    let redis: RedisServer
    let telegram: TelegramSimulator
    let nocodb: NocoDBSimulator
    let poller: StandInPoller
    let directory: String
    /// For one bot-gateway (its socket `directory/gateway.sock`; set `GATEWAY_SOCKET` for more).
    let environment: [String: String]
    let logger: Logger

    /// Starts everything, runs `body`, stops everything (by pid, the simulators with the task group).
    /// `pollerDelivers` names the gateway socket the stand-in poller delivers to.
    static func with(
        prefix: String, options: BenchOptions, pollerDelivers socket: String = "gateway.sock",
        _ body: (GatewayStage) async throws -> [String: JSONValue]
    ) async throws -> [String: JSONValue] {
        setenv("TOLLGATE_BIN_DIR", options.binariesDirectory, 1)
        var quiet = Logger(label: "bench-\(prefix)")
        quiet.logLevel = .critical
        let redis = try RedisServer()
        defer { redis.stop() }
        let dir = TestNetwork.temporaryDirectory(prefix: "bench-\(prefix)")
        let token = "123456:BENCH-token"
        let telegram = TelegramSimulator(configuration: .init(token: token), logger: quiet)
        var nocodbConfig = NocoDBSimulator.Configuration()
        nocodbConfig.tokens = ["BENCH-nocodb-token"]
        let nocodb = NocoDBSimulator(configuration: nocodbConfig, logger: quiet)
        let poller = StandInPoller(socketPath: dir + "/poller.sock", gatewaySocket: dir + "/" + socket)
        let group = ServiceGroup(services: [telegram, nocodb], logger: quiet)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask { try await poller.run() }
            defer { tasks.cancelAll() }
            try await poller.listening()
            try "help: \"\"\n".write(toFile: dir + "/flow.yaml", atomically: true, encoding: .utf8)
            let env = ServiceProcess.environment(
                redisURL: redis.url, directory: dir,
                extra: [
                    "BOT_TOKEN": token, "TELEGRAM_API_URL": try await telegram.baseURL(),
                    "NOCODB_URL": try await nocodb.baseURL(), "NOCODB_TOKEN": "BENCH-nocodb-token",
                    "NOCODB_TABLE_ID": "users", "FLOW_FILE": dir + "/flow.yaml", "INBOUND_LIMIT": "0",
                    "LOG_LEVEL": "warning", "TELEGRAM_POLL_TIMEOUT": "10s",
                ])
            return try await body(
                GatewayStage(redis: redis, telegram: telegram, nocodb: nocodb, poller: poller, directory: dir, environment: env, logger: quiet))
        }
    }
}
