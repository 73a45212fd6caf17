import Testing

@testable import TollgateCoordination

/// The pure GCRA state machine, driven by a simulated clock (microseconds).
@Suite struct RateLimiterGCRATests {
    let fivePerSecond = RateLimitPolicy(emissionInterval: .milliseconds(200))

    /// Drives `requests` attempts at the given times; each denied attempt retries exactly when told.
    /// Returns the grant times.
    func grants(_ policy: RateLimitPolicy, arrivals: [Int64], state: RateLimitGCRA.State = .init()) -> [Int64] {
        var gcra = RateLimitGCRA(policy: policy, state: state)
        var result: [Int64] = []
        for arrival in arrivals {
            var now = arrival
            while case .denied(let wait) = gcra.request(at: now) {
                #expect(wait > 0)
                now += wait
            }
            result.append(now)
        }
        return result
    }

    /// The most grants in any half-open window [t, t + window).
    static func maxInWindow(_ times: [Int64], window: Int64) -> Int {
        let sorted = times.sorted()
        var best = 0
        var start = 0
        for end in sorted.indices {
            while sorted[end] - sorted[start] >= window { start += 1 }
            best = max(best, end - start + 1)
        }
        return best
    }

    @Test("A request with a reserve goes only while that much of the burst stays unused; one without takes what it leaves")
    func aReserveLeavesRoomForTheOthers() {
        var gcra = RateLimitGCRA(policy: RateLimitPolicy(emissionInterval: .milliseconds(100), burst: 2))
        let slot: Int64 = 100_000
        #expect(gcra.request(at: 1_000_000, reserving: slot) == .allowed)
        // A second with the reserve would leave nothing: it waits a slot.
        #expect(gcra.request(at: 1_000_000, reserving: slot) == .denied(waitMicros: slot))
        // One without a reserve takes the room left, at once; then nobody goes before the spacing.
        #expect(gcra.request(at: 1_000_000) == .allowed)
        #expect(gcra.request(at: 1_000_000) == .denied(waitMicros: slot))
        #expect(gcra.request(at: 1_000_000, reserving: slot) == .denied(waitMicros: 2 * slot))
        // A reserve larger than the burst counts as the whole burst; a negative one as none.
        #expect(gcra.request(at: 1_300_000, reserving: 10 * slot) == .allowed)
        #expect(gcra.request(at: 1_300_000, reserving: -5) == .allowed)
    }

    @Test func strictSpacingPassesOnePerInterval() {
        let times = grants(fivePerSecond, arrivals: Array(repeating: 1_000_000, count: 20))
        #expect(times.first == 1_000_000)
        for (a, b) in zip(times, times.dropFirst()) { #expect(b - a == 200_000) }
        #expect(Self.maxInWindow(times, window: 1_000_000) == 5)
    }

    @Test func aQuietResourceLetsARequestGoAtOnce() {
        var gcra = RateLimitGCRA(policy: fivePerSecond)
        #expect(gcra.request(at: 10_000_000) == .allowed)
        #expect(gcra.request(at: 10_050_000) == .denied(waitMicros: 150_000))
        #expect(gcra.request(at: 20_000_000) == .allowed)
    }

    @Test func burstAllowsThatManyBackToBackThenSpaces() {
        let policy = RateLimitPolicy(emissionInterval: .milliseconds(200), burst: 3)
        let times = grants(policy, arrivals: Array(repeating: 5_000_000, count: 6))
        #expect(Array(times.prefix(3)) == [5_000_000, 5_000_000, 5_000_000])
        #expect(Array(times.suffix(3)) == [5_200_000, 5_400_000, 5_600_000])
    }

    @Test func blockHoldsEveryRequestThenResumesWithoutBurst() {
        let policy = RateLimitPolicy(emissionInterval: .milliseconds(200), burst: 3)
        var gcra = RateLimitGCRA(policy: policy)
        gcra.block(at: 1_000_000, forMicros: 30_000_000)
        #expect(gcra.request(at: 1_000_000) == .denied(waitMicros: 30_000_000))
        #expect(gcra.request(at: 30_999_999) == .denied(waitMicros: 1))
        let after = grants(policy, arrivals: Array(repeating: 31_000_000, count: 4), state: gcra.state)
        #expect(after == [31_000_000, 31_200_000, 31_400_000, 31_600_000])
    }

    @Test func aShorterBlockNeverShortensALongerOne() {
        var gcra = RateLimitGCRA(policy: fivePerSecond)
        gcra.block(at: 0, forMicros: 30_000_000)
        gcra.block(at: 1_000_000, forMicros: 2_000_000)
        #expect(gcra.state.blockedUntil == 30_000_000)
        #expect(gcra.request(at: 29_000_000) == .denied(waitMicros: 1_000_000))
    }

    /// NocoDB counts arrivals in fixed calendar seconds. With the default 10 % margin, grants
    /// delayed on their way by up to 100 ms of jitter still never put a sixth request in any
    /// 1 s window, fixed or sliding; without the margin they can.
    @Test func marginAbsorbsArrivalJitterAgainstAFixedWindow() {
        let policy = RateLimitPolicy.perWindow(5, window: .seconds(1), margin: 0.1)
        #expect(policy.emissionMicros == 220_000)
        let times = grants(policy, arrivals: Array(repeating: 0, count: 200))
        var rng = SplitMix(seed: 7)
        for _ in 0..<200 {
            let arrivals = times.map { $0 + Int64(rng.next() % 100_001) }
            #expect(Self.maxInWindow(arrivals, window: 1_000_000) <= 5)
            let fixed = Dictionary(grouping: arrivals) { $0 / 1_000_000 }.values.map(\.count).max() ?? 0
            #expect(fixed <= 5)
        }
        // The same jitter against exact 200 ms spacing: a sixth arrival lands in some window.
        let tight = grants(.perWindow(5, margin: 0), arrivals: Array(repeating: 0, count: 200))
        var worst = 0
        for _ in 0..<50 {
            worst = max(worst, Self.maxInWindow(tight.map { $0 + Int64(rng.next() % 100_001) }, window: 1_000_000))
        }
        #expect(worst == 6)
    }

    @Test func policyDescriptionsAndUnits() {
        #expect(RateLimitPolicy.perWindow(5, margin: 0).emissionMicros == 200_000)
        #expect(RateLimitPolicy.perWindow(5).emissionMicros == 250_000)
        #expect(RateLimitPolicy.perWindow(30, window: .seconds(1), margin: 0).ratePerSecond.rounded() == 30)
        #expect(RateLimitPolicy(emissionInterval: .milliseconds(200), burst: 4).toleranceMicros == 600_000)
        #expect(RateLimitedResource.fingerprint("123456:TEST-token").count == 16)
        #expect(RateLimitedResource.fingerprint("a") != RateLimitedResource.fingerprint("b"))
        #expect(!RateLimitedResource.fingerprint("123456:TEST-token").contains("TEST"))
    }

    @Test func localLimiterRunsTheSameMachineOnItsClock() async throws {
        let limiter = LocalRateLimiter()
        let resource = RateLimitedResource(name: "local", policy: RateLimitPolicy(emissionInterval: .milliseconds(20)))
        var times: [Int64] = []
        for _ in 0..<5 { times.append(try await limiter.acquire(resource).grantedAtMicros) }
        for (a, b) in zip(times, times.dropFirst()) { #expect(b - a >= 20_000) }
        try await limiter.pushBack(resource, by: .milliseconds(300))
        let wait = try await limiter.currentWait(resource)
        #expect(wait > .milliseconds(200))
        let grant = try await limiter.acquire(resource)
        #expect(grant.wasBlocked)
    }
}

/// A small deterministic generator for jitter.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
