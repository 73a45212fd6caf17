import Foundation
import Testing
import TollgateCoordination
import TollgateNocoDB
import TollgateSimulators

/// Limits, 429 blocks, 5xx, slow replies: against the simulator's cloud limiter.
@Suite struct NocoDBResilienceTests {
    /// Three clients (three HTTP clients, three Redis connections: three processes' worth) issue
    /// 36 requests at once; the simulator never sees more than 5 in any 1 s window and answers none 429.
    ///
    /// The spacing is widened to 400 ms (2.5/s): alone, each client would stay under 5/s, together
    /// without sharing they would send 7.5/s. The default 25 % margin absorbs 250 ms of arrival
    /// jitter, and this test runs beside every other suite on a 2-core machine, where a task resumed
    /// after its grant can wait longer than that for a thread (CI once measured 6 in a sliding second).
    @Test func threeClientsTogetherStayUnderTheCloudLimit() async throws {
        try await withSimulator { h in
            _ = try h.simulator.insert(table: "users", rows: [["TelegramId": "1"]])
            let clients = try (0..<3).map { _ in try h.client(configure: { $0.rate = .perWindow(5, margin: 1.0) }) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<36 {
                    let client = clients[i % 3]
                    group.addTask { _ = try await client.count() }
                }
                try await group.waitForAll()
            }
            let stats = h.simulator.stats()
            // 36, or more only where a client timed out and retried (it counts every retry).
            let retries = clients.map(\.counters.retries).reduce(0, +)
            #expect(stats.requests == 36 + retries)
            #expect(stats.throttled == 0)
            #expect(stats.maxPerFixedWindow <= 5)
            #expect(stats.maxPerSlidingWindow <= 5)
        }
    }

    /// A forced 429 blocks the token for the configured block even though Retry-After says 1 s; no
    /// client (of two sharing the limiter) sends during the block; then both recover.
    @Test func aForced429HoldsEveryClientForTheBlockThenRecovers() async throws {
        try await withSimulator({ $0.blockDuration = .seconds(3) }) { h in
            let a = try h.client(configure: { $0.throttleBlock = .seconds(3) })
            let b = try h.client(configure: { $0.throttleBlock = .seconds(3) })
            _ = try await a.count()
            h.simulator.inject(.throttle(count: 1))
            let clock = ContinuousClock()
            let start = clock.now
            async let first = a.count()
            // b starts once a has had its 429 (the block is shared before the 429 is counted).
            while a.counters.throttled == 0 { try await Task.sleep(for: .milliseconds(10)) }
            async let second = b.count()
            _ = try await (first, second)
            let elapsed = clock.now - start
            let stats = h.simulator.stats()
            #expect(stats.throttled == 1)
            #expect(stats.throttledDuringBlock == 0)
            #expect(stats.ok == 3)
            #expect(elapsed >= .seconds(3))
            #expect(a.counters.throttled == 1)
            #expect(b.counters.throttled == 0)
            #expect(h.simulator.blockedUntil(token: testToken) == nil)
        }
    }

    /// Going over the real limit (a client with its limiter set too fast): the 429's Retry-After
    /// names only the rest of the window, yet the client waits for the whole, longer block.
    @Test func overTheLimitTheWholeBlockIsHonouredNotJustRetryAfter() async throws {
        // 2 requests per 4 s window, then a 6 s block: a 3rd request within a window is refused
        // unless each request takes more than 2 s, however loaded the machine is.
        try await withSimulator({
            $0.rateLimit = 2
            $0.rateWindow = .seconds(4)
            $0.blockDuration = .seconds(6)
        }) { h in
            let reckless = try h.client(configure: {
                $0.rate = RateLimitPolicy(emissionInterval: .milliseconds(10))
                $0.throttleBlock = .seconds(6)
                $0.maxThrottledAttempts = 10
            })
            // One request at a time (a request already on the wire when the 429 comes back would
            // land in the block whatever the client does), until one was refused, then two more.
            var sent = 0
            while h.simulator.stats().throttled == 0 && sent < 40 {
                _ = try await reckless.count()
                sent += 1
            }
            for _ in 0..<2 { _ = try await reckless.count() }
            let stats = h.simulator.stats()
            #expect(stats.throttled >= 1)
            #expect(stats.throttledDuringBlock == 0)
            #expect(stats.ok == sent + 2)
            #expect(reckless.counters.throttled == stats.throttled)
        }
    }

    @Test func serverErrorsAreRetriedWithBackoff() async throws {
        try await withSimulator { h in
            let client = try h.client()
            _ = try h.simulator.insert(table: "users", rows: [["TelegramId": "1"]])
            h.simulator.inject(.status(500, count: 2))
            h.simulator.inject(.status(502, count: 1))
            let count = try await client.count()
            #expect(count == 1)
            #expect(client.counters.serverErrors == 3)
            #expect(client.counters.retries == 3)
            h.simulator.inject(.status(500, count: 10))
            do throws(NocoDBError) {
                _ = try await client.count()
                Issue.record("five 500s in a row must fail")
            } catch {
                #expect(error.code == .serverError)
                #expect(error.isRetryable)
            }
        }
    }

    @Test func slowRepliesTimeOutAndAreRetried() async throws {
        try await withSimulator { h in
            // A reply held for 60 s against a 3 s timeout: the first attempt surely times out, and
            // the retry (a normal reply) has 3 s, plenty even on a loaded machine.
            let client = try h.client(configure: { $0.timeout = .seconds(3) })
            _ = try h.simulator.insert(table: "users", rows: [["TelegramId": "1"]])
            h.simulator.inject(.delay(.seconds(60), count: 1))
            let row = try await client.get(id: 1)
            #expect(row?.id == 1)
            #expect(client.counters.transportErrors == 1)
        }
    }

    @Test func anAmbiguousCreateIsNotRepeatedButA503Is() async throws {
        try await withSimulator { h in
            let client = try h.client()
            h.simulator.inject(.status(500, count: 1))
            do throws(NocoDBError) {
                _ = try await client.create(NocoDBRecord(["TelegramId": "1"]))
                Issue.record("a 500 on create must not be retried")
            } catch {
                #expect(error.code == .ambiguous)
            }
            h.simulator.inject(.status(503, count: 1))
            let id = try await client.create(NocoDBRecord(["TelegramId": "2"]))
            #expect(id == 1)
            // findOrCreate rides over a 500 on its lookup (a read: retried).
            h.simulator.inject(.status(500, count: 1))
            let result = try await client.findOrCreate(telegramID: "3", defaults: ["Paid": false])
            #expect(result.created)
            #expect(h.simulator.rowCount(table: "users") == 2)
        }
    }

    @Test func cancellationStopsAWaitingRequest() async throws {
        try await withSimulator({ $0.blockDuration = .seconds(30) }) { h in
            let client = try h.client()
            try await client.limiter.pushBack(client.resource, by: .seconds(30))
            let task = Task { try await client.count() }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            do {
                _ = try await task.value
                Issue.record("expected cancellation")
            } catch let error as NocoDBError {
                #expect(error.code == .cancelled)
            }
            #expect(h.simulator.stats().requests == 0)
        }
    }
}
