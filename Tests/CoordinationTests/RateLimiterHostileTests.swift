import Logging
import Synchronization
import Testing
import TollgateCore
import TollgateRedis
import TollgateTestKit

@testable import TollgateCoordination

/// The limiter's state is outside data: a peer's absurd `Retry-After`, or a block stored by any
/// process or version, must never trap a process nor outlive the policy's longest block.
@Suite(.serialized) struct RateLimiterHostileTests {
    let server: RedisServer
    let logger = Logger(label: "ratelimit-hostile") { _ in SwiftLogNoOpLogHandler() }

    init() throws {
        server = try RedisServer()
    }

    func client(_ name: String) throws -> RedisClient {
        RedisClient(url: try RedisURL(server.url), name: name, logger: logger)
    }

    func limiter(_ name: String) throws -> RedisRateLimiter {
        RedisRateLimiter(client: try client(name), keys: KeySpace(prefix: "h"), logger: logger)
    }

    func stored(_ key: String) async throws -> (blocked: Int64, pttl: Int64) {
        let c = try client("inspect")
        let blocked = Int64(try await c.send("HGET", RedisArgument(key), "blocked").string ?? "") ?? -1
        let pttl = try await c.send("PTTL", RedisArgument(key)).int ?? -3
        return (blocked, pttl)
    }

    /// The Redis server's clock in µs.
    func serverMicros() async throws -> Int64 {
        let time = try await client("clock").send("TIME").array ?? []
        return (time.first?.string.flatMap { Int64($0) } ?? 0) * 1_000_000 + (time.last?.string.flatMap { Int64($0) } ?? 0)
    }

    @Test func anAbsurdPushBackIsCutToTheLongestBlock() async throws {
        let l = try limiter("push")
        let resource = RateLimitedResource(
            name: "nocodb:x", policy: RateLimitPolicy(emissionInterval: .milliseconds(250), maxBlock: .seconds(300)))
        let before = try await serverMicros()
        try await l.pushBack(resource, by: .seconds(Int64.max))
        let after = try await serverMicros()
        let s = try await stored(l.key(for: resource))
        // 300 s from the moment of the push, which lies between the two readings of the clock.
        #expect(s.blocked >= before + 300_000_000)
        #expect(s.blocked <= after + 300_000_000)
        #expect(s.pttl > 0 && s.pttl <= 302_000)
        let wait = try await l.currentWait(resource)
        #expect(wait <= .seconds(300))
        #expect(wait >= .seconds(200))
    }

    /// A block stored far in the future (year 9999, 1e19 µs) — by hand, an older version, another
    /// service — restricts for no longer than the policy's longest block once read.
    @Test(arguments: ["253402300799000000", "1e19", "inf", "junk"])
    func aStoredBlockNeverOutlivesTheClamp(_ value: String) async throws {
        let l = try limiter("stored-\(value)")
        let resource = RateLimitedResource(
            name: "stored:\(value)", policy: RateLimitPolicy(emissionInterval: .milliseconds(100), maxBlock: .seconds(2)))
        let c = try client("writer")
        _ = try await c.send("HSET", RedisArgument(l.key(for: resource)), "blocked", RedisArgument(value), "tat", RedisArgument(value))
        let wait = try await l.currentWait(resource)
        #expect(wait <= .seconds(2))
        // And a request goes through once that clamp has passed (not after the stored year 9999).
        let started = ContinuousClock.now
        let grant = try await l.acquire(resource)
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(grant.grantedAtMicros > 0)
    }

    @Test func aLongBlockIsWaitedInSlicesThatReportProgress() async throws {
        let l = try limiter("slices")
        let resource = RateLimitedResource(
            name: "slices", policy: RateLimitPolicy(emissionInterval: .milliseconds(100), maxBlock: .seconds(10)))
        try await l.pushBack(resource, by: .milliseconds(2600))
        let beats = Atomic<Int>(0)
        try await SlicedSleep.withProgress({ beats.add(1, ordering: .relaxed) }) {
            _ = try await l.acquire(resource)
        }
        #expect(beats.load(ordering: .relaxed) >= 1)
    }

    @Test func localLimiterCutsBlocksToo() async throws {
        let clock = Atomic<Int64>(1_000)
        let l = LocalRateLimiter(now: { clock.load(ordering: .relaxed) })
        let resource = RateLimitedResource(
            name: "local", policy: RateLimitPolicy(emissionInterval: .milliseconds(1), maxBlock: .seconds(5)))
        try await l.pushBack(resource, by: .seconds(Int64.max))
        let wait = try await l.currentWait(resource)
        #expect(wait <= .seconds(5))
        #expect(wait >= .seconds(4))
    }

    @Test func policiesFromAnyNumbersNeverTrap() {
        let p = RateLimitPolicy(emissionInterval: .zero, burst: Int.max, maxBlock: .seconds(Int64.max))
        #expect(p.emissionMicros >= 1)
        #expect(p.toleranceMicros > 0)
        #expect(p.maxBlock == .seconds(86400))
        let w = RateLimitPolicy.perWindow(0, window: .zero, margin: .nan)
        #expect(w.emissionMicros >= 1)
    }
}
