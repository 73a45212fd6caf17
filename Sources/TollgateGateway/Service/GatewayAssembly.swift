import Logging
import ServiceLifecycle
import TollgateCoordination
import TollgateCore
import TollgateHTTP
import TollgateNocoDB
import TollgateRuntime

/// Everything bot-gateway reads from its environment: its own settings, NocoDB's (shared with
/// poller-scheduler), and the leader lock's.
public struct GatewaySettings: Sendable {
    public var gateway: GatewayConfiguration
    public var nocodb: NocoDBConfig
    /// `LEADER_LOCK_TTL` (default 10 s): how long a crashed leader's lock outlives it.
    public var leaderTTL: Duration

    public static func read(_ r: inout ConfigReader) -> GatewaySettings {
        GatewaySettings(
            gateway: GatewayConfiguration.read(&r), nocodb: NocoDBConfig.read(&r),
            leaderTTL: r.duration("LEADER_LOCK_TTL", default: .seconds(10), min: .seconds(1), max: .seconds(300)))
    }
}

/// The production composition of bot-gateway: the cluster-wide GCRA limiter (Telegram's limits and
/// NocoDB's token budget), the NocoDB client, the leader election, and the gateway's components.
public enum GatewayAssembly {
    public static func services(host: ServiceHost, settings: GatewaySettings) -> [any Service] {
        let logger = host.logger
        let config = settings.gateway
        let botID = GatewayComponent.botID(config.botToken)
        let limiter = RedisRateLimiter(client: host.makeRedisClient(name: "gw-limiter"), keys: host.keys, logger: logger)
        let sendLimits = SharedSendLimits(
            limiter: limiter, botID: botID, globalPerSecond: config.globalRate, chatPerSecond: config.chatRate,
            groupPerMinute: config.groupRatePerMinute, backgroundShare: config.club?.reconcileShare ?? 0.1,
            paidPerSecond: config.paidBroadcastRate, maxBlock: config.maxRetryAfter)
        let nocodbHTTP = HTTPClient(name: "nocodb", logger: logger)
        let nocodb = NocoDBClient(config: settings.nocodb, http: nocodbHTTP, limiter: limiter, logger: logger)
        let lock = LeaderLock(
            client: host.makeRedisClient(name: "gw-leader"), keys: host.keys, name: "gateway:\(botID)",
            holder: host.settings.instance)
        let election = LeaderElection(lock: lock, timing: .init(ttl: settings.leaderTTL), logger: logger)
        host.stats.register("nocodb") { StatsContribution(counters: nocodb.counters.asStats) }
        return GatewayComponent.make(
            host: host, config: config,
            dependencies: GatewayDependencies(
                limiter: sendLimits, directory: NocoDBUserDirectory(client: nocodb, logger: logger), leadership: election,
                services: [HTTPClientCloser(http: nocodbHTTP), election]))
    }
}

/// Shuts an HTTP client down when the service stops (listed first: stopped last).
struct HTTPClientCloser: Service {
    let http: HTTPClient
    func run() async throws {
        try? await gracefulShutdown()
        http.shutdown()
    }
}
