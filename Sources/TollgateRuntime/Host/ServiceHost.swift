import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import TollgateCore
import TollgateHTTPServer
import TollgateIPC
import TollgateRedis
import TollgateSystemd

/// The skeleton both services share: it owns the IPC server (with `hello`, `health` and `stats`),
/// the ops HTTP server (/health /ready /metrics /stats), the systemd conversation (READY, STATUS,
/// WATCHDOG, STOPPING) and the graceful drain; the service adds its own components and handlers.
///
/// ```swift
/// host.register(Schedule.self) { request, _ in try await jobs.schedule(request) }
/// host.stats.register("jobs") { StatsContribution(counters: ["jobs_scheduled_total": n]) }
/// try await host.run([dispatcher, leaderElection])
/// ```
public final class ServiceHost: Sendable {
    public let settings: RuntimeSettings
    public let logger: Logger
    /// Shared by IPC handlers. Long-running loops should make their own client (``makeRedisClient(name:)``).
    public let redis: RedisClientPool
    public let stats = StatsRegistry()
    public let health = HealthRegistry()
    public let liveness = Liveness()
    public let prometheus: PrometheusCollectorRegistry
    public let ipcCounters = IPCServerCounters()
    public let startedAtMs = WallClock.epochMilliseconds()
    let startedAt = ContinuousClock.now

    let state = Atomic<UInt8>(LifecycleState.starting.rawValue)
    let redisHealthy = Atomic<Bool>(false)
    let redisLatencyMicros = Atomic<Int>(0)
    /// The last check of the Redis settings (``RedisDurability``), once made.
    let redisDurability = Mutex<RedisDurability?>(nil)
    private let router = Mutex(IPCRouter())
    private let statusProviders = Mutex<[@Sendable () -> String]>([])
    private let clusterProvider = Mutex<(@Sendable () async -> [Stats.Snapshot])?>(nil)
    let httpAddress = Mutex<String?>(nil)

    public var keys: KeySpace { settings.keys }
    public var kind: ServiceKind { settings.kind }

    public init(settings: RuntimeSettings, logger: Logger, prometheus: PrometheusCollectorRegistry = .init()) {
        self.settings = settings
        self.logger = logger
        self.prometheus = prometheus
        self.redis = RedisClientPool(
            url: settings.redisURL, name: "\(settings.kind.rawValue)-ipc", size: settings.redisPoolSize, logger: logger)
        router.withLock { r in
            r.mapError = Self.mapError
        }
        registerBuiltins()
    }

    /// A Redis client with its own connection and thread, for a long-running loop.
    public func makeRedisClient(name: String, commandTimeout: Duration = .seconds(5)) -> RedisClient {
        RedisClient(url: settings.redisURL, name: name, commandTimeout: commandTimeout, logger: logger)
    }

    /// Registers an IPC request handler. Call before ``run(_:)``.
    public func register<R: IPCRequest>(
        _ type: R.Type, _ handler: @escaping @Sendable (R, IPCRequestContext) async throws -> R.Reply
    ) {
        router.withLock { $0.register(type, handler) }
    }

    /// Adds text to the systemd `STATUS=` line (refreshed every few seconds).
    public func statusLine(_ provider: @escaping @Sendable () -> String) {
        statusProviders.withLock { $0.append(provider) }
    }

    /// For services with several instances: the live view of all of them, shown by `stats`.
    public func clusterView(_ provider: @escaping @Sendable () async -> [Stats.Snapshot]) {
        clusterProvider.withLock { $0 = provider }
    }

    /// The socket inherited from systemd under `name` (e.g. the gateway's `webhook`), if any.
    public func listenFD(named name: String) -> ListenFD? {
        SocketActivation.first(named: name, in: settings.listenFDs)
    }

    // MARK: - State

    var lifecycle: LifecycleState { LifecycleState(rawValue: state.load(ordering: .acquiring)) ?? .starting }

    func setLifecycle(_ s: LifecycleState) { state.store(s.rawValue, ordering: .releasing) }

    var uptimeSeconds: Double { (ContinuousClock.now - startedAt).seconds }

    /// The `stats` snapshot of this instance.
    public func snapshot() -> Stats.Snapshot {
        let c = stats.collect()
        var counters = ipcCounters.snapshot()
        counters.merge(c.counters) { _, new in new }
        var gauges = ipcCounters.gauges()
        gauges.merge(c.gauges) { _, new in new }
        gauges["redis_up"] = redisHealthy.load(ordering: .relaxed) ? 1 : 0
        var info = c.info
        if let durability = redisDurability.withLock({ $0 }) {
            gauges["redis_durable"] = durability.isDurable ? 1 : 0
            info["redis_durability"] = durability.summary
            if let version = durability.version { info["redis_version"] = version }
        }
        info["state"] = lifecycle.name
        if let address = httpAddress.withLock({ $0 }) { info["http"] = address }
        return Stats.Snapshot(
            service: kind.name, instance: settings.instance, uptimeS: uptimeSeconds, counters: counters, gauges: gauges,
            info: info)
    }

    /// The one-line systemd status.
    func statusText() -> String {
        var parts = [lifecycle.name]
        parts.append("ipc \(ipcCounters.connectionsOpen.load(ordering: .relaxed)) conn")
        parts.append(redisHealthy.load(ordering: .relaxed) ? "redis ok" : "redis DOWN")
        if let durability = redisDurability.withLock({ $0 }), !durability.isDurable { parts.append("redis \(durability.summary)") }
        parts += statusProviders.withLock { $0 }.map { $0() }
        return parts.joined(separator: "; ")
    }

    func cluster() async -> [Stats.Snapshot]? {
        guard let provider = clusterProvider.withLock({ $0 }) else { return nil }
        return await provider()
    }

    /// The health reply (shared by IPC `health` and HTTP /health and /ready).
    public func healthReply() async -> Health.Reply {
        var (checks, criticalOK, allOK) = await health.evaluate()
        let redisOK = redisHealthy.load(ordering: .relaxed)
        checks["redis"] = Health.Check(
            ok: redisOK, detail: redisOK ? nil : "cannot reach \(settings.redisURL)",
            latencyMs: redisOK ? Double(redisLatencyMicros.load(ordering: .relaxed)) / 1000 : nil)
        let stale = liveness.staleLoops()
        let live = !liveness.isFrozen && stale.isEmpty
        checks["loops"] = Health.Check(ok: live, detail: live ? nil : "silent: \(stale.joined(separator: ", "))")
        let phase = lifecycle
        let ready = phase == .ready && redisOK && criticalOK && live
        let status: Health.Status
        switch phase {
        case .starting: status = .starting
        case .draining: status = .draining
        case .ready: status = ready && allOK ? .ready : .degraded
        }
        return Health.Reply(status: status, live: live, ready: ready, uptimeS: uptimeSeconds, checks: checks)
    }

    // MARK: - Built-in requests

    private func registerBuiltins() {
        let service = kind.name
        let instance = settings.instance
        let maxFrame = settings.ipcMaxFrameBytes
        let started = startedAtMs
        register(Hello.self) { hello, _ in
            guard let version = hello.versions.filter(IPCVersion.supported.contains).max() else {
                throw IPCError(
                    .unsupportedVersion, "no common protocol version (client speaks \(hello.versions), server \(IPCVersion.supported))",
                    details: .object(["supported": .array(IPCVersion.supported.map { .number(Double($0)) })]))
            }
            return Hello.Reply(
                version: version, versions: IPCVersion.supported, service: service, instance: instance,
                startedAtMs: started, maxFrameBytes: maxFrame)
        }
        register(Health.self) { [unowned self] _, _ in await self.healthReply() }
        register(Stats.self) { [unowned self] _, _ in Stats.Reply(self.snapshot(), instances: await self.cluster()) }
    }

    static func mapError(_ error: any Error) -> IPCError {
        switch error {
        case let e as IPCError: return e
        case let e as RedisError where e.isRetryable: return IPCError(.unavailable, "redis: \(e.message)")
        case let e as RedisError: return IPCError(.internal, "redis: \(e.message)")
        default: return IPCError(.internal, String(describing: error))
        }
    }

    func makeRouter() -> IPCRouter { router.withLock { $0 } }
}

/// The phases of a service's life, as `health` reports them.
enum LifecycleState: UInt8 {
    case starting, ready, draining
    var name: String {
        switch self {
        case .starting: "starting"
        case .ready: "ready"
        case .draining: "draining"
        }
    }
}
