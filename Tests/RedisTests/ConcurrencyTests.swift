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
    @Test func blockingCallsRunOffTheCooperativePool() async throws {
        let server = try TestRedis.server()
        let clients = (0..<8).map { TestRedis.client(server, name: "blocker-\($0)") }
        for client in clients { try await client.ping() }  // connect first: time only the blocking part
        let ticker = Ticker()
        let (results, elapsed) = try await measure {
            try await withThrowingTaskGroup(of: RedisValue.self) { group in
                group.addTask {
                    // A plain task that must keep running while eight threads block in BLPOP.
                    while !ticker.done.load(ordering: .relaxed) {
                        ticker.ticks.add(1, ordering: .relaxed)
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    return .null
                }
                for (index, client) in clients.enumerated() {
                    group.addTask { try await client.send(timeout: .seconds(1), "BLPOP", RedisArgument("q\(index)"), 1) }
                }
                var values: [RedisValue] = []
                for _ in 0..<8 {
                    guard let value = try await group.next() else { break }
                    values.append(value)
                }
                ticker.done.store(true, ordering: .relaxed)
                try await group.waitForAll()
                return values
            }
        }
        print("8 concurrent 1 s BLPOPs: \(elapsed), ticker ran \(ticker.ticks.load(ordering: .relaxed)) times")
        #expect(results.count == 8)
        #expect(results.allSatisfy { $0 == .null })
        // Serialized on a 2-thread pool this would take ≥ 4 s; run in parallel it takes about 1 s.
        #expect(elapsed < .seconds(3))
        #expect(ticker.ticks.load(ordering: .relaxed) >= 10)
        for client in clients { await client.close() }
    }

    @Test func poolHandsOutClientsRoundRobinAndRunsThemInParallel() async throws {
        let server = try TestRedis.server()
        let pool = RedisClientPool(url: TestRedis.url(server), name: "pool", size: 3, logger: LogRecorder().logger)
        let picked = (0..<6).map { _ in pool.next().name }
        #expect(picked == ["pool-0", "pool-1", "pool-2", "pool-0", "pool-1", "pool-2"])
        let (_, elapsed) = try await measure {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<3 {
                    let client = pool.next()
                    group.addTask { try await client.send(timeout: .seconds(1), "BLPOP", RedisArgument("p\(index)"), 1) }
                }
                try await group.waitForAll()
            }
        }
        #expect(elapsed < .seconds(2.5))
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
