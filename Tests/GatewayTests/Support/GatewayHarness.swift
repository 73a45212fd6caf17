import Logging
import ServiceLifecycle
import TollgateCoordination
import TollgateCore
import TollgateGateway
import TollgateHTTP
import TollgateIPC
import TollgateRedis
import TollgateSimulators
import TollgateTelegram
import TollgateTestKit

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
let testToken = "654321:GW-TEST-token"

/// A gateway assembled in process (without the service runtime) against the Telegram simulator
/// and a private redis-server, with stand-ins for NocoDB and the poller.
struct GatewayHarness {
    let simulator: TelegramSimulator
    let redis: RedisServer
    let pool: RedisClientPool
    let keys: KeySpace
    let telegram: TelegramClient
    let journal: UpdateJournal
    let states: UserStateStore
    let suppression: SuppressionList
    let sender: OutboundSender
    let runner: FlowRunner
    let processor: UpdateProcessor
    let poller: LongPoller
    let directory: FakeDirectory
    let pollerRequests: FakePoller
    let deliver: DeliverHandler
    let effects: EffectJournal
    /// The club's door, when the harness was given a club.
    let door: ClubDoor?

    /// A delivery of `kind` for `user`.
    func delivery(_ jobID: String, _ kind: String, user: Int64, payload: [String: JSONValue] = [:]) -> Delivery {
        Delivery(jobID: jobID, epoch: 1, kind: kind, userID: user, chatID: user, attempt: 1, dueAtMs: 0, payload: payload)
    }

    /// Texts the bot sent to `chat`, in order.
    func texts(_ chat: Int64) -> [String] {
        simulator.sent(to: chat).map { $0.text ?? $0.caption ?? "<\($0.mediaKind ?? "?")>" }
    }
}

/// Runs `body` with a fresh gateway (processor and long poller running) and shuts everything down.
func withGateway<T>(
    flow: FlowDefinition = .defaults, limits: SimFloodLimits = .off, limiter: (any OutboundRateLimiter)? = nil,
    inboundLimit: Int = 10, pollTimeout: Int = 1, startPolling: Bool = true, poller: (any PollerRequests)? = nil,
    club: ClubConfiguration? = nil, _ body: (GatewayHarness) async throws -> T
) async throws -> T {
    let redis = try RedisServer()
    let url = try RedisURL(redis.url)
    let pool = RedisClientPool(url: url, name: "gw-test", size: 4, logger: quietLogger)
    let keys = KeySpace(prefix: "t")
    let simulator = TelegramSimulator(configuration: .init(token: testToken, floodLimits: limits), logger: quietLogger)
    let simGroup = ServiceGroup(services: [simulator], logger: quietLogger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await simGroup.run() }
        let http = HTTPClient(name: "gw-test", logger: quietLogger)
        defer { http.shutdown() }
        let base = try await simulator.baseURL()
        let telegram = TelegramClient(
            token: Secret(testToken), apiURL: base, http: http,
            mediaCache: RedisMediaCache(redis: pool, keys: keys, botID: "654321", logger: quietLogger), logger: quietLogger)
        let journal = UpdateJournal(keys: keys)
        let states = UserStateStore(redis: pool, keys: keys)
        let suppression = SuppressionList(redis: pool, keys: keys)
        let sender = OutboundSender(
            telegram: telegram, limiter: limiter ?? NoLimits(), suppression: suppression,
            policy: .init(transientDelays: [.milliseconds(50), .milliseconds(100)]), logger: quietLogger)
        let directory = FakeDirectory()
        let pollerRequests = FakePoller()
        let effects = EffectJournal(redis: pool, keys: keys)
        let door = club.map { club in
            var club = club
            _ = club.adopt(flow.topics)
            return ClubDoor(
                config: club, telegram: telegram, ledger: EntitlementLedger(redis: pool, keys: keys), redis: pool, keys: keys,
                logger: quietLogger)
        }
        let runner = FlowRunner(
            engine: FlowEngine(
                flow: flow, club: door != nil, periods: club?.hasPeriods ?? false,
                credits: club?.creditsPayments ?? false),
            journal: effects, states: states, sender: sender,
            telegram: telegram, directory: directory, poller: poller ?? pollerRequests, door: door, logger: quietLogger)
        let processor = UpdateProcessor(
            journal: journal, runner: runner, inboundLimit: InboundLimit(redis: pool, keys: keys, limit: inboundLimit),
            suppression: suppression, leadership: AlwaysLeader(),
            reader: RedisClient(url: url, name: "reader", logger: quietLogger), writer: pool,
            settings: .init(workers: 16, retryBase: .milliseconds(50), retryCap: .milliseconds(500), readBlock: .milliseconds(200)),
            logger: quietLogger)
        let poller = LongPoller(
            telegram: telegram, journal: journal, leadership: AlwaysLeader(),
            redis: RedisClient(url: url, name: "poller", logger: quietLogger),
            settings: .init(
                timeoutSeconds: pollTimeout,
                allowedUpdates: ["message", "callback_query"] + (club == nil ? [] : ["chat_member", "chat_join_request"])),
            logger: quietLogger)
        let harness = GatewayHarness(
            simulator: simulator, redis: redis, pool: pool, keys: keys, telegram: telegram, journal: journal, states: states,
            suppression: suppression, sender: sender, runner: runner, processor: processor, poller: poller,
            directory: directory, pollerRequests: pollerRequests, deliver: DeliverHandler(runner: runner, logger: quietLogger),
            effects: effects, door: door)
        let services: [any Service] = startPolling ? [processor, poller] : [processor]
        let gatewayGroup = ServiceGroup(services: services, logger: quietLogger)
        tasks.addTask { try await gatewayGroup.run() }
        func shutdown() async {
            await gatewayGroup.triggerGracefulShutdown()
            await simGroup.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            await pool.close()
        }
        do {
            let result = try await body(harness)
            await shutdown()
            return result
        } catch {
            await shutdown()
            throw error
        }
    }
}

/// Polls `condition` every `interval` until it holds or `timeout` passes (a generous bound: a
/// loaded test machine is slow, and a condition that holds returns at once).
func eventually(
    timeout: Duration = .seconds(60), every interval: Duration = .milliseconds(50), _ condition: () async -> Bool
) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return await condition()
}
