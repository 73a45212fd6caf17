import Testing

#if canImport(Glibc)
    import Glibc
#endif
import TollgateTestKit

@testable import TollgateRedis

@Suite struct PubSubTests {
    /// Publishes until one subscriber received it (PUBLISH returns the number of receivers), so a
    /// test never races the SUBSCRIBE and exactly one copy is delivered.
    static func publishUntilDelivered(
        _ publisher: RedisClient, channel: String, payload: [UInt8], timeout: Duration = .seconds(15)
    ) async -> Bool {
        let result = await TestRedis.eventually(timeout: timeout) { () async throws(RedisError) in
            let receivers = try await publisher.send("PUBLISH", RedisArgument(channel), RedisArgument(payload)).int
            guard receivers == 1 else { throw RedisError(.unavailable, "no subscriber yet") }
        }
        return result.isSuccess
    }

    @Test func messagesArriveAndResumeAfterAServerRestart() async throws {
        let server = try TestRedis.server()
        let logs = LogRecorder()
        let subscriber = RedisSubscriber(
            url: TestRedis.url(server), name: "sub", pollInterval: .milliseconds(100), logger: logs.logger)
        let publisher = TestRedis.client(server, name: "pub")
        let stream = subscriber.subscribe(channels: ["wake", "other", "wake"])
        let collector = EventCollector()
        async let consumed: Void = { for await event in stream { collector.append(event) } }()

        let binary: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF, 0x24]
        #expect(await Self.publishUntilDelivered(publisher, channel: "wake", payload: binary))
        #expect(await Self.publishUntilDelivered(publisher, channel: "other", payload: Array("second".utf8)))
        #expect(await collector.wait(timeout: .seconds(5)) { $0.count == 2 })
        #expect(collector.all == [.message(channel: "wake", payload: binary), .message(channel: "other", payload: Array("second".utf8))])

        try server.restart()
        #expect(await collector.wait(timeout: .seconds(10)) { $0.contains(.reconnected) })
        #expect(await Self.publishUntilDelivered(publisher, channel: "wake", payload: Array("after".utf8)))
        #expect(await collector.wait(timeout: .seconds(5)) { $0.count == 4 })
        #expect(collector.all.suffix(2) == [.reconnected, .message(channel: "wake", payload: Array("after".utf8))])
        #expect(collector.reconnects == 1)

        await subscriber.close()
        await consumed  // the stream ended
        #expect(logs.count(level: .warning, containing: "redis connection lost") == 1)
        await publisher.close()
    }

    @Test func subscriberRidesOutAnOutageWithBackoff() async throws {
        let server = try TestRedis.server()
        let subscriber = RedisSubscriber(
            url: TestRedis.url(server), name: "sub", pollInterval: .milliseconds(100), logger: LogRecorder().logger)
        let publisher = TestRedis.client(server, name: "pub")
        let collector = EventCollector()
        let stream = subscriber.subscribe(channels: ["jobs"])
        async let consumed: Void = { for await event in stream { collector.append(event) } }()
        #expect(await Self.publishUntilDelivered(publisher, channel: "jobs", payload: [1]))

        server.kill9()
        try await Task.sleep(for: .seconds(1))
        try server.start()
        #expect(await collector.wait(timeout: .seconds(12)) { $0.contains(.reconnected) })
        #expect(await Self.publishUntilDelivered(publisher, channel: "jobs", payload: [2]))
        #expect(await collector.wait(timeout: .seconds(5)) { $0.count == 3 })
        #expect(collector.payloads == [[1], [2]])
        #expect(collector.reconnects == 1)
        await subscriber.close()
        await consumed
        await publisher.close()
    }

    @Test func healthCheckKeepsAnIdleSubscriptionAndDetectsAFrozenServer() async throws {
        let server = try TestRedis.server()
        let pid = try #require(server.pid)
        let logs = LogRecorder()
        let subscriber = RedisSubscriber(
            url: TestRedis.url(server), name: "sub", pollInterval: .milliseconds(50),
            healthCheckInterval: .milliseconds(300), logger: logs.logger)
        let publisher = TestRedis.client(server, name: "pub")
        let collector = EventCollector()
        let stream = subscriber.subscribe(channels: ["beat"])
        async let consumed: Void = { for await event in stream { collector.append(event) } }()
        #expect(await Self.publishUntilDelivered(publisher, channel: "beat", payload: [1]))

        // Idle for several health-check intervals: PINGs are answered, the subscription stays.
        try await Task.sleep(for: .milliseconds(1200))
        #expect(collector.reconnects == 0)
        #expect(logs.count(level: .warning, containing: "redis connection lost") == 0)

        // A frozen server (SIGSTOP: the socket stays open, nothing answers) is detected by the PING.
        kill(pid, SIGSTOP)
        let detected = await TestRedis.eventually(timeout: .seconds(5)) { () async throws(RedisError) in
            guard logs.count(level: .warning, containing: "no reply to PING") == 1 else {
                throw RedisError(.unavailable, "not yet")
            }
        }
        kill(pid, SIGCONT)
        #expect(detected.isSuccess)
        #expect(await collector.wait(timeout: .seconds(12)) { $0.contains(.reconnected) })
        // Connections abandoned while the server was frozen are still queued on it; when it thaws
        // it may briefly count them as subscribers. Wait until only the live one is left.
        let settled = await TestRedis.eventually(timeout: .seconds(5)) { () async throws(RedisError) in
            let counts = try await publisher.send("PUBSUB", "NUMSUB", "beat").array
            guard counts?.last == .integer(1) else { throw RedisError(.unavailable, "stale subscribers") }
        }
        #expect(settled.isSuccess)
        #expect(await Self.publishUntilDelivered(publisher, channel: "beat", payload: [2]))
        #expect(await collector.wait(timeout: .seconds(5)) { $0.count == 3 })
        #expect(collector.payloads == [[1], [2]])
        await subscriber.close()
        await consumed
        await publisher.close()
    }

    @Test func consumerThatStopsIteratingUnsubscribes() async throws {
        let server = try TestRedis.server()
        let subscriber = RedisSubscriber(
            url: TestRedis.url(server), name: "sub", pollInterval: .milliseconds(50), logger: LogRecorder().logger)
        let publisher = TestRedis.client(server, name: "pub")
        // The stream lives only inside the child task: returning drops it (and its iterator).
        async let first: RedisSubscriber.Event? = {
            for await event in subscriber.subscribe(channels: ["once"]) { return event }
            return nil
        }()
        #expect(await Self.publishUntilDelivered(publisher, channel: "once", payload: [7]))
        #expect(await first == .message(channel: "once", payload: [7]))
        // The iterator is gone: the session stops and its connection closes.
        let gone = await TestRedis.eventually(timeout: .seconds(5)) { () async throws(RedisError) in
            let counts = try await publisher.send("PUBSUB", "NUMSUB", "once").array
            guard counts?.last == .integer(0) else { throw RedisError(.unavailable, "still subscribed") }
        }
        #expect(gone.isSuccess)
        await subscriber.close()
        await publisher.close()
    }

    @Test func closedSubscriberGivesEmptyStreams() async throws {
        let server = try TestRedis.server()
        let subscriber = RedisSubscriber(url: TestRedis.url(server), name: "sub", logger: LogRecorder().logger)
        await subscriber.close()
        var count = 0
        for await _ in subscriber.subscribe(channels: ["x"]) { count += 1 }
        for await _ in subscriber.subscribe(channels: []) { count += 1 }
        #expect(count == 0)
    }
}
