import Logging
import ServiceLifecycle
import Synchronization
import TollgateCoordination
import TollgateIPC
import TollgateJobs
import TollgateRedis
import TollgateRuntime

/// Everything poller-scheduler runs, built from the ``ServiceHost`` and its settings: the job
/// store and its IPC handlers, the dispatcher, the leader election and the leader's lease
/// recovery, the cluster view, stats, health and status.
///
/// Extension points (payments): ``jobs`` / ``paymentJobs`` to schedule and cancel jobs,
/// ``leadership`` for leader-only loops (`whileLeading`), ``host`` to register more IPC handlers,
/// and ``components`` to append more services before returning them from `makeServices`:
///
/// ```swift
/// await ServiceMain.run(kind: .poller, readConfig: PollerConfig.read) { host, config in
///     var poller = PollerAssembly(host: host, settings: config.scheduler)
///     poller.components.append(PaymentWatcher(leadership: poller.leadership, jobs: poller.paymentJobs, ...))
///     return poller.components
/// }
/// ```
public struct PollerAssembly: Sendable {
    public let host: ServiceHost
    public let settings: SchedulerSettings
    /// The job store on the host's Redis pool (handlers, adapters).
    public let jobs: JobStore
    public let leadership: LeaderElection
    public let dispatcher: JobDispatcher
    public let recoverer: LeaseRecoverer
    public let cluster: ClusterRegistry
    /// The services the host runs, in start order. Append your own.
    public var components: [any Service]
    /// Queue depths as of the last cluster heartbeat (for stats).
    private let depth: DepthCache

    /// Payment confirmations and reminder cancellation through ``jobs``.
    public var paymentJobs: PaymentJobs { PaymentJobs(store: jobs) }

    public init(host: ServiceHost, settings: SchedulerSettings, gateway: (any GatewayLink)? = nil) {
        self.host = host
        var settings = settings
        settings.maxFrameBytes = host.settings.ipcMaxFrameBytes
        self.settings = settings
        let logger = host.logger
        let keys = host.keys
        let instance = host.settings.instance
        jobs = JobStore(redis: .pool(host.redis), keys: keys, settings: settings.storeSettings)

        let lockClient = host.makeRedisClient(name: "leader", commandTimeout: min(.seconds(5), settings.leaderLockTTL / 3))
        leadership = LeaderElection(
            lock: LeaderLock(client: lockClient, keys: keys, name: "poller", holder: instance),
            timing: LeaderLockMachine.Timing(ttl: settings.leaderLockTTL), logger: logger)

        // The loop waits at most 5 s idle, 20 s for the gateway backoff, or a delivery timeout
        // when every batch slot is taken by a slow gateway.
        let heartbeat = host.liveness.register("dispatch", maxSilence: max(.seconds(30), settings.deliverTimeout + .seconds(10)))
        dispatcher = JobDispatcher(
            store: JobStore(
                redis: .client(host.makeRedisClient(name: "dispatch")), keys: keys, settings: settings.storeSettings),
            gateway: gateway
                ?? IPCGatewayLink(
                    path: host.settings.gatewaySocketPath, maxFrameBytes: host.settings.ipcMaxFrameBytes, logger: logger),
            subscriber: RedisSubscriber(url: host.settings.redisURL, name: "jobs-wake", logger: logger),
            settings: settings, worker: instance, beat: { await heartbeat.checkpoint() }, logger: logger)

        recoverer = LeaseRecoverer(
            store: JobStore(
                redis: .client(host.makeRedisClient(name: "recovery")), keys: keys, settings: settings.storeSettings),
            leadership: leadership, maxInterval: min(.seconds(5), settings.lease / 2),
            deadLetterRetention: settings.deadLetterRetention, logger: logger)

        let depth = DepthCache()
        let depthStore = JobStore(redis: .pool(host.redis), keys: keys, settings: settings.storeSettings)
        self.depth = depth
        cluster = ClusterRegistry(
            client: host.makeRedisClient(name: "cluster"), reader: host.redis, keys: keys, instance: instance,
            interval: settings.clusterHeartbeat, snapshot: { [host] in host.snapshot() },
            refresh: { [depth] in
                let fresh = try? await depthStore.depth()
                depth.value.withLock { $0 = fresh }
            }, logger: logger)

        components = [leadership, dispatcher, recoverer, cluster]
        SchedulerHandlers.register(on: host, store: jobs)
        registerObservability()
    }

    private func registerObservability() {
        let dispatcher = self.dispatcher
        let leadership = self.leadership
        let recoverer = self.recoverer
        let cluster = self.cluster
        let instance = host.settings.instance
        let depth = self.depth
        host.stats.register("scheduler") {
            let election = leadership.snapshot
            var counters = dispatcher.counters.counters
            counters["leases_recovered_total"] = Double(recoverer.recovered.load(ordering: .relaxed))
            counters["leases_dead_lettered_total"] = Double(recoverer.deadLettered.load(ordering: .relaxed))
            counters["leader_terms_won_total"] = Double(election.termsWon)
            counters["leader_terms_lost_total"] = Double(election.termsLost)
            var info = ["role": election.term != nil ? "leader" : "follower"]
            if let leader = election.leader { info["leader"] = leader.holder + "#\(leader.token)" }
            if let term = election.term { info["leader_term"] = "\(term.token)" }
            info["gateway"] = dispatcher.gatewayUp ? "up" : "unreachable"
            var gauges: [String: Double] = [
                "jobs_in_flight_batches": Double(dispatcher.counters.inFlight.load(ordering: .relaxed)),
                "jobs_last_claim_lateness_ms": Double(dispatcher.counters.lastLatenessMs.load(ordering: .relaxed)),
                "leader": election.term != nil ? 1 : 0,
            ]
            if let d = depth.value.withLock({ $0 }) {
                gauges["jobs_scheduled"] = Double(d.scheduled)
                gauges["jobs_due_now"] = Double(d.dueNow)
                gauges["jobs_leased"] = Double(d.leased)
                gauges["jobs_dead"] = Double(d.dead)
            }
            return StatsContribution(counters: counters, gauges: gauges, info: info)
        }
        host.statusLine {
            let election = leadership.snapshot
            let role = election.term != nil ? "leader" : "follower (leader \(election.leader?.holder ?? "none"))"
            let acked = dispatcher.counters.acked.load(ordering: .relaxed)
            return "\(role); gateway \(dispatcher.gatewayUp ? "up" : "unreachable"); \(acked) jobs delivered; instance \(instance)"
        }
        host.health.register("gateway", critical: false) {
            let up = dispatcher.gatewayUp
            return Health.Check(ok: up, detail: up ? nil : "the gateway did not answer the last batch; jobs wait in Redis")
        }
        host.clusterView { await cluster.view() }
    }
}

/// The queue depths last read from Redis.
private final class DepthCache: Sendable {
    let value = Mutex<JobDepth?>(nil)
}
