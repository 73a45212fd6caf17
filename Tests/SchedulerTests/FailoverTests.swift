import Testing
import TollgateCoordination
import TollgateTestKit

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized) struct FailoverTests {
    static func index(of term: LeaderTerm) -> Int {
        Int(term.holder.split(separator: "@").last.map(String.init) ?? "") ?? -1
    }

    @Test func anotherInstanceLeadsWithinTheTTLAfterKill9AndAfterSIGSTOP() async throws {
        let cluster = try await PollerCluster(environment: ["LEADER_LOCK_TTL": "2s"])
        for i in 1...3 { try await cluster.start(i) }
        let elected = await eventually(timeout: .seconds(10)) { (try? await cluster.leader()) != nil }
        #expect(elected)
        let first = try #require(try await cluster.leader())
        let firstIndex = Self.index(of: first)
        let firstStats = try await cluster.stats(firstIndex)
        #expect(firstStats.info["role"] == "leader")
        let other = (1...3).first { $0 != firstIndex }!
        let otherStats = try await cluster.stats(other)
        #expect(otherStats.info["role"] == "follower")
        #expect(otherStats.info["leader"] == "\(first.holder)#\(first.token)")
        #expect(otherStats.instances?.count == 3)

        // kill -9: the lock lapses after its TTL and another instance takes it, with a newer token.
        await cluster.kill9(firstIndex)
        let killedAt = ContinuousClock.now
        let tookOver = await eventually(timeout: .seconds(8)) {
            if let now = try? await cluster.leader(), now.holder != first.holder { return true }
            return false
        }
        #expect(tookOver, "\(cluster.logs())")
        let failover = ContinuousClock.now - killedAt
        let second = try #require(try await cluster.leader())
        #expect(second.token > first.token)
        #expect(failover < .seconds(6))  // TTL 2 s; generous for a loaded machine

        // SIGSTOP: the frozen leader's lock lapses; another takes over; once thawed, the old one
        // knows at once that it no longer leads.
        let secondIndex = Self.index(of: second)
        let frozen = try #require(cluster.pollers[secondIndex])
        frozen.process.signal(SIGSTOP)
        let thawedOver = await eventually(timeout: .seconds(8)) {
            if let now = try? await cluster.leader(), now.holder != second.holder { return true }
            return false
        }
        #expect(thawedOver, "\(cluster.logs())")
        let third = try #require(try await cluster.leader())
        #expect(third.token > second.token)
        frozen.process.signal(SIGCONT)
        let demoted = await eventually(timeout: .seconds(5)) {
            (try? await cluster.stats(secondIndex))?.info["role"] == "follower"
        }
        #expect(demoted)
        let thirdStats = try await cluster.stats(Self.index(of: third))
        #expect(thirdStats.info["role"] == "leader")
        #expect(try await cluster.leader() == third)
        await cluster.stopAll()
    }

    @Test func gracefulStopHandsLeadershipOverAtOnce() async throws {
        let cluster = try await PollerCluster(environment: ["LEADER_LOCK_TTL": "30s"])
        for i in 1...2 { try await cluster.start(i) }
        _ = await eventually(timeout: .seconds(10)) { (try? await cluster.leader()) != nil }
        let first = try #require(try await cluster.leader())
        let index = Self.index(of: first)
        await cluster.pollers[index]?.stop()
        // Released on SIGTERM: the follower takes over long before the 30 s TTL.
        let tookOver = await eventually(timeout: .seconds(12)) {
            if let now = try? await cluster.leader(), now.holder != first.holder { return true }
            return false
        }
        #expect(tookOver, "\(cluster.logs())")
        await cluster.stopAll()
    }
}
