import Foundation
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing
import TollgateIPC
import TollgateTestKit

#if canImport(Glibc)
    import Glibc
#endif

/// Runs an IPC server on a fresh Unix socket for the duration of `body`, then shuts it down
/// gracefully and waits for it.
func withIPCServer<T: Sendable>(
    router: IPCRouter = makeTestRouter(), maxFrameBytes: Int = 1 << 20,
    _ body: @Sendable (_ path: String, _ server: IPCServer, _ trigger: GracefulShutdownTestTrigger) async throws -> T
) async throws -> T {
    let dir = TestNetwork.temporaryDirectory(prefix: "ipc")
    let path = dir + "/s.sock"
    let server = IPCServer(
        name: "test", target: .unix(path: path), router: router, maxFrameBytes: maxFrameBytes,
        logger: Logger(label: "ipc-test"))
    return try await testGracefulShutdown { trigger in
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            _ = try await server.listening()
            let result = try await body(path, server, trigger)
            trigger.triggerGracefulShutdown()
            try await group.waitForAll()
            return result
        }
    }
}

@Suite(.timeLimit(.minutes(2))) struct IPCServerTests: Sendable {
    let golden = try! GoldenFrames()
    let logger = Logger(label: "ipc-client")

    @Test func helloHealthStatsOverTheSocket() async throws {
        try await withIPCServer { path, _, _ in
            let client = IPCClient(path: path, logger: logger)
            let hello = try await client.hello(service: "tollgate", instance: "t1")
            #expect(hello.version == 1 && hello.service == "bot-gateway")
            #expect(try await client.call(Health()).ready)
            #expect(try await client.call(Stats()).instance == "test")
            await client.close()
        }
    }

    @Test func manyConcurrentConnectionsEachPipelining() async throws {
        try await withIPCServer { path, server, _ in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        let client = IPCClient(path: path, logger: logger)
                        let ok = try await withThrowingTaskGroup(of: Bool.self) { inner in
                            // Correctness, not speed: a generous timeout for a loaded machine.
                            for _ in 0..<50 { inner.addTask { try await client.call(Health(), timeout: .seconds(60)).ready } }
                            return try await inner.reduce(0) { $0 + ($1 ? 1 : 0) }
                        }
                        await client.close()
                        return ok
                    }
                }
                let total = try await group.reduce(0, +)
                #expect(total == 5000)
            }
            #expect(server.counters.connectionsAccepted.load(ordering: .relaxed) == 100)
            #expect(server.counters.requests.load(ordering: .relaxed) == 5000)
        }
    }

    @Test func repliesOutOfOrderReachTheirCallers() async throws {
        var router = IPCRouter()
        router.register(Hello.self) { hello, _ in
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...30)))
            return Hello.Reply(version: 1, versions: [1], service: "bot-gateway", instance: hello.instance, startedAtMs: 0, maxFrameBytes: 1)
        }
        try await withIPCServer(router: router) { path, _, _ in
            let client = IPCClient(path: path, logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<500 {
                    group.addTask {
                        let reply = try await client.call(Hello(service: "t", instance: "caller-\(i)"))
                        #expect(reply.instance == "caller-\(i)")
                    }
                }
                try await group.waitForAll()
            }
            await client.close()
        }
    }

    @Test func badFramesGetErrorsAndTheConnectionStaysUsable() async throws {
        let golden = self.golden
        try await withIPCServer { path, _, _ in
            try await offPool {
                let socket = try RawUnixSocket(path: path)
                for entry in golden.badFrames where entry.expect?.closes == false {
                    #expect(socket.write(try golden.frame(entry.name)))
                    let reply = try #require(socket.readFrame(), "\(entry.name): no reply")
                    let decoded = try IPCCoding.decode(IPCErrorEnvelope.self, from: reply)
                    #expect(decoded.error.code.rawValue == entry.expect?.error, "\(entry.name)")
                }
                socket.write(try golden.frame("health.request"))
                let ok = try #require(socket.readFrame())
                #expect(try IPCCoding.decode(IPCOkEnvelope<Health.Reply>.self, from: ok).body.ready)
            }
        }
    }

    @Test func oversizedFrameIsAnsweredThenThatConnectionClosed() async throws {
        let golden = self.golden
        try await withIPCServer(maxFrameBytes: 4096) { path, server, _ in
            let other = IPCClient(path: path, logger: logger)
            _ = try await other.call(Health())
            try await offPool {
                let socket = try RawUnixSocket(path: path)
                socket.write(try golden.frame("bad.oversized-header"))
                let reply = try #require(socket.readFrame())
                let decoded = try IPCCoding.decode(IPCErrorEnvelope.self, from: reply)
                #expect(decoded.error.code == .frameTooLarge && decoded.id == nil)
                #expect(socket.isClosedByPeer(timeout: .seconds(5)))
                // A frame just over the configured limit is refused too, before its body arrives.
                let second = try RawUnixSocket(path: path)
                second.write([0, 0, 0x10, 0x01])
                #expect(try IPCCoding.decode(IPCErrorEnvelope.self, from: #require(second.readFrame())).error.code == .frameTooLarge)
            }
            // Everyone else is still served.
            #expect(try await other.call(Health()).ready)
            #expect(server.counters.oversizedFrames.load(ordering: .relaxed) == 2)
            await other.close()
        }
    }

    @Test func partialWritesAreReassembled() async throws {
        let golden = self.golden
        try await withIPCServer { path, _, _ in
            try await offPool {
                let socket = try RawUnixSocket(path: path)
                for byte in try golden.frame("hello.request") {
                    socket.write([byte])
                    usleep(200)
                }
                let reply = try #require(socket.readFrame())
                #expect(try IPCCoding.decode(IPCOkEnvelope<Hello.Reply>.self, from: reply).body.version == 1)
            }
        }
    }

    @Test func garbageAndTruncatedConnectionsDoNotDisturbOthers() async throws {
        let golden = self.golden
        try await withIPCServer { path, _, _ in
            let client = IPCClient(path: path, logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // A wedged server never answers; a busy machine (the whole suite at once) may
                    // take longer than the default 10 s for one call.
                    for _ in 0..<1000 {
                        let health = try await client.call(Health(), timeout: .seconds(60))
                        #expect(health.ready)
                    }
                }
                group.addTask {
                    try await offPool {
                        var rng = SystemRandomNumberGenerator()
                        for i in 0..<60 {
                            let socket = try RawUnixSocket(path: path)
                            if i % 3 == 0 {
                                socket.write(try golden.frame("bad.truncated"))
                            } else {
                                let n = Int.random(in: 1...2000, using: &rng)
                                socket.write((0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) })
                            }
                            socket.shutdownWrite()
                        }
                    }
                }
                try await group.waitForAll()
            }
            await client.close()
        }
    }

    @Test func clientTimeoutThenRecovery() async throws {
        var router = makeTestRouter()
        router.register(Stats.self) { _, _ in
            try await Task.sleep(for: .seconds(2))
            return Stats.Reply(Stats.Snapshot(service: "bot-gateway", instance: "slow", uptimeS: 0))
        }
        try await withIPCServer(router: router) { path, _, _ in
            let client = IPCClient(path: path, logger: logger)
            await #expect(throws: IPCError.self) { try await client.call(Stats(), timeout: .milliseconds(200)) }
            do {
                _ = try await client.call(Stats(), timeout: .milliseconds(200))
            } catch let error as IPCError {
                #expect(error.code == .timeout)
            }
            #expect(try await client.call(Health()).ready)
            await client.close()
        }
    }

    @Test func connectFailedWithoutServer() async throws {
        let client = IPCClient(path: TestNetwork.temporaryDirectory() + "/none.sock", logger: logger)
        do {
            _ = try await client.call(Health())
            Issue.record("expected connect_failed")
        } catch {
            #expect(error.code == .connectFailed)
            #expect(error.code.isRetryable)
        }
    }

    @Test func gracefulShutdownAnswersRequestsInFlight() async throws {
        let (started, startedSignal) = AsyncStream<Void>.makeStream()
        var router = makeTestRouter()
        router.register(Stats.self) { _, _ in
            startedSignal.yield()
            try await Task.sleep(for: .milliseconds(500))
            return Stats.Reply(Stats.Snapshot(service: "bot-gateway", instance: "drained", uptimeS: 0))
        }
        let dir = TestNetwork.temporaryDirectory(prefix: "ipc")
        let path = dir + "/s.sock"
        let server = IPCServer(name: "t", target: .unix(path: path), router: router, logger: Logger(label: "t"))
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                _ = try await server.listening()
                let client = IPCClient(path: path, logger: logger)
                _ = try await client.call(Health())
                async let slow = client.call(Stats(), timeout: .seconds(5))
                // Shut down only once the server is really working on the request.
                for await _ in started { break }
                trigger.triggerGracefulShutdown()
                // A request arriving while the connection drains is refused, not dropped.
                do {
                    _ = try await client.call(Health(), timeout: .seconds(5))
                    Issue.record("a request during the drain must be refused")
                } catch let error as IPCError {
                    #expect(error.code == .shuttingDown || error.code == .connectionClosed, "\(error)")
                }
                #expect(try await slow.instance == "drained")
                try await group.waitForAll()
                // The socket file we created is gone; nobody can connect any more.
                #expect(access(path, F_OK) != 0)
                await client.close()
            }
        }
    }
}
