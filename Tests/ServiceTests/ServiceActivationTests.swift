import Foundation
import Testing
import TollgateHTTP
import TollgateIPC
import TollgateTestKit

#if canImport(Glibc)
    import Glibc
#endif

/// Both services under the real `systemd-socket-activate`, with a test-owned NOTIFY_SOCKET:
/// READY=1 only once the socket answers and Redis is up, WATCHDOG=1 repeatedly, STOPPING=1 on
/// SIGTERM, and the inherited socket is never unlinked.
@Suite(.timeLimit(.minutes(3))) struct ServiceActivationTests {
    struct Activated {
        let activator: SocketActivator
        let notify: NotifySocketListener
        let socketPath: String
        let httpPort: Int
        let redisPort: Int
        let directory: String
    }

    /// Activates `name` with its IPC socket and its ops HTTP socket; Redis is expected on `redisPort`.
    func activate(_ name: String, redisPort: Int, testHooks: Bool = false) throws -> Activated {
        let dir = TestNetwork.temporaryDirectory(prefix: "act")
        let notify = try NotifySocketListener()
        let kind = name == "bot-gateway" ? "gateway" : "poller"
        let socketPath = dir + "/\(kind).sock"
        let httpPort = TestNetwork.freePort()
        var env = ServiceProcess.environment(redisURL: "redis://127.0.0.1:\(redisPort)/0", directory: dir)
        env.merge(notify.environment) { $1 }
        env["WATCHDOG_USEC"] = "1000000"
        env["TOLLGATE_INSTANCE"] = "\(kind)-activated"
        if testHooks { env["TOLLGATE_TEST_HOOKS"] = "1" }
        let activator = try SocketActivator(
            command: try TestBinaries.path(of: name),
            sockets: [.init(.unix(socketPath), name: kind), .init(.loopback(port: httpPort), name: "\(kind)-http")],
            environment: env, output: dir + "/service.log")
        #expect(activator.waitUntilListening())
        return Activated(activator: activator, notify: notify, socketPath: socketPath, httpPort: httpPort, redisPort: redisPort, directory: dir)
    }

    @Test(arguments: services) func readyOnlyWithRedisThenWatchdogThenStopping(_ name: String) async throws {
        let redisPort = TestNetwork.freePort()
        let a = try activate(name, redisPort: redisPort)
        // Nothing runs until the first connection; the connection is served once the service is up.
        let client = IPCClient(path: a.socketPath, logger: quietLogger)
        let hello = try await client.hello(service: "tollgate", instance: "test")
        #expect(hello.service == name && hello.instance.hasSuffix("-activated"))
        // Redis is down: the socket answers, but the service is not ready and does not say READY=1.
        let notify = a.notify
        #expect(await offPool { notify.waitFor(after: nil, timeout: .seconds(5)) { $0.text.contains("waiting for Redis") } } != nil)
        #expect(notify.count(of: "READY=1") == 0)
        #expect(try await client.call(Health()).ready == false)

        let redis = try RedisServer(port: redisPort)
        let readyMessage = await offPool { notify.waitFor("READY=1", timeout: .seconds(15)) }
        let ready = try #require(readyMessage, "no READY=1: \(notify.messages.map(\.text))")
        #expect(ready.senderPID == a.activator.pid)
        // At READY the socket answers and reports ready.
        #expect(try await client.call(Health()).ready)
        // The ops HTTP endpoint is served on the inherited TCP socket.
        let http = HTTPClient(name: "t", logger: quietLogger)
        let response = try await http.execute(.get("http://127.0.0.1:\(a.httpPort)/ready"))
        #expect(response.status == 200)
        http.shutdown()

        // WATCHDOG=1 again and again (every half interval: 500 ms).
        #expect(await offPool { TestNetwork.waitUntil(timeout: .seconds(10)) { notify.count(of: "WATCHDOG=1", after: ready.time) >= 3 } })

        // SIGTERM → STOPPING=1, a clean exit, and the inherited socket is left in place.
        a.activator.process.signal(SIGTERM)
        let stopping = await offPool { notify.waitFor("STOPPING=1", timeout: .seconds(10)) }
        #expect(stopping != nil)
        let process = a.activator.process
        let status = await offPool { process.wait(timeout: .seconds(15)) }
        #expect(status.flatMap(ChildProcess.exitCode) == 0)
        #expect(access(a.socketPath, F_OK) == 0, "the service must not unlink a socket systemd owns")
        await client.close()
        _ = a.activator.stop()
        redis.stop()
    }

    @Test func watchdogStopsWhenTheMainLoopsFreeze() async throws {
        let redis = try RedisServer()
        let a = try activate("poller-scheduler", redisPort: redis.port, testHooks: true)
        let client = IPCClient(path: a.socketPath, logger: quietLogger)
        _ = try await client.hello(service: "tollgate", instance: "test")
        let notify = a.notify
        let readyMessage = await offPool { notify.waitFor("READY=1", timeout: .seconds(15)) }
        let ready = try #require(readyMessage)
        #expect(await offPool { TestNetwork.waitUntil(timeout: .seconds(10)) { notify.count(of: "WATCHDOG=1", after: ready.time) >= 2 } })

        a.activator.process.signal(SIGUSR1)  // the test-only freeze switch
        try await Task.sleep(for: .milliseconds(700))  // one ping may already be on its way
        let frozenAt = ContinuousClock.now
        try await Task.sleep(for: .seconds(3))
        #expect(notify.count(of: "WATCHDOG=1", after: frozenAt) == 0, "pings after freezing: \(notify.messages.map(\.text))")
        // Liveness is reported honestly too.
        let health = try await client.call(Health())
        #expect(health.live == false && health.ready == false)
        let http = HTTPClient(name: "t", logger: quietLogger)
        #expect(try await http.execute(.get("http://127.0.0.1:\(a.httpPort)/health")).status == 503)
        http.shutdown()
        await client.close()
        _ = a.activator.stop()
    }
}
