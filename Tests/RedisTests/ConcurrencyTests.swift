import Synchronization
import Testing
import TollgateTestKit

@testable import TollgateRedis

/// Shared between the test and its ticker task.
private final class Ticker: Sendable {
    let ticks = Atomic<Int>(0)
    let done = Atomic<Bool>(false)
}

@Suite struct ConcurrencyTests {
    /// Counts the connections the server sees blocked in BLPOP right now.
    static func blockedInBLPOP(_ observer: RedisClient) async throws -> Int {
        let list = try await observer.send("CLIENT", "LIST").string ?? ""
        return list.split(separator: "\n").filter { $0.contains("cmd=blpop") }.count
    }

    /// Waits until `count` clients are blocked at once; returns false after 10 s.
    static func waitForBlocked(_ count: Int, observer: RedisClient) async throws -> Bool {
        for _ in 0..<1000 {
            if try await blockedInBLPOP(observer) >= count { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test func blockingCallsRunOffTheCooperativePool() async throws {
        let server = try TestRedis.server()
        let clients = (0..<8).map { TestRedis.client(server, name: "blocker-\($0)") }
        let observer = TestRedis.client(server, name: "observer")
        for client in clients { try await client.ping() }
        let ticker = Ticker()
        let results = try await withThrowingTaskGroup(of: RedisValue.self) { group in
            for (index, client) in clients.enumerated() {
                group.addTask { try await client.send(timeout: .seconds(30), "BLPOP", RedisArgument("q\(index)"), 20) }
            }
            // Proof of parallelism that does not depend on timing: the server sees all eight
            // connections blocked at the same moment, which is impossible if the blocking calls
            // shared the two threads of the cooperative pool...
            #expect(try await Self.waitForBlocked(8, observer: observer))
            // ...and meanwhile plain tasks still run.
            for _ in 0..<5 {
                ticker.ticks.add(1, ordering: .relaxed)
                try await Task.sleep(for: .milliseconds(5))
            }
            for index in 0..<8 { _ = try await observer.send("LPUSH", RedisArgument("q\(index)"), "v") }
            var values: [RedisValue] = []
            for try await value in group { values.append(value) }
            return values
        }
        #expect(results.count == 8)
        #expect(results.allSatisfy { $0.array?.last == .bulk(Array("v".utf8)) })
        #expect(ticker.ticks.load(ordering: .relaxed) == 5)
        for client in clients { await client.close() }
        await observer.close()
    }

    @Test func poolHandsOutClientsRoundRobinAndRunsThemInParallel() async throws {
        let server = try TestRedis.server()
        let pool = RedisClientPool(url: TestRedis.url(server), name: "pool", size: 3, logger: LogRecorder().logger)
        let observer = TestRedis.client(server, name: "observer")
        let picked = (0..<6).map { _ in pool.next().name }
        #expect(picked == ["pool-0", "pool-1", "pool-2", "pool-0", "pool-1", "pool-2"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<3 {
                let client = pool.next()
                group.addTask { _ = try await client.send(timeout: .seconds(30), "BLPOP", RedisArgument("p\(index)"), 20) }
            }
            // All three pool members block at once: they do not share one connection or thread.
            #expect(try await Self.waitForBlocked(3, observer: observer))
            for index in 0..<3 { _ = try await observer.send("LPUSH", RedisArgument("p\(index)"), "v") }
            try await group.waitForAll()
        }
        await observer.close()
        #expect(try await pool.next().send("PING") == .simpleString("PONG"))
        await pool.close()
        do {
            try await pool.next().ping()
            Issue.record("a closed pool's clients must refuse calls")
        } catch {
            #expect(error.code == .closed)
        }
    }

    @Test func manyTasksShareOneClientSafely() async throws {
        let server = try TestRedis.server()
        let client = TestRedis.client(server)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    for _ in 0..<20 { try await client.send("INCR", "shared") }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await client.send("GET", "shared").int == 1_000)
        await client.close()
    }

    @Test func closeWhileCallsAreQueuedNeitherHangsNorCrashes() async throws {
        let server = try TestRedis.server()
        let client = TestRedis.client(server)
        try await client.ping()
        let outcomes = await withTaskGroup(of: RedisError.Code?.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    let outcome = await capture { () async throws(RedisError) in
                        try await client.send(timeout: .milliseconds(100), "BLPOP", "nothing", 0.1)
                    }
                    if case .failure(let error) = outcome { return error.code }
                    return nil
                }
            }
            group.addTask {
                await client.close()
                return nil
            }
            var codes: [RedisError.Code?] = []
            for await code in group { codes.append(code) }
            return codes
        }
        #expect(outcomes.count == 21)
        #expect(outcomes.allSatisfy { $0 == nil || $0 == RedisError.Code.closed })
    }
}
