import Logging
import Synchronization
import TollgateCoordination
import TollgateCore
import TollgateHTTP
import TollgateNocoDB
import TollgateRedis
import TollgateSimulators
import TollgateTestKit

@testable import TollgatePayments

let quietLogger = Logger(label: "payments-test") { _ in SwiftLogNoOpLogHandler() }
let testToken = "123456:TEST-nocodb-token"

/// The job store's side of payments, as a recorder with the store's idempotency: a job id is
/// created once, whatever the calls.
final class RecordingOutcomes: PaymentOutcomes {
    struct State {
        var jobs: [String: Int64] = [:]  // job id → user
        var confirmCalls: [Int64: Int] = [:]
        var cancelCalls: [Int64: Int] = [:]
        var expired: [Int64: Int] = [:]
        var confirmedAt: [Int64: Int64] = [:]  // user → wall ms of the first hand-over
        var failNextCancels = 0
    }
    let state = Mutex(State())

    func confirmPayment(_ c: PaymentConfirmation) async throws {
        let now = WallClock.epochMilliseconds()
        state.withLock { s in
            s.confirmCalls[c.watch.userID, default: 0] += 1
            let id = "payment_confirmed:\(c.watch.userID):\(c.recordID):\(c.watch.watchID)"
            if s.jobs[id] == nil {
                s.jobs[id] = c.watch.userID
                s.confirmedAt[c.watch.userID] = now
            }
        }
    }

    func cancelReminders(userID: Int64) async throws {
        let fail = state.withLock { s -> Bool in
            if s.failNextCancels > 0 {
                s.failNextCancels -= 1
                return true
            }
            s.cancelCalls[userID, default: 0] += 1
            return false
        }
        if fail { throw TestFailure("cancel failed (injected)") }
    }

    func expirePayment(_ watch: PaymentWatch) async throws {
        state.withLock { s in
            s.expired[watch.userID, default: 0] += 1
            s.jobs["payment_expired:\(watch.userID):\(watch.recordID ?? 0)"] = watch.userID
        }
    }

    var snapshot: State { state.withLock { $0 } }

    /// Users with a confirmation job, and how many distinct confirmation jobs each has.
    var confirmationJobsPerUser: [Int64: Int] {
        snapshot.jobs.filter { $0.key.hasPrefix("payment_confirmed:") }.reduce(into: [:]) { $0[$1.value, default: 0] += 1 }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Leadership a test switches by hand.
final class ManualLeadership: Leadership {
    private let state = Mutex<(term: LeaderTerm?, waiters: [CheckedContinuation<Void, Never>])>((nil, []))

    init(leading: Bool) {
        if leading { set(LeaderTerm(holder: "test", token: 1)) }
    }

    var currentTerm: LeaderTerm? { state.withLock { $0.term } }

    func set(_ term: LeaderTerm?) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.term = term
            defer { s.waiters = [] }
            return s.waiters
        }
        waiters.forEach { $0.resume() }
    }

    func waitForChange(from term: LeaderTerm?) async {
        // Polls briefly so cancellation is honoured without a cancellation handler dance.
        while !Task.isCancelled, currentTerm == term {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A simulator, a Redis and the pieces of a poller, for one test.
struct PaymentsHarness: Sendable {
    let simulator: NocoDBSimulator
    let url: String
    let redis: RedisServer
    let keys = KeySpace(prefix: "pt")

    func redisClient(_ name: String) throws -> RedisClient {
        RedisClient(url: try RedisURL(redis.url), name: name, logger: quietLogger)
    }

    func store() throws -> PaymentWatchStore {
        PaymentWatchStore(redis: .client(try redisClient("store")), keys: keys)
    }

    /// A NocoDB client as a fresh process would make it (own HTTP client and limiter connection).
    func nocodb(table: String = "users", configure: (inout NocoDBClient.Options) -> Void = { _ in }) throws -> NocoDBClient {
        var options = NocoDBClient.Options()
        options.backoffBase = .milliseconds(50)
        options.backoffCap = .milliseconds(500)
        options.timeout = .seconds(2)
        options.requestLogLevel = .debug
        configure(&options)
        let config = NocoDBConfig(baseURL: url, token: Secret(testToken), tableID: table, options: options)
        let limiter = RedisRateLimiter(client: try redisClient("limiter"), keys: keys, logger: quietLogger)
        return NocoDBClient(config: config, http: HTTPClient(name: "nocodb", logger: quietLogger), limiter: limiter, logger: quietLogger)
    }

    func config(_ nocodb: NocoDBClient, _ configure: (inout PaymentsConfig) -> Void = { _ in }) -> PaymentsConfig {
        var config = PaymentsConfig(nocodb: nocodb.config)
        config.firstCheckDelay = .milliseconds(200)
        config.deltaInterval = .seconds(1)
        config.deltaOverlap = .seconds(2)
        config.cadence = .fixed(.seconds(2))
        config.idleWait = .milliseconds(200)
        config.errorBackoffCap = .seconds(1)
        configure(&config)
        return config
    }

    func poller(
        outcomes: RecordingOutcomes, leadership: any Leadership = ManualLeadership(leading: true), table: String = "users",
        _ configure: (inout PaymentsConfig) -> Void = { _ in },
        nocodbOptions: (inout NocoDBClient.Options) -> Void = { _ in }
    ) throws -> PaymentPoller {
        let client = try nocodb(table: table, configure: nocodbOptions)
        return PaymentPoller(
            store: try store(), nocodb: client, outcomes: outcomes, leadership: leadership,
            config: config(client, configure), logger: quietLogger)
    }
}

func withPaymentsHarness<T: Sendable>(
    _ configure: (inout NocoDBSimulator.Configuration) -> Void = { _ in },
    _ body: @Sendable (PaymentsHarness) async throws -> T
) async throws -> T {
    var configuration = NocoDBSimulator.Configuration()
    configuration.tokens = [testToken]
    configure(&configuration)
    let simulator = NocoDBSimulator(configuration: configuration, logger: quietLogger)
    let redis = try RedisServer()
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try? await simulator.run()
            return nil
        }
        let harness = PaymentsHarness(simulator: simulator, url: try await simulator.baseURL(), redis: redis)
        let result = try await body(harness)
        group.cancelAll()
        while let _ = try await group.next() {}
        return result
    }
}

/// Runs `poller` while `body` runs.
func running<T: Sendable>(_ poller: PaymentPoller, _ body: () async throws -> T) async throws -> T {
    let task = Task { try await poller.run() }
    defer { task.cancel() }
    let result = try await body()
    task.cancel()
    _ = try? await task.value
    return result
}

/// Polls `condition` every 100 ms until it holds or `timeout` passes.
func eventually(timeout: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}
