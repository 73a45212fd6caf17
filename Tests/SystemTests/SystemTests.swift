import Foundation
import Logging
import Testing
import TollgateIPC
import TollgateTestKit

let systemLogger: Logger = {
    var l = Logger(label: "system-test")
    l.logLevel = .critical
    return l
}()

/// A booted container with Tollgate installed and configured against a host Redis.
struct Deployment {
    let container: SystemdContainer
    let redis: RedisServer

    var gatewaySocket: String { container.hostPath("/run/tollgate/gateway.sock") }
    var pollerSocket: String { container.hostPath("/run/tollgate/poller.sock") }

    static func start(
        extraEnvironment: [String: String] = [:], botToken: String = "123456:TEST-token-not-real",
        nocodbToken: String = "TEST-nocodb-token"
    ) async throws -> Deployment {
        let root = try #require(SystemdContainer.preparedRoot)
        let redis = try RedisServer()
        let container = try await SystemdContainer.boot(rootfs: root)
        var env = [
            "REDIS_URL": "redis://127.0.0.1:\(redis.port)/0",
            "TELEGRAM_API_URL": "http://127.0.0.1:9",
            "NOCODB_URL": "http://127.0.0.1:9",
            "NOCODB_TABLE_ID": "tbl_system_test",
            "LOG_LEVEL": "info",
        ]
        env.merge(extraEnvironment) { $1 }
        try container.write(
            env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n") + "\n",
            to: "/etc/tollgate/tollgate.env")
        try container.write(botToken + "\n", to: "/etc/tollgate/credentials/bot-token", mode: 0o600)
        try container.write(nocodbToken + "\n", to: "/etc/tollgate/credentials/nocodb-token", mode: 0o600)
        return Deployment(container: container, redis: redis)
    }

    func stop() async {
        await container.shutdown()
        redis.stop()
    }

    /// `hello` on a fresh connection to `socket`; returns the instance that answered.
    func hello(_ socket: String, timeout: Duration = .seconds(30)) async throws -> Hello.Reply {
        let client = IPCClient(path: socket, logger: systemLogger)
        defer { _ = client }
        let reply = try await client.call(Hello(service: "system-test", instance: "host"), timeout: timeout)
        await client.close()
        return reply
    }
}

@Suite(.enabled(if: SystemdContainer.preparedRoot != nil, "needs scripts/system-test (root, a prepared rootfs)"), .serialized, .timeLimit(.minutes(10)))
struct SystemTests {
    @Test func aConnectionToEachSocketStartsItsService() async throws {
        let d = try await Deployment.start()
        let c = d.container
        let enable = try await c.systemctl("enable", "--now", "bot-gateway.socket", "bot-gateway-http.socket", "poller-scheduler.socket")
        #expect(enable.status == 0, "\(enable.output)")
        #expect(try await c.property("bot-gateway.service", "ActiveState") == "inactive")
        #expect(try await c.property("poller-scheduler@1.service", "ActiveState") == "inactive")

        let gateway = try await d.hello(d.gatewaySocket)
        #expect(gateway.service == "bot-gateway")
        let poller = try await d.hello(d.pollerSocket)
        #expect(poller.service == "poller-scheduler" && poller.instance == "poller@1")
        #expect(try await c.property("bot-gateway.service", "ActiveState") == "active")
        #expect(try await c.property("poller-scheduler@1.service", "ActiveState") == "active")
        // Type=notify: active means READY=1 was received; the status line is the service's own.
        #expect(try await c.property("bot-gateway.service", "StatusText").contains("redis ok"))
        // The ops HTTP socket is systemd's too.
        let ops = try await c.run(["/usr/local/bin/tollgate", "status", "--json"])
        #expect(ops.status == 0, "\(ops.output)")
        await d.stop()
    }

    /// The packaged redis-server with `scripts/install --redis-dropin` keeps what it acknowledges:
    /// both services, told to require that (`REDIS_REQUIRE_DURABLE=yes`), start on it and say so.
    @Test func thePackagedRedisWithTheDropInIsDurable() async throws {
        let d = try await Deployment.start(extraEnvironment: [
            "REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_REQUIRE_DURABLE": "yes",
        ])
        let c = d.container
        let redis = try await c.systemctl("start", "redis-server")
        let redisJournal = try await c.journal("redis-server")
        #expect(redis.status == 0, "\(redis.output)\n\(redisJournal)")
        let fsync = try await c.run(["redis-cli", "-p", "6379", "CONFIG", "GET", "appendfsync"])
        #expect(fsync.output.contains("always"), "\(fsync.output)")
        let enable = try await c.systemctl("enable", "--now", "bot-gateway.socket", "bot-gateway-http.socket", "poller-scheduler.socket")
        #expect(enable.status == 0, "\(enable.output)")
        #expect(try await d.hello(d.gatewaySocket).service == "bot-gateway")
        #expect(try await d.hello(d.pollerSocket).service == "poller-scheduler")
        #expect(try await c.property("bot-gateway.service", "ActiveState") == "active")
        #expect(try await c.property("poller-scheduler@1.service", "ActiveState") == "active")
        #expect(try await !c.property("bot-gateway.service", "StatusText").contains("NOT durable"))
        let status = try await c.run(["/usr/local/bin/tollgate", "status", "--json"])
        #expect(status.output.contains("durable (appendonly yes, appendfsync always, noeviction)"), "\(status.output)")
        _ = try await c.systemctl("stop", "bot-gateway.service", "poller-scheduler@1.service", "redis-server")
        await d.stop()
    }

    @Test func restartingTheGatewayKeepsRequestsWaitingOnTheSocket() async throws {
        let d = try await Deployment.start()
        let c = d.container
        try await c.systemctl("enable", "--now", "bot-gateway.socket", "bot-gateway-http.socket")
        let first = try await d.hello(d.gatewaySocket)
        // Stop the gateway: the socket stays, owned by systemd.
        try await c.systemctl("stop", "bot-gateway.service")
        #expect(try await c.property("bot-gateway.service", "ActiveState") == "inactive")
        #expect(try await c.property("bot-gateway.socket", "ActiveState") == "active")
        // A request sent now waits in the socket, starts the service and is answered by it.
        let second = try await d.hello(d.gatewaySocket)
        #expect(second.startedAtMs > first.startedAtMs)
        // A restart while a client is connected: its next request reaches the new process.
        let client = IPCClient(path: d.gatewaySocket, logger: systemLogger)
        _ = try await client.call(Health())
        try await c.systemctl("restart", "bot-gateway.service")
        var answered: Hello.Reply? = nil
        for _ in 0..<50 where answered == nil {
            let result = await attempt { () async throws(IPCError) -> Hello.Reply in
                try await client.call(Hello(service: "system-test", instance: "host"), timeout: .seconds(30))
            }
            switch result {
            case .success(let reply): answered = reply
            case .failure(let error):
                // connection_closed by the old process: retry on a new connection.
                #expect(error.code.isRetryable, "\(error)")
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect((answered?.startedAtMs ?? 0) > second.startedAtMs)
        await client.close()
        await d.stop()
    }

    @Test func aKilledPollerIsRestartedBySystemd() async throws {
        let d = try await Deployment.start()
        let c = d.container
        try await c.systemctl("enable", "--now", "poller-scheduler.socket", "poller-scheduler@1.service")
        try await c.waitFor("poller@1 active") { try await c.property("poller-scheduler@1.service", "ActiveState") == "active" }
        let pid = try await c.property("poller-scheduler@1.service", "MainPID")
        try await c.systemctl("kill", "--signal=SIGKILL", "--kill-whom=main", "poller-scheduler@1.service")
        try await c.waitFor("a restart") {
            let restarts = Int(try await c.property("poller-scheduler@1.service", "NRestarts")) ?? 0
            let state = try await c.property("poller-scheduler@1.service", "ActiveState")
            let newPID = try await c.property("poller-scheduler@1.service", "MainPID")
            return restarts >= 1 && state == "active" && newPID != pid && newPID != "0"
        }
        #expect(try await d.hello(d.pollerSocket).instance == "poller@1")
        await d.stop()
    }

    @Test func aFrozenMainLoopIsKilledByTheWatchdogAndRestarted() async throws {
        let d = try await Deployment.start()
        let c = d.container
        // Test-only: a shorter watchdog and the freeze switch for instance 2.
        try c.write(
            "[Service]\nWatchdogSec=3s\nEnvironment=TOLLGATE_TEST_HOOKS=1\n",
            to: "/etc/systemd/system/poller-scheduler@2.service.d/test.conf")
        try await c.systemctl("daemon-reload")
        try await c.systemctl("enable", "--now", "poller-scheduler.socket", "poller-scheduler@2.service")
        try await c.waitFor("poller@2 active") { try await c.property("poller-scheduler@2.service", "ActiveState") == "active" }
        try await c.systemctl("kill", "--signal=SIGUSR1", "--kill-whom=main", "poller-scheduler@2.service")
        try await c.waitFor("the watchdog to fire and systemd to restart the service", timeout: .seconds(60)) {
            (Int(try await c.property("poller-scheduler@2.service", "NRestarts")) ?? 0) >= 1
        }
        let journal = try await c.journal("poller-scheduler@2.service")
        #expect(journal.contains("Watchdog timeout"), "\(journal.suffix(3000))")
        #expect(journal.contains("Failed with result 'watchdog'"), "\(journal.suffix(3000))")
        #expect(journal.contains("withholding WATCHDOG=1"))
        try await c.waitFor("poller@2 active again") { try await c.property("poller-scheduler@2.service", "ActiveState") == "active" }
        await d.stop()
    }

    @Test func scaledPollersShareOneSocket() async throws {
        let d = try await Deployment.start()
        let c = d.container
        try await c.systemctl("enable", "--now", "poller-scheduler.socket", "poller-scheduler@1", "poller-scheduler@2", "poller-scheduler@3")
        for i in 1...3 {
            try await c.waitFor("poller@\(i) active") { try await c.property("poller-scheduler@\(i).service", "ActiveState") == "active" }
        }
        var answeredBy = Set<String>()
        for _ in 0..<60 { answeredBy.insert(try await d.hello(d.pollerSocket).instance) }
        #expect(answeredBy.count >= 2, "one listening socket, several acceptors: \(answeredBy)")
        try await c.systemctl("stop", "poller-scheduler@2", "poller-scheduler@3")
        var after = Set<String>()
        for _ in 0..<20 { after.insert(try await d.hello(d.pollerSocket).instance) }
        #expect(after == ["poller@1"])
        await d.stop()
    }

    @Test func stopSendsStoppingAndDrainsWithinTheTimeout() async throws {
        let d = try await Deployment.start()
        let c = d.container
        try await c.systemctl("enable", "--now", "bot-gateway.socket", "bot-gateway.service")
        try await c.waitFor("gateway active") { try await c.property("bot-gateway.service", "ActiveState") == "active" }
        let stop = try await c.systemctl("stop", "bot-gateway.service")
        #expect(stop.status == 0)
        #expect(try await c.property("bot-gateway.service", "Result") == "success")
        #expect(try await c.property("bot-gateway.service", "ExecMainStatus") == "0")
        let journal = try await c.journal("bot-gateway.service")
        #expect(journal.contains("SIGTERM: draining"), "\(journal.suffix(2000))")
        #expect(journal.contains("stopped"))
        #expect(!journal.contains("TEST-token-not-real"))
        await d.stop()
    }
}

/// Runs `body` and captures its typed outcome.
func attempt<T>(_ body: () async throws(IPCError) -> T) async -> Result<T, IPCError> {
    do throws(IPCError) {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}
