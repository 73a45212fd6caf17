import Logging
import Synchronization
import Testing
import TollgateCoordination
import TollgateCore
import TollgateRedis
import TollgateTestKit

struct LockFixture {
    let server: RedisServer
    let keys = KeySpace(prefix: "t")
    let logger: Logger = {
        var l = Logger(label: "coordination-tests")
        l.logLevel = .critical
        return l
    }()

    init() throws {
        var attempt = 0
        var started: RedisServer?
        while started == nil {
            attempt += 1
            do {
                started = try RedisServer()
            } catch RedisServer.Failure.didNotStart(let log) where attempt < 3 && log.contains("Address already in use") {
                continue
            }
        }
        server = started!
    }

    func client(_ name: String) -> RedisClient {
        RedisClient(url: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port)), name: name, logger: logger)
    }
}

@Suite struct LeaderLockTests {
    @Test func setNXCompareAndRenewCompareAndReleaseAndMonotonicTokens() async throws {
        let fx = try LockFixture()
        let a = LeaderLock(client: fx.client("a"), keys: fx.keys, name: "poller", holder: "poller@1")
        let b = LeaderLock(client: fx.client("b"), keys: fx.keys, name: "poller", holder: "poller@2")
        let first = try await a.acquire(ttl: .seconds(60))
        #expect(first.acquired && first.term?.holder == "poller@1")
        let refused = try await b.acquire(ttl: .seconds(5))
        #expect(!refused.acquired && refused.term == first.term)
        // The refusal reports the holder's remaining TTL (the holder's 60 s, not the asker's 5 s).
        #expect(refused.remaining! > .seconds(5) && refused.remaining! <= .seconds(60))
        // Another instance's value can neither renew nor release.
        #expect(try await !b.renew(value: "\(first.term!.token) x poller@2", ttl: .seconds(5)))
        #expect(try await !b.release(value: refused.value! + "x"))
        #expect(try await a.renew(value: first.value!, ttl: .seconds(5)))
        // Asking again finds the lock already ours (a lost reply to a successful acquire).
        let mine = try await a.acquire(ttl: .seconds(5))
        #expect(mine.acquired && mine.term == first.term)
        #expect(try await a.release(value: first.value!))
        #expect(try await !a.renew(value: first.value!, ttl: .seconds(5)))
        let second = try await b.acquire(ttl: .milliseconds(300))
        #expect(second.acquired && second.term!.token > first.term!.token)
        try await Task.sleep(for: .milliseconds(500))
        // Expired (PX): free again, and the token keeps growing.
        let third = try await a.acquire(ttl: .seconds(5))
        #expect(third.acquired && third.term!.token > second.term!.token)
        #expect(try await a.current() == third.term)
        // A restarted process with the same name is another holder (different nonce).
        let restarted = LeaderLock(client: fx.client("a2"), keys: fx.keys, name: "poller", holder: "poller@1")
        #expect(try await !restarted.acquire(ttl: .seconds(5)).acquired)
        await a.client.close()
        await b.client.close()
        await restarted.client.close()
    }

    @Test func exactlyOneOfManyContendersWins() async throws {
        let fx = try LockFixture()
        let locks = (0..<8).map { LeaderLock(client: fx.client("c\($0)"), keys: fx.keys, name: "x", holder: "p\($0)") }
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for lock in locks { group.addTask { try await lock.acquire(ttl: .seconds(5)).acquired } }
            var n = 0
            for try await won in group where won { n += 1 }
            return n
        }
        #expect(wins == 1)
        for lock in locks { await lock.client.close() }
    }
}

@Suite struct LeaderElectionTests {
    /// Runs `election` until the returned task is cancelled.
    func run(_ election: LeaderElection) -> Task<Void, Never> {
        Task { try? await election.run() }
    }

    @Test func oneLeadsAndLosingTheLockStopsLeaderWorkAtOnce() async throws {
        let fx = try LockFixture()
        let timing = LeaderLockMachine.Timing(ttl: .seconds(2))
        let elections = (1...2).map { i in
            LeaderElection(
                lock: LeaderLock(client: fx.client("e\(i)"), keys: fx.keys, name: "poller", holder: "poller@\(i)"),
                timing: timing, logger: fx.logger)
        }
        let tasks = elections.map(run)
        // Bounded at 60 s: the whole suite starting at once on two cores can hold off the first
        // acquire (or make a 2 s term lapse) for seconds; the leaders are read in the same pass
        // that saw one, so a term lost between two reads cannot leave the list empty.
        let deadline = ContinuousClock.now + .seconds(60)
        func leading() -> [(election: LeaderElection, term: LeaderTerm)] {
            elections.compactMap { election in election.currentTerm.map { (election, $0) } }
        }
        var leaders = leading()
        while leaders.isEmpty && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            leaders = leading()
        }
        #expect(leaders.count == 1)
        let (leader, term) = try #require(leaders.first)

        // Leader work runs under whileLeading and is cancelled when the lock is lost.
        let started = Atomic<Int>(0)
        let cancelled = Atomic<Int>(0)
        let work = Task {
            await leader.whileLeading { _ in
                started.add(1, ordering: .relaxed)
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
                cancelled.add(1, ordering: .relaxed)
            }
        }
        while started.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(10)) }

        // Someone overwrites the lock (an operator, a split brain): the next renewal is refused.
        // (Counted from here: a test runner paused longer than the proof lasts loses a term by itself.)
        let lostBefore = leader.snapshot.termsLost
        let cancelledBefore = cancelled.load(ordering: .relaxed)
        let admin = fx.client("admin")
        try await admin.send("SET", RedisArgument(fx.keys("leader", "poller")), "999 other intruder", "PX", "60000")
        let lostBy = ContinuousClock.now + .seconds(60)
        while leader.currentTerm != nil && ContinuousClock.now < lostBy { try await Task.sleep(for: .milliseconds(20)) }
        #expect(leader.currentTerm == nil)
        while cancelled.load(ordering: .relaxed) == cancelledBefore && ContinuousClock.now < lostBy + .seconds(1) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(cancelled.load(ordering: .relaxed) == cancelledBefore + 1)
        #expect(elections.allSatisfy { $0.currentTerm == nil })
        #expect(leader.snapshot.termsLost == lostBefore + 1)

        // The intruder's lock lapses... after we delete it: someone leads again, with a newer token.
        try await admin.send("DEL", RedisArgument(fx.keys("leader", "poller")))
        let again = ContinuousClock.now + .seconds(60)
        while elections.allSatisfy({ $0.currentTerm == nil }) && ContinuousClock.now < again {
            try await Task.sleep(for: .milliseconds(20))
        }
        let next = try #require(elections.compactMap(\.currentTerm).first)
        #expect(next.token > term.token)
        work.cancel()
        await work.value
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        await admin.close()
    }

    @Test func waitForChangeReturnsOnCancellation() async throws {
        let fx = try LockFixture()
        let election = LeaderElection(
            lock: LeaderLock(client: fx.client("w"), keys: fx.keys, name: "poller", holder: "w"), logger: fx.logger)
        let waiter = Task { await election.waitForChange(from: nil) }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await waiter.value
    }
}

@Suite struct LeaderProofDeadlineTests {
    /// Redis freezes (SIGSTOP): the renewal never answers, yet leader work must stop once the
    /// proof runs out — not when the hung call finally fails.
    @Test func leaderWorkStopsAtTheProofDeadlineWhileRedisHangs() async throws {
        let fx = try LockFixture()
        let client = RedisClient(
            url: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: fx.server.port)), name: "slow", commandTimeout: .seconds(60),
            logger: fx.logger)
        let election = LeaderElection(
            lock: LeaderLock(client: client, keys: fx.keys, name: "poller", holder: "poller@1"),
            timing: LeaderLockMachine.Timing(ttl: .seconds(2)), logger: fx.logger)
        let electionTask = Task { try? await election.run() }
        while election.currentTerm == nil { try await Task.sleep(for: .milliseconds(20)) }

        let started = Atomic<Int>(0)
        let cancelled = Atomic<Int>(0)
        let work = Task {
            await election.whileLeading { _ in
                started.add(1, ordering: .relaxed)
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
                cancelled.add(1, ordering: .relaxed)
            }
        }
        while started.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(10)) }

        let pid = try #require(fx.server.pid)
        while election.currentTerm == nil || started.load(ordering: .relaxed) == cancelled.load(ordering: .relaxed) {
            try await Task.sleep(for: .milliseconds(10))
        }
        // Counted from here: a test runner paused longer than the proof lasts loses a term by itself.
        let lostBefore = election.snapshot.termsLost
        let cancelledBefore = cancelled.load(ordering: .relaxed)
        kill(pid, SIGSTOP)
        // The renewal hangs for up to 60 s (the command timeout); the proof lasts < 2 s.
        while cancelled.load(ordering: .relaxed) == cancelledBefore { try await Task.sleep(for: .milliseconds(20)) }
        #expect(election.currentTerm == nil)
        #expect(election.snapshot.termsLost == lostBefore + 1)
        // Still frozen: the stop came from the deadline, not from an answer.
        let state = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8).split(separator: " ")[2]
        #expect(state == "T", "redis-server should still be stopped, state \(state)")
        kill(pid, SIGCONT)
        work.cancel()
        electionTask.cancel()
        _ = await work.value
        await client.close()
    }
}

#if canImport(Glibc)
    import Glibc
#endif
