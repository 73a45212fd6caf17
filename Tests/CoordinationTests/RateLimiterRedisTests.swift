import Synchronization
import Foundation
import Logging
import Testing
import TollgateCore
import TollgateRedis
import TollgateTestKit

@testable import TollgateCoordination

/// The Redis limiter against a real redis-server: the script's arithmetic on the server clock,
/// blocks shared by every client, cancellation, and three real processes sharing one limit.
@Suite(.serialized) struct RateLimiterRedisTests {
    let server: RedisServer
    let logger = Logger(label: "ratelimit-test") { _ in SwiftLogNoOpLogHandler() }

    init() throws {
        server = try RedisServer()
    }

    func client(_ name: String) throws -> RedisClient {
        RedisClient(url: try RedisURL(server.url), name: name, logger: logger)
    }

    func limiter(_ name: String, prefix: String = "t") throws -> RedisRateLimiter {
        RedisRateLimiter(client: try client(name), keys: KeySpace(prefix: prefix), logger: logger)
    }

    @Test func concurrentTasksInTwoLimitersKeepTheSpacingOnTheServerClock() async throws {
        let a = try limiter("a")
        let b = try limiter("b")
        let resource = RateLimitedResource(name: "spacing", policy: RateLimitPolicy(emissionInterval: .milliseconds(50)))
        let times = try await withThrowingTaskGroup(of: Int64.self) { group in
            for i in 0..<24 {
                let l = i.isMultiple(of: 2) ? a : b
                group.addTask { try await l.acquire(resource).grantedAtMicros }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let sorted = times.sorted()
        #expect(sorted.count == 24)
        for (x, y) in zip(sorted, sorted.dropFirst()) { #expect(y - x >= 50_000) }
        // The key expires by itself once it no longer restricts anything.
        // (-2: already gone, if this test was paused for a second; -1 would be a key kept forever.)
        let ttl = try await client("ttl").send("PTTL", RedisArgument(a.key(for: resource))).int ?? -1
        #expect(ttl == -2 || (ttl > 0 && ttl <= 2_000))
    }

    /// Per-chat resources come and go with the users: a process that served 2,000 chats keeps no
    /// per-chat state once nobody waits (a turnstile lives only while someone uses it), also when
    /// waiters were cancelled.
    @Test func perResourceStateDoesNotAccumulate() async throws {
        let l = try limiter("many")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for chat in 0..<2000 {
                let resource = RateLimitedResource(name: "chat:\(chat)", policy: RateLimitPolicy(emissionInterval: .seconds(1)))
                group.addTask { _ = try await l.acquire(resource) }
            }
            try await group.waitForAll()
        }
        #expect(l.liveTurnstiles == 0)
        // Waiters on one busy resource, some cancelled: state is released too.
        let busy = RateLimitedResource(name: "busy", policy: RateLimitPolicy(emissionInterval: .milliseconds(200)))
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<10 {
                group.addTask {
                    if i.isMultiple(of: 2) {
                        _ = try? await l.acquire(busy)
                    } else {
                        let waiter = Task { _ = try? await l.acquire(busy) }
                        try? await Task.sleep(for: .milliseconds(50))
                        waiter.cancel()
                        _ = await waiter.value
                    }
                }
            }
        }
        #expect(l.liveTurnstiles == 0)
    }

    @Test func pushBackHoldsEveryProcessUntilTheBlockEnds() async throws {
        let a = try limiter("a")
        let b = try limiter("b")
        let resource = RateLimitedResource(name: "blocked", policy: RateLimitPolicy(emissionInterval: .milliseconds(10)))
        let before = try await a.acquire(resource)
        try await a.pushBack(resource, by: .milliseconds(800))
        let pushedAt = ContinuousClock.now
        // A shorter push never shortens it. (What is left of the block, plus the time since it was
        // set — a loaded machine may take a while between the calls — is still the whole block,
        // less a round trip.)
        try await b.pushBack(resource, by: .milliseconds(10))
        let wait = try await b.currentWait(resource)
        #expect(wait + (ContinuousClock.now - pushedAt) > .milliseconds(700), "\(wait)")
        let grant = try await b.acquire(resource)
        #expect(grant.wasBlocked)
        #expect(grant.grantedAtMicros - before.grantedAtMicros >= 800_000)
        let next = try await a.acquire(resource)
        #expect(next.grantedAtMicros - grant.grantedAtMicros >= 10_000)
    }

    @Test func cancellingAWaiterTakesNoSlotAndFreesTheTurn() async throws {
        let l = try limiter("c")
        let resource = RateLimitedResource(name: "cancel", policy: RateLimitPolicy(emissionInterval: .seconds(20)))
        let first = try await l.acquire(resource)
        let waiting = Task { try await l.acquire(resource) }
        let queued = Task { try await l.acquire(resource) }
        try await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        queued.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        await #expect(throws: CancellationError.self) { try await queued.value }
        // Nothing was taken: the next slot (the stored theoretical arrival time, on the server's
        // clock) is still the one 20 s after the first grant, not 40 or 60 s.
        let tat = try await client("tat").send("HGET", RedisArgument(l.key(for: resource)), "tat").string
        #expect(tat == String(first.grantedAtMicros + 20_000_000))
        let wait = try await l.currentWait(resource)
        #expect(wait > .zero && wait <= .seconds(20))
    }

    @Test func failsClosedWhenRedisIsUnreachable() async throws {
        let dead = RedisClient(
            url: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: TestNetwork.freePort())), name: "dead", logger: logger)
        let l = RedisRateLimiter(client: dead, keys: KeySpace(prefix: "t"), logger: logger)
        let resource = RateLimitedResource(name: "x", policy: .perWindow(5))
        await #expect(throws: RedisError.self) { try await l.acquire(resource) }
    }

    /// Issue 3's bar: three real processes share 5/s; merged on the Redis clock, no 1 s window
    /// (sliding, half-open) ever holds more than 5 grants, and all three processes got slots.
    @Test func threeProcessesNeverExceedTheRateInAnyOneSecondWindow() async throws {
        let probe = try TestBinaries.path(of: "tollgate-ratelimit-probe")
        let directory = TestNetwork.temporaryDirectory(prefix: "rl")
        let perProcess = 12
        let processes = try (0..<3).map { index in
            try ChildProcess(
                probe, [server.url, "t", "nocodb-demo", "200000", "1", "\(perProcess)"],
                output: "\(directory)/probe-\(index).log")
        }
        let statuses = await offPool { processes.map { $0.wait(timeout: .seconds(60)) } }
        var all: [Int64] = []
        for (index, status) in statuses.enumerated() {
            #expect(status.flatMap(ChildProcess.exitCode) == 0, "probe \(index) did not finish cleanly")
            let text = (try? String(contentsOfFile: "\(directory)/probe-\(index).log", encoding: .utf8)) ?? ""
            let grants = text.split(separator: "\n").filter { $0.hasPrefix("grant ") }.compactMap {
                Int64($0.split(separator: " ")[1])
            }
            #expect(grants.count == perProcess, "probe \(index): \(text.suffix(300))")
            all += grants
        }
        #expect(all.count == 3 * perProcess)
        #expect(RateLimiterGCRATests.maxInWindow(all, window: 1_000_000) <= 5)
        let sorted = all.sorted()
        for (x, y) in zip(sorted, sorted.dropFirst()) { #expect(y - x >= 200_000) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("On the server: a request with a reserve leaves the room it keeps to a request without one, in any process")
    func aReserveLeavesRoomForTheOthers() async throws {
        let bulk = try limiter("bulk", prefix: "reserve")
        let reply = try limiter("reply", prefix: "reserve")
        // One slot per 2 s, burst 2: the second reserved request waits seconds, the reply none.
        let resource = RateLimitedResource(name: "bot", policy: RateLimitPolicy(emissionInterval: .seconds(2), burst: 2))
        try await bulk.acquire(resource, reserving: .seconds(2))
        #expect(try await reply.currentWait(resource) == .zero)
        let order = Mutex<[String]>([])
        let second = Task {
            try await bulk.acquire(resource, reserving: .seconds(2))
            order.withLock { $0.append("bulk") }
        }
        try await reply.acquire(resource)
        order.withLock { $0.append("reply") }
        try await second.value
        #expect(order.withLock { $0 } == ["reply", "bulk"])
    }
}
