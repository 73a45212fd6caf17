import Testing
import TollgateCoordination

@Suite struct LeaderLockMachineTests {
    let timing = LeaderLockMachine.Timing(ttl: .seconds(10))
    let term = LeaderTerm(holder: "p1", token: 7)

    @Test func defaultsFollowTheTTL() {
        #expect(timing.renewEvery == .seconds(10) / 3)
        #expect(timing.safetyMargin == .seconds(1))
        #expect(timing.maxFollowerWait == .seconds(1))
    }

    @Test func followerTriesAtOnceThenWhenTheHoldersLockWouldExpire() {
        var m = LeaderLockMachine(timing: timing, now: .zero)
        #expect(m.nextAction(now: .zero) == .acquire)
        m.held(remaining: .milliseconds(400), now: .zero, jitter: .milliseconds(20))
        #expect(m.nextAction(now: .milliseconds(100)) == .wait(until: .milliseconds(420)))
        #expect(m.nextAction(now: .milliseconds(420)) == .acquire)
        m.held(remaining: .seconds(9), now: .seconds(1), jitter: .zero)
        #expect(m.nextAction(now: .seconds(1)) == .wait(until: .seconds(2)))  // capped at maxFollowerWait
        #expect(m.term(at: .seconds(1)) == nil)
    }

    @Test func proofIsMeasuredFromTheSendTimeWithMarginAndDrift() {
        var m = LeaderLockMachine(timing: timing, now: .zero)
        _ = m.nextAction(now: .zero)
        m.acquired(term: term, value: "7 n p1", lifetime: .seconds(10), sentAt: .milliseconds(100))
        // valid until 0.1 + 10 * 0.99 - 1 = 9.0 s
        #expect(m.term(at: .milliseconds(8999)) == term)
        #expect(m.term(at: .seconds(9)) == nil)
        #expect(m.nextAction(now: .seconds(1)) == .wait(until: .milliseconds(100) + .seconds(10) / 3))
        #expect(m.nextAction(now: .milliseconds(3500)) == .renew(value: "7 n p1"))
        m.renewed(sentAt: .milliseconds(3500))
        #expect(m.term(at: .milliseconds(12_399)) == term)
        #expect(m.term(at: .milliseconds(12_400)) == nil)
    }

    @Test func renewalFailuresInTransportKeepTheProofOnlyUntilItRunsOut() {
        var m = LeaderLockMachine(timing: timing, now: .zero)
        m.acquired(term: term, value: "v", lifetime: .seconds(10), sentAt: .zero)
        #expect(m.nextAction(now: .seconds(4)) == .renew(value: "v"))
        m.attemptFailed(now: .seconds(4))
        #expect(m.term(at: .seconds(4)) == term)
        #expect(m.nextAction(now: .seconds(4)) == .wait(until: .seconds(5)))
        m.attemptFailed(now: .seconds(8))
        // The proof (8.9 s) runs out before the next renewal try: leadership ends then.
        #expect(m.nextAction(now: .milliseconds(8900)) == .acquire)
        #expect(m.term(at: .milliseconds(8900)) == nil)
        #expect(m.heldValue == nil)
    }

    @Test func refusedRenewalEndsLeadershipAtOnce() {
        var m = LeaderLockMachine(timing: timing, now: .zero)
        m.acquired(term: term, value: "v", lifetime: .seconds(10), sentAt: .zero)
        m.lost(now: .seconds(4))
        #expect(m.term(at: .seconds(4)) == nil)
        #expect(m.nextAction(now: .seconds(4)) == .acquire)
    }

    @Test func aFrozenLeaderWakesUpAsAFollower() {
        var m = LeaderLockMachine(timing: timing, now: .zero)
        m.acquired(term: term, value: "v", lifetime: .seconds(10), sentAt: .zero)
        #expect(m.nextAction(now: .seconds(1)) == .wait(until: .seconds(10) / 3))
        // SIGSTOP for 30 s: the first look at the clock after waking shows no proof.
        #expect(m.term(at: .seconds(31)) == nil)
        #expect(m.nextAction(now: .seconds(31)) == .acquire)
    }
}
