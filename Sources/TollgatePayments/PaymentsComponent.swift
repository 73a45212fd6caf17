import Logging
import ServiceLifecycle
import TollgateCoordination
import TollgateCore
import TollgateHTTP
import TollgateIPC
import TollgateNocoDB
import TollgateRuntime

/// Payment watching inside poller-scheduler, wired in a few lines:
///
/// ```swift
/// let payments = PaymentsComponent(
///     host: host, config: config.payments, outcomes: PaymentJobsOutcomes(poller.paymentJobs),
///     leadership: poller.leadership)
/// poller.components += payments.services
/// ```
///
/// It registers `watch_payment` / `unwatch_payment` on the host, the `payments` stats (seed 000's
/// figures plus the NocoDB client's counters) for `stats`, `/metrics` and `tollgate status`, a
/// STATUS line, a non-critical `nocodb` health check and the polling loop's liveness heartbeat.
public final class PaymentsComponent: Sendable {
    public let config: PaymentsConfig
    /// The watch list on the host's pool (handlers).
    public let store: PaymentWatchStore
    public let nocodb: NocoDBClient
    public let poller: PaymentPoller
    public let stats: PaymentsStats
    public let handlers: PaymentWatchHandlers

    /// The services to run (the polling loop).
    public var services: [any Service] { [poller] }

    /// - Parameter http: an HTTP client to share (one is made otherwise).
    public init(
        host: ServiceHost, config: PaymentsConfig, outcomes: any PaymentOutcomes, leadership: any Leadership,
        http: HTTPClient? = nil
    ) {
        let logger = host.logger
        self.config = config
        let limiter = RedisRateLimiter(client: host.makeRedisClient(name: "nocodb-limiter"), keys: host.keys, logger: logger)
        nocodb = NocoDBClient(
            config: config.nocodb, http: http ?? HTTPClient(name: "nocodb", logger: logger), limiter: limiter, logger: logger)
        store = PaymentWatchStore(redis: .pool(host.redis), keys: host.keys)
        stats = PaymentsStats()
        // Waits inside the NocoDB client beat the heartbeat (SlicedSleep), and every answer does:
        // the longest silence is one request's timeout plus one backoff, whatever a peer says.
        let silence = max(.seconds(120), (config.nocodb.options.timeout + config.nocodb.options.backoffCap) * 2)
        let heartbeat = host.liveness.register("payments", maxSilence: silence)
        poller = PaymentPoller(
            store: PaymentWatchStore(redis: .client(host.makeRedisClient(name: "payments")), keys: host.keys),
            nocodb: nocodb, outcomes: outcomes, leadership: leadership, config: config, stats: stats,
            beat: { await heartbeat.checkpoint() }, logger: logger)
        handlers = PaymentWatchHandlers(
            store: store, defaultExpiry: config.defaultExpiry, firstCheckDelay: config.firstCheckDelay)
        register(on: host)
    }

    private func register(on host: ServiceHost) {
        let handlers = self.handlers
        host.register(WatchPayment.self) { request, _ in try await handlers.watch(request) }
        host.register(UnwatchPayment.self) { request, _ in try await handlers.unwatch(request) }
        let stats = self.stats
        let nocodb = self.nocodb
        host.stats.register("payments") {
            let c = stats.contribution(nocodb: nocodb.counters)
            return StatsContribution(counters: c.counters, gauges: c.gauges, info: c.info)
        }
        host.statusLine {
            let s = stats.snapshot
            let n = nocodb.counters
            return "payments \(s.mode): \(s.activeWatches) watched, \(s.confirmed) confirmed, \(n.total) NocoDB requests, \(n.throttled) 429s"
        }
        host.health.register("nocodb", critical: false) {
            let n = nocodb.counters
            let wait = (try? await nocodb.limiter.currentWait(nocodb.resource)) ?? .zero
            if wait > .seconds(2) {
                return Health.Check(ok: false, detail: "NocoDB token held by a 429 block for \(wait.milliseconds / 1000) s more")
            }
            return Health.Check(ok: true, detail: "\(n.total) requests, \(n.throttled) 429s")
        }
    }
}
