import Logging
import TollgateCoordination
import TollgateCore
import TollgateHTTP
import TollgateNocoDB
import TollgateRedis
import TollgateSimulators
import TollgateTestKit

let quietLogger = Logger(label: "nocodb-test") { _ in SwiftLogNoOpLogHandler() }
let testToken = "123456:TEST-nocodb-token"

/// A simulator running for the duration of `body`, with a Redis for the shared limiter.
struct SimulatorHarness: Sendable {
    let simulator: NocoDBSimulator
    let url: String
    let redis: RedisServer
    let prefix: String

    /// A client (its own HTTPClient and Redis connection, as another process would have).
    func client(
        table: String = "users", logger: Logger = quietLogger, configure: (inout NocoDBClient.Options) -> Void = { _ in }
    ) throws -> NocoDBClient {
        var options = NocoDBClient.Options()
        options.backoffBase = .milliseconds(20)
        options.backoffCap = .milliseconds(200)
        options.timeout = .seconds(10)  // the default: a loaded test machine may pause for seconds
        configure(&options)
        let config = NocoDBConfig(baseURL: url, token: Secret(testToken), tableID: table, options: options)
        let redisClient = RedisClient(url: try RedisURL(redis.url), name: "limiter", logger: quietLogger)
        let limiter = RedisRateLimiter(client: redisClient, keys: KeySpace(prefix: prefix), logger: quietLogger)
        return NocoDBClient(config: config, http: HTTPClient(name: "nocodb", logger: quietLogger), limiter: limiter, logger: logger)
    }
}

func withSimulator<T: Sendable>(
    _ configure: (inout NocoDBSimulator.Configuration) -> Void = { _ in },
    _ body: @Sendable (SimulatorHarness) async throws -> T
) async throws -> T {
    var configuration = NocoDBSimulator.Configuration()
    configuration.tokens = [testToken]
    configure(&configuration)
    let simulator = NocoDBSimulator(configuration: configuration, logger: quietLogger)
    let redis = try RedisServer()
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            // Ends with CancellationError when the test is done; a bind failure shows in baseURL().
            try? await simulator.run()
            return nil
        }
        let harness = SimulatorHarness(
            simulator: simulator, url: try await simulator.baseURL(), redis: redis, prefix: "t")
        let result = try await body(harness)
        group.cancelAll()
        while let _ = try await group.next() {}
        return result
    }
}
