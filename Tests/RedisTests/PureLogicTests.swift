import Testing
import TollgateCore

@testable import TollgateRedis

@Suite struct SHA1Tests {
    @Test(arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ("The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
    ])
    func knownVectors(_ input: String, _ digest: String) {
        #expect(SHA1.hexDigest(of: Array(input.utf8)) == digest)
    }

    @Test func lengthsAroundTheBlockBoundary() {
        // 55, 56 and 64 bytes exercise the one- and two-block padding paths; one million 'a' the long one.
        #expect(SHA1.hexDigest(of: [UInt8](repeating: 0x61, count: 1_000_000)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        let lengths = [55, 56, 63, 64, 65]
        let digests = Set(lengths.map { SHA1.hexDigest(of: [UInt8](repeating: 0x61, count: $0)) })
        #expect(digests.count == lengths.count)
    }

    @Test func scriptCarriesItsDigest() {
        let script = RedisScript(name: "one", source: "return 1")
        #expect(script.sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    }
}

@Suite struct RedisValueTests {
    @Test func conveniences() {
        #expect(RedisValue.bulk(Array("42".utf8)).int == 42)
        #expect(RedisValue.simpleString("OK").string == "OK")
        #expect(RedisValue.integer(-7).int == -7)
        #expect(RedisValue.integer(7).string == nil)
        #expect(RedisValue.bulk([0xFF, 0xFE]).string == nil)
        #expect(RedisValue.bulk([0xFF, 0xFE]).bytes == [0xFF, 0xFE])
        #expect(RedisValue.bulk(Array("x".utf8)).int == nil)
        #expect(RedisValue.null.isNull)
        #expect(RedisValue.array([.null]).array == [.null])
        #expect(RedisValue.error("ERR no").errorMessage == "ERR no")
    }

    @Test func argumentsKeepExactBytes() {
        #expect(RedisArgument("é").bytes == [0xC3, 0xA9])
        #expect(RedisArgument(-12).bytes == Array("-12".utf8))
        #expect(RedisArgument(Int64.max).bytes == Array("9223372036854775807".utf8))
        #expect(RedisArgument(1.5).bytes == Array("1.5".utf8))
        #expect(RedisArgument(-Double.infinity).bytes == Array("-inf".utf8))
        let literal: RedisArgument = 7
        #expect(literal.bytes == Array("7".utf8))
    }

    @Test func serverErrorsKnowTheirPrefixAndRetryability() {
        let wrongType = RedisError(.serverError, "WRONGTYPE Operation against a key holding the wrong kind of value")
        #expect(wrongType.serverErrorPrefix == "WRONGTYPE")
        #expect(!wrongType.isRetryable)
        #expect(RedisError(.serverError, "LOADING Redis is loading the dataset in memory").isRetryable)
        #expect(RedisError(.unavailable, "x").isRetryable)
        #expect(!RedisError(.closed, "x").isRetryable)
    }
}

@Suite struct ReconnectGateTests {
    let start = ContinuousClock.now
    let failure = RedisError(.connectionFailed, "connect to h:1 failed: Connection refused")

    @Test func firstConnectIsReportedOnce() {
        var gate = ReconnectGate()
        #expect(gate.decide(now: start) == .attempt)
        #expect(gate.connected(now: start) == .up(downFor: nil))
        #expect(gate.connected(now: start) == nil)
    }

    @Test func failedAttemptsBackOffExponentiallyUpToTheCap() {
        var gate = ReconnectGate(base: .milliseconds(100), cap: .seconds(5))
        var rng = SystemRandomNumberGenerator()
        var now = start
        var ceilings: [Duration] = []
        for attempt in 0..<10 {
            let event = gate.connectFailed(failure, now: now, using: &rng)
            guard case .wait(let remaining, _) = gate.decide(now: now) else {
                Issue.record("attempt \(attempt) was not followed by a wait")
                return
            }
            switch event {
            case .down(_, let retryIn?) where attempt == 0: #expect(retryIn == remaining)
            case .stillDown(_, let retryIn) where attempt > 0: #expect(retryIn == remaining)
            default: Issue.record("unexpected event \(event) at attempt \(attempt)")
            }
            let ceiling = min(Duration.milliseconds(100) * (1 << attempt), .seconds(5))
            let slack = Duration.microseconds(1)  // Backoff computes in Double seconds
            #expect(remaining <= ceiling + slack && remaining >= ceiling / 2 - slack)  // equal jitter
            ceilings.append(ceiling)
            // Calls before the due time fail fast; at the due time an attempt is allowed again.
            #expect(gate.decide(now: now + remaining / 2) != .attempt)
            now = now + remaining
            #expect(gate.decide(now: now) == .attempt)
        }
        #expect(ceilings.last == .seconds(5))
    }

    @Test func successResetsTheBackoff() {
        var gate = ReconnectGate()
        var now = start
        for _ in 0..<6 {
            _ = gate.connectFailed(failure, now: now)
            now = now + .seconds(10)
        }
        #expect(gate.connected(now: now) == .up(downFor: .seconds(60)))
        _ = gate.connectionLost(failure, now: now)
        #expect(gate.decide(now: now) == .attempt)  // a lost connection is retried at once
        _ = gate.connectFailed(failure, now: now)
        guard case .wait(let remaining, _) = gate.decide(now: now) else {
            Issue.record("expected a wait")
            return
        }
        #expect(remaining <= .milliseconds(100) + .microseconds(1))
    }

    @Test func lostThenFailingReportsOneTransition() {
        var gate = ReconnectGate()
        _ = gate.connected(now: start)
        let lost = RedisError(.connectionLost, "closed")
        #expect(gate.connectionLost(lost, now: start) == .down(lost, retryIn: nil))
        #expect(gate.connectionLost(lost, now: start) == nil)
        if case .down = gate.connectFailed(failure, now: start) { Issue.record("reported the same outage twice") }
        #expect(gate.connected(now: start + .seconds(2)) == .up(downFor: .seconds(2)))
    }
}
