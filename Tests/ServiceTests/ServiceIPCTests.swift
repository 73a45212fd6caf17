import Foundation
import Testing
import TollgateHTTP
import TollgateIPC
import TollgateTestKit

/// Both real service binaries against the golden frames, malformed input, many connections, and
/// the ops HTTP endpoints.
@Suite(.timeLimit(.minutes(3))) struct ServiceIPCTests {
    /// Starts `name` against a fresh Redis and runs `body` with it.
    func withService(
        _ name: String, _ body: @Sendable (ServiceProcess, RedisServer) async throws -> Void
    ) async throws {
        let redis = try RedisServer()
        let dir = TestNetwork.temporaryDirectory(prefix: "svc")
        let service = try ServiceProcess(
            name, environment: ServiceProcess.environment(redisURL: redis.url, directory: dir), logPath: dir + "/service.log")
        try await service.waitUntilReady()
        try await body(service, redis)
        let status = await service.stop()
        #expect(status.flatMap(ChildProcess.exitCode) == 0, "\(service.log().suffix(1500))")
        #expect(!service.log().contains("TEST-token-not-real"), "a secret reached the log")
    }

    @Test(arguments: services) func goldenRequestsGetSchemaValidReplies(_ name: String) async throws {
        let golden = try GoldenFrames()
        let validator = try JSONSchemaValidator(directory: golden.schemasDirectory)
        try await withService(name) { service, _ in
            let path = service.socketPath
            try await offPool {
                let socket = try RawUnixSocket(path: path)
                for type in ["hello", "health", "stats"] {
                    socket.write(try golden.frame("\(type).request"))
                    let reply = try #require(socket.readFrame(), "\(type): no reply")
                    let json = try IPCCoding.decode(JSONValue.self, from: reply)
                    #expect(validator.validate(json, against: "\(type).reply.json").isEmpty, "\(type): \(json)")
                    #expect(json["body"]?["service"] == .string(name) || type == "health")
                }
            }
        }
    }

    @Test(arguments: services) func malformedInputGetsTypedErrorsAndOthersAreServed(_ name: String) async throws {
        let golden = try GoldenFrames()
        try await withService(name) { service, _ in
            let path = service.socketPath
            let bystander = IPCClient(path: path, logger: quietLogger)
            _ = try await bystander.call(Health())
            try await offPool {
                let socket = try RawUnixSocket(path: path)
                for entry in golden.badFrames where entry.expect?.closes == false {
                    socket.write(try golden.frame(entry.name))
                    let reply = try #require(socket.readFrame(), "\(entry.name): no reply")
                    #expect(try IPCCoding.decode(IPCErrorEnvelope.self, from: reply).error.code.rawValue == entry.expect?.error, "\(entry.name)")
                }
                // An oversized frame is answered, then only that connection is closed.
                socket.write(try golden.frame("bad.oversized-header"))
                let reply = try #require(socket.readFrame())
                #expect(try IPCCoding.decode(IPCErrorEnvelope.self, from: reply).error.code == .frameTooLarge)
                #expect(socket.isClosedByPeer(timeout: .seconds(5)))
                // Random bytes and truncated frames on other connections.
                var rng = SystemRandomNumberGenerator()
                for _ in 0..<20 {
                    let garbage = try RawUnixSocket(path: path)
                    garbage.write((0..<Int.random(in: 1...500, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
                    garbage.shutdownWrite()
                }
                let truncated = try RawUnixSocket(path: path)
                truncated.write(try golden.frame("bad.truncated"))
            }
            let health = try await bystander.call(Health())
            #expect(health.ready)
            await bystander.close()
        }
    }

    @Test(arguments: services) func manyConcurrentConnections(_ name: String) async throws {
        try await withService(name) { service, _ in
            let path = service.socketPath
            let ok = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        let client = IPCClient(path: path, logger: quietLogger)
                        var n = 0
                        for _ in 0..<20 {
                            let health = try await client.call(Health())
                            if health.ready { n += 1 }
                        }
                        await client.close()
                        return n
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(ok == 2000)
            let client = IPCClient(path: path, logger: quietLogger)
            let stats = try await client.call(Stats())
            #expect((stats.counters["ipc_connections_accepted_total"] ?? 0) >= 100)
            await client.close()
        }
    }

    @Test(arguments: services) func opsEndpointsAndRedisOutage(_ name: String) async throws {
        try await withService(name) { service, redis in
            let address = try await httpAddress(of: service.socketPath)
            let http = HTTPClient(name: "ops", logger: quietLogger)
            defer { http.shutdown() }
            let base = "http://\(address)"
            #expect(try await httpGet(http, base + "/health").status == 200)
            #expect(try await httpGet(http, base + "/ready").status == 200)
            let metrics = try await httpGet(http, base + "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.text.contains("# TYPE tollgate_ipc_requests_total counter"))
            #expect(metrics.text.contains("tollgate_redis_up{service=\"\(name)\""))
            let stats = try await httpGet(http, base + "/stats").decode(Stats.Reply.self)
            #expect(stats.service == name)
            #expect(try await httpGet(http, base + "/nope").status == 404)

            // Redis goes away: still live, no longer ready; back when Redis is.
            redis.stop()
            #expect(try await eventually { try await httpGet(http, base + "/ready").status == 503 })
            #expect(try await httpGet(http, base + "/health").status == 200)
            try redis.start()
            #expect(try await eventually { try await httpGet(http, base + "/ready").status == 200 })
        }
    }
}

/// Polls `condition` every 100 ms for up to `timeout`.
func eventually(timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}
