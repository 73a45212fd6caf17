import Testing
import TollgateIPC
import TollgateTestKit

/// Both services check the Redis they are given: an unsafe one is reported in the log and in
/// `stats` (and so `tollgate status`), refused at start with `REDIS_REQUIRE_DURABLE=yes`, and one
/// whose `CONFIG` is disabled is reported as not checked.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RedisDurabilityTests {
    static let durable = ["--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction"]

    func start(_ name: String, redis: RedisServer, extra: [String: String] = [:]) throws -> (ServiceProcess, String) {
        let dir = TestNetwork.temporaryDirectory(prefix: "dur")
        let env = ServiceProcess.environment(redisURL: redis.url, directory: dir, extra: extra)
        let process = try ServiceProcess(name, environment: env, logPath: dir + "/service.log")
        return (process, env[name == "bot-gateway" ? "GATEWAY_SOCKET" : "POLLER_SOCKET"]!)
    }

    func info(_ socket: String) async throws -> [String: String] {
        let client = IPCClient(path: socket, logger: quietLogger)
        defer { Task { await client.close() } }
        return try await client.call(Stats(), timeout: .seconds(5)).snapshot.info
    }

    @Test(arguments: services) func anUnsafeRedisIsRefusedWhenDurabilityIsRequired(_ name: String) async throws {
        let redis = try RedisServer(arguments: ["--maxmemory-policy", "allkeys-lru"])
        let (process, _) = try start(name, redis: redis, extra: ["REDIS_REQUIRE_DURABLE": "yes"])
        let status = await offPool { process.process.wait(timeout: .seconds(30)) }
        #expect(status.flatMap(ChildProcess.exitCode) == 78, "\(process.logTail())")
        let log = process.log()
        #expect(log.contains("refusing to start"))
        #expect(log.contains("appendonly is no"))
        #expect(log.contains("maxmemory-policy is allkeys-lru"))
        redis.stop()
    }

    @Test(arguments: services) func anUnsafeRedisIsReportedAndUsed(_ name: String) async throws {
        let redis = try RedisServer(appendOnly: true, arguments: ["--appendfsync", "everysec"])
        let (process, socket) = try start(name, redis: redis)
        try await process.waitUntilReady()
        let summary = try await info(socket)["redis_durability"] ?? ""
        #expect(summary.hasPrefix("NOT durable"), "\(summary)")
        #expect(summary.contains("appendfsync is everysec"))
        #expect(process.log().contains("redis may lose acknowledged writes"))
        _ = await process.stop()
        redis.stop()
    }

    @Test(arguments: services) func aDurableRedisIsSaidToBeSo(_ name: String) async throws {
        let redis = try RedisServer(arguments: Self.durable)
        let (process, socket) = try start(name, redis: redis, extra: ["REDIS_REQUIRE_DURABLE": "yes"])
        try await process.waitUntilReady()
        let facts = try await info(socket)
        #expect(facts["redis_durability"]?.hasPrefix("durable") == true, "\(facts)")
        #expect(facts["redis_version"]?.isEmpty == false)
        _ = await process.stop()
        redis.stop()
    }

    @Test func aRedisWithoutConfigIsReportedAsNotChecked() async throws {
        let redis = try RedisServer(arguments: ["--rename-command", "CONFIG", ""])
        let (process, socket) = try start("poller-scheduler", redis: redis, extra: ["REDIS_REQUIRE_DURABLE": "yes"])
        try await process.waitUntilReady()
        let summary = try await info(socket)["redis_durability"] ?? ""
        #expect(summary.hasPrefix("durability not checked"), "\(summary)")
        #expect(process.log().contains("could not check the Redis durability settings"))
        _ = await process.stop()
        redis.stop()
    }
}
