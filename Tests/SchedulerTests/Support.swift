import Logging
import TollgateCoordination
import TollgateCore
import TollgateIPC
import TollgateJobs
import TollgateRedis
import TollgateTestKit

#if canImport(Glibc)
    import Glibc
#endif

let quiet: Logger = {
    var logger = Logger(label: "scheduler-tests")
    logger.logLevel = .critical
    return logger
}()

/// A private Redis, a stand-in gateway and any number of real poller-scheduler processes.
final class PollerCluster: @unchecked Sendable {
    let redis: RedisServer
    let directory: String
    let gateway: StandInGateway
    let client: RedisClient
    let keys = KeySpace(prefix: "tollgate")
    let extra: [String: String]
    private(set) var pollers: [Int: ServiceProcess] = [:]

    init(environment extra: [String: String] = [:], gatewayRunning: Bool = true, appendOnly: Bool = false) async throws {
        var attempt = 0
        var server: RedisServer?
        while server == nil {
            attempt += 1
            do {
                server = try RedisServer(appendOnly: appendOnly)
            } catch RedisServer.Failure.didNotStart(let log) where attempt < 3 && log.contains("Address already in use") {
                continue
            }
        }
        redis = server!
        directory = TestNetwork.temporaryDirectory(prefix: "sched")
        gateway = StandInGateway(path: directory + "/gateway.sock")
        client = RedisClient(
            url: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: redis.port)), name: "test", logger: quiet)
        self.extra = extra
        if gatewayRunning { try await gateway.start() }
    }

    var store: JobStore { JobStore(redis: .client(client), keys: keys) }

    /// A store on a connection of its own.
    func makeStore() -> JobStore {
        JobStore(
            redis: .client(
                RedisClient(url: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: redis.port)), name: "load", logger: quiet)),
            keys: keys)
    }

    func environment(_ index: Int) -> [String: String] {
        var env = ServiceProcess.environment(
            redisURL: redis.url, directory: directory,
            extra: [
                "TOLLGATE_INSTANCE": "poller@\(index)",
                "POLLER_SOCKET": directory + "/poller-\(index).sock",
                "POLLER_HTTP": "off",
                "LOG_LEVEL": "notice",
            ])
        env.merge(extra) { _, new in new }
        return env
    }

    /// Starts instance `index` and waits until it is ready.
    @discardableResult
    func start(_ index: Int, waitReady: Bool = true) async throws -> ServiceProcess {
        let process = try ServiceProcess(
            "poller-scheduler", environment: environment(index), logPath: directory + "/poller-\(index).log")
        pollers[index] = process
        if waitReady { try await process.waitUntilReady() }
        return process
    }

    func kill9(_ index: Int) async {
        await pollers[index]?.kill9()
        pollers[index] = nil
    }

    func stopAll() async {
        for (_, p) in pollers { await p.stop(grace: .seconds(10)) }
        pollers = [:]
        await gateway.stop()
        await client.close()
    }

    /// The current leader lock holder, if any.
    func leader() async throws -> LeaderTerm? {
        try await client.send("GET", RedisArgument(keys("leader", "poller"))).string.flatMap(LeaderLock.parse)
    }

    /// `stats` of instance `index` over its socket.
    func stats(_ index: Int) async throws -> Stats.Reply {
        let ipc = IPCClient(path: directory + "/poller-\(index).sock", logger: quiet)
        defer { Task { await ipc.close() } }
        return try await ipc.call(Stats(), timeout: .seconds(5))
    }

    func logs() -> String {
        pollers.values.map { "--- \($0.logPath)\n" + $0.logTail(3000) }.joined(separator: "\n")
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func eventually(timeout: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
