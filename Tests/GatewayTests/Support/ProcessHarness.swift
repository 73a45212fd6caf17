import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TollgateCore
import TollgateIPC
import TollgateRedis
import TollgateSimulators
import TollgateTestKit

/// A real bot-gateway process against the Telegram simulator (its own process), the NocoDB
/// simulator, a private redis-server and a stand-in poller — everything on 127.0.0.1 and owned by
/// the test.
final class ProcessHarness: Sendable {
    let redis: RedisServer
    let telegram: RemoteTelegram
    let nocodb: NocoDBSimulator
    let poller: StandInPoller
    let directory: String
    let environment: [String: String]
    let group: ServiceGroup
    let pollerTask: Task<Void, Never>
    let groupTask: Task<Void, Never>
    let gateway: Mutex<ServiceProcess?>
    let starts = Atomic<Int>(0)
    let fileLimit: Int?

    static let token = "123456:TEST-gateway-token"
    static let nocodbToken = "TEST-nocodb-token-1"

    /// - Parameters:
    ///   - flowYAML: written to FLOW_FILE.
    ///   - telegramRate: the simulator's global limit; the gateway runs at 98 % of it.
    ///   - fileLimit: the gateway's `RLIMIT_NOFILE` (see ``ServiceProcess``).
    init(flowYAML: String, telegramRate: Double = 50, extra: [String: String] = [:], fileLimit: Int? = nil) async throws {
        self.fileLimit = fileLimit
        redis = try RedisServer()
        directory = TestNetwork.temporaryDirectory(prefix: "gwp")
        // Tests run faster than Telegram's 30/s; the simulator's burst grows with the rate so that
        // it tolerates the same arrival jitter in time as at 30/s with burst 5 (about 140 ms).
        let burst = max(5, Int((telegramRate * 0.14).rounded(.up)) + 1)
        telegram = try await RemoteTelegram(token: Self.token, rate: telegramRate, burst: burst, directory: directory)
        var nocodbConfig = NocoDBSimulator.Configuration()
        nocodbConfig.tokens = [Self.nocodbToken]
        nocodbConfig.rateLimit = 200
        nocodb = NocoDBSimulator(configuration: nocodbConfig, logger: quietLogger)
        group = ServiceGroup(services: [nocodb], logger: quietLogger)
        let group = self.group
        groupTask = Task { try? await group.run() }
        let nocodbURL = try await nocodb.baseURL()
        poller = StandInPoller(socketPath: directory + "/poller.sock", gatewaySocket: directory + "/gateway.sock")
        let poller = self.poller
        pollerTask = Task { try? await poller.run() }
        try await poller.listening()
        let flowPath = directory + "/flow.yaml"
        try flowYAML.write(toFile: flowPath, atomically: true, encoding: .utf8)
        environment = ServiceProcess.environment(
            redisURL: redis.url, directory: directory,
            extra: [
                "BOT_TOKEN": Self.token, "TELEGRAM_API_URL": telegram.base, "NOCODB_URL": nocodbURL,
                "NOCODB_TOKEN": Self.nocodbToken, "NOCODB_TABLE_ID": "users", "NOCODB_RATE_LIMIT": "150",
                "FLOW_FILE": flowPath, "TELEGRAM_GLOBAL_RATE": String(telegramRate * 0.98), "TELEGRAM_POLL_TIMEOUT": "5s",
                "LEADER_LOCK_TTL": "5s", "TOLLGATE_INSTANCE": "gw-test", "SEND_RETRY_DELAYS": "200ms,500ms,1s",
            ].merging(extra) { _, new in new })
        gateway = Mutex(nil)
    }

    /// Starts (or restarts) the gateway and waits until it is ready.
    func startGateway() async throws {
        let process = try await startExtraGateway(instance: "gw-test", socket: directory + "/gateway.sock")
        gateway.withLock { $0 = process }
    }

    /// Starts a gateway process with its own instance name and socket (a second gateway on the same bot).
    func startExtraGateway(instance: String, socket: String) async throws -> ServiceProcess {
        let n = starts.wrappingAdd(1, ordering: .relaxed).oldValue
        var env = environment
        env["TOLLGATE_INSTANCE"] = instance
        env["GATEWAY_SOCKET"] = socket
        let process = try ServiceProcess(
            "bot-gateway", environment: env, logPath: directory + "/gateway-\(n).log", fileLimit: fileLimit)
        try await process.waitUntilReady(timeout: .seconds(30))
        return process
    }

    func kill9() async {
        if let process = gateway.withLock({ $0 }) { await process.kill9() }
    }

    /// A gateway's `stats` (over its socket; the main gateway's by default).
    func snapshot(socket: String? = nil) async throws -> Stats.Snapshot {
        let client = IPCClient(path: socket ?? directory + "/gateway.sock", logger: quietLogger)
        let reply = try await client.call(Stats(), timeout: .seconds(5))
        await client.close()
        return reply.snapshot
    }

    /// The main gateway's `stats` counters.
    func stats() async throws -> [String: Double] {
        try await snapshot().counters
    }

    func logs() -> String {
        (0..<starts.load(ordering: .relaxed)).map {
            (try? String(contentsOfFile: directory + "/gateway-\($0).log", encoding: .utf8)) ?? ""
        }.joined(separator: "\n----\n")
    }

    func stop() async {
        if let process = gateway.withLock({ $0 }) { await process.stop() }
        await telegram.stop()
        pollerTask.cancel()
        _ = await pollerTask.value
        await group.triggerGracefulShutdown()
        _ = await groupTask.value
        redis.stop()
    }
}
