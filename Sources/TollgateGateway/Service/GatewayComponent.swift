import Logging
import ServiceLifecycle
import TollgateBroadcast
import TollgateCoordination
import TollgateCore
import TollgateHTTP
import TollgateHTTPServer
import TollgateIPC
import TollgateRedis
import TollgateRuntime
import TollgateTelegram

/// What the gateway gets from the shared coordination layer and the payments side.
public struct GatewayDependencies: Sendable {
    /// Telegram's flood limits, shared through Redis by every gateway.
    public var limiter: any OutboundRateLimiter
    /// Find-or-create of the user's NocoDB row, through the shared NocoDB limiter.
    public var directory: any UserDirectory
    /// The gateway's leader election (one poller and one processor per bot token).
    public var leadership: any Leadership
    /// Services the dependencies need running (the election itself).
    public var services: [any Service]

    public init(
        limiter: any OutboundRateLimiter, directory: any UserDirectory, leadership: any Leadership,
        services: [any Service]
    ) {
        self.limiter = limiter
        self.directory = directory
        self.leadership = leadership
        self.services = services
    }
}

/// Builds bot-gateway's components on a ``ServiceHost``: the Telegram client, the sender, the
/// flow, inbound (long polling or webhook) and the update processor; registers `deliver`, stats,
/// health and the status line. Returns the services to run.
public enum GatewayComponent {
    public static func make(
        host: ServiceHost, config: GatewayConfiguration, dependencies: GatewayDependencies
    ) -> [any Service] {
        let logger = host.logger
        let keys = host.keys
        let http = HTTPClient(name: "telegram", maxConnections: 64, logger: logger)
        let telegram = TelegramClient(
            token: config.botToken, apiURL: config.telegramAPI, http: http,
            mediaCache: RedisMediaCache(redis: host.redis, keys: keys, botID: botID(config.botToken), logger: logger),
            maxRetryAfter: config.maxRetryAfter, logger: logger)
        let suppression = SuppressionList(redis: host.redis, keys: keys)
        let sender = OutboundSender(
            telegram: telegram, limiter: dependencies.limiter, suppression: suppression,
            policy: .init(
                transientDelays: config.sendRetryDelays, localSpacing: .microseconds(Int64(1_000_000 / config.globalRate))),
            logger: logger)
        let states = UserStateStore(redis: host.redis, keys: keys, ttl: config.stateTTL)
        let ipc = IPCClient(path: host.settings.pollerSocketPath, maxFrameBytes: host.settings.ipcMaxFrameBytes, logger: logger)
        let door = config.club.map { club in
            // The flow's offers (checked when the configuration was read; taken in again here for
            // a configuration built in code).
            var club = club
            for problem in club.adopt(config.flow.topics) {
                logger.error("the flow's offers do not fit the club", metadata: ["problem": "\(problem)"])
            }
            return ClubDoor(
                config: club, telegram: telegram, ledger: EntitlementLedger(redis: host.redis, keys: keys), redis: host.redis,
                keys: keys, logger: logger)
        }
        let runner = FlowRunner(
            engine: FlowEngine(
                flow: config.flow, club: door != nil, periods: config.club?.hasPeriods ?? false,
                credits: config.club?.creditsPayments ?? false), journal: EffectJournal(redis: host.redis, keys: keys),
            states: states, sender: sender, telegram: telegram, directory: dependencies.directory,
            poller: PollerLink(client: ipc, logger: logger), door: door, logger: logger)
        let reconciler = door.map {
            ClubReconciler(
                door: $0, runner: runner, directory: dependencies.directory, limiter: dependencies.limiter,
                leadership: dependencies.leadership, redis: host.redis, keys: keys, logger: logger)
        }
        registerClub(host: host, reconciler: reconciler)
        let journal = UpdateJournal(keys: keys, deadLetterRetention: config.deadLetterRetention)
        let processor = UpdateProcessor(
            journal: journal, runner: runner,
            inboundLimit: InboundLimit(redis: host.redis, keys: keys, limit: config.inboundLimit, window: config.inboundWindow),
            suppression: suppression, leadership: dependencies.leadership,
            reader: host.makeRedisClient(name: "gw-inbound-reader"), writer: host.redis,
            settings: .init(workers: config.workers), liveness: host.liveness, logger: logger)
        let deliver = DeliverHandler(runner: runner, logger: logger)
        // Broadcasts (the outbox in Redis): any gateway sends the running campaigns, at low priority.
        let outbox = BroadcastOutbox(redis: host.redis, keys: keys)
        let broadcasts = BroadcastWorker(
            outbox: outbox, journal: EffectJournal(redis: host.redis, keys: keys),
            claims: RunClaims(redis: host.redis, keys: keys, logger: logger), sender: sender, states: states, logger: logger)
        registerBroadcasts(host: host, api: BroadcastAPI(outbox: outbox, redis: host.redis, keys: keys, logger: logger))
        host.register(Deliver.self) { request, _ in await deliver.handle(request) }

        // Graceful shutdown runs in reverse order: inbound stops first, then the processor drains,
        // then the election lets go of the lock, and the HTTP client closes last.
        var services: [any Service] = [TelegramClientCloser(http: http)] + dependencies.services + [processor]
        if let club = config.club { services.append(ClubPreflight(telegram: telegram, club: club, logger: logger)) }
        if let reconciler { services.append(reconciler) }
        services.append(broadcasts)
        var poller: LongPoller?
        var receiver: WebhookReceiver?
        switch config.mode {
        case .polling:
            let p = LongPoller(
                telegram: telegram, journal: journal, leadership: dependencies.leadership,
                redis: host.makeRedisClient(name: "gw-poller"),
                settings: .init(timeoutSeconds: config.pollTimeoutSeconds, allowedUpdates: config.allowedUpdates),
                liveness: host.liveness, logger: logger)
            poller = p
            services.append(p)
        case .webhook(let url, let path, let secret, let listen, let maxConnections):
            let r = WebhookReceiver(path: path, secret: secret, journal: journal, redis: host.redis, logger: logger)
            receiver = r
            let target: HTTPListenTarget = host.listenFD(named: "webhook").map { .descriptor($0.fd) } ?? listen
            let server = HTTPServer(
                name: "webhook", target: target, maxBodyBytes: 1 << 20, limits: host.settings.httpLimits, logger: logger
            ) { await r.handle($0) }
            ServiceHost.registerStats(of: server, as: "webhook", on: host.stats)
            services.append(server)
            services.append(
                WebhookRegistrar(
                    telegram: telegram, url: url, secret: secret, maxConnections: maxConnections,
                    allowedUpdates: config.allowedUpdates, leadership: dependencies.leadership, logger: logger))
        }

        registerObservability(
            host: host, telegram: telegram, sender: sender, processor: processor, poller: poller, receiver: receiver,
            deliver: deliver, runner: runner, door: door, reconciler: reconciler, broadcasts: broadcasts,
            leadership: dependencies.leadership, mode: config.mode)
        return services
    }

    /// The operator's broadcast requests (`tollgate broadcast …`).
    static func registerBroadcasts(host: ServiceHost, api: BroadcastAPI) {
        host.register(BroadcastCreate.self) { request, _ in try await BroadcastAPI.call { try await api.create(request) } }
        host.register(BroadcastAdd.self) { request, _ in try await BroadcastAPI.call { try await api.add(request) } }
        host.register(BroadcastSeal.self) { request, _ in try await BroadcastAPI.call { try await api.seal(request) } }
        host.register(BroadcastList.self) { _, _ in try await BroadcastAPI.call { try await api.list() } }
        host.register(BroadcastShow.self) { request, _ in try await BroadcastAPI.call { try await api.show(request) } }
        host.register(BroadcastControl.self) { request, _ in try await BroadcastAPI.call { try await api.control(request) } }
    }

    /// The club's operator requests (`tollgate club …`); without a club each is answered
    /// `not_found`.
    static func registerClub(host: ServiceHost, reconciler: ClubReconciler?) {
        @Sendable func club() throws(IPCError) -> ClubReconciler {
            guard let reconciler else { throw IPCError(.notFound, "no club is configured (CLUB_CHAT_ID)") }
            return reconciler
        }
        host.register(ClubStatus.self) { _, _ in try await clubCall { try await club().status() } }
        host.register(ClubGrant.self) { request, _ in try await clubCall { try await club().grant(request) } }
        host.register(ClubRevoke.self) { request, _ in try await clubCall { try await club().revoke(request) } }
        host.register(ClubReconcile.self) { request, _ in
            let report = try await clubCall { try await club().reconcile(trigger: "request", dryRun: request.dryRun ?? false) }
            guard let report else {
                throw IPCError(.unavailable, "a reconciliation is running; ask again when it is done", retryAfterMs: 60_000)
            }
            return report
        }
    }

    /// Maps what the club's work throws to protocol errors: Redis and Telegram trouble is
    /// `unavailable` (retryable), a refusal of Telegram's is `conflict` with its description.
    static func clubCall<T>(_ body: () async throws -> T) async throws(IPCError) -> T {
        do {
            return try await body()
        } catch let error as IPCError {
            throw error
        } catch let error as RedisError {
            throw IPCError(.unavailable, "redis: \(error.code.rawValue)", retryAfterMs: 1000)
        } catch let error as TelegramError {
            if error.isRetryable { throw IPCError(.unavailable, "telegram: \(error.code.rawValue)", retryAfterMs: 1000) }
            throw IPCError(.conflict, "telegram refused: \(error.code.rawValue) \(error.detail.prefix(200))")
        } catch {
            throw IPCError(.internal, "\(type(of: error))")
        }
    }

    static func botID(_ token: Secret) -> String {
        token.exposedValue.split(separator: ":", maxSplits: 1).first.map(String.init) ?? "bot"
    }
}

/// Shuts the Telegram HTTP client down when the service stops.
struct TelegramClientCloser: Service {
    let http: HTTPClient
    func run() async throws {
        try? await gracefulShutdown()
        http.shutdown()
    }
}
