import Testing
import TollgateCore
import TollgateJobs
import TollgateTestKit

/// The scheduler's own chaos: 3 poller instances, 10,000 jobs due over about 20 s, instances
/// kill -9ed and restarted at random. At the end every job was acknowledged or is dead-lettered
/// with its reason, Redis holds no pending or leased job, and the fencing held: a job went out
/// again only under a newer epoch, after its lease lapsed. The stand-in gateway is here for what
/// only it can record (each delivery's epoch and arrival); whether a user sees each message once
/// is proven with the real bot-gateway and the Telegram simulator in `RealGatewayChaosTests`.
@Suite(.serialized) struct ChaosTests {
    @Test func killNineAtRandomLosesNothingAndDeliversOnce() async throws {
        let total = 10_000
        let cluster = try await PollerCluster(environment: [
            "LEADER_LOCK_TTL": "2s", "JOB_LEASE": "3s", "LOG_LEVEL": "warning",
        ])
        for i in 1...3 { try await cluster.start(i) }

        // Schedule: due from 2 s to 22 s from now, in random order, through 4 connections.
        let base = WallClock.epochMilliseconds() + 2000
        let stores = (0..<4).map { _ in cluster.makeStore() }
        var order = Array(0..<total)
        order.shuffle()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (lane, store) in stores.enumerated() {
                let mine = order.enumerated().filter { $0.offset % stores.count == lane }.map(\.element)
                group.addTask {
                    for i in mine {
                        _ = try await store.schedule(
                            JobSpec(
                                id: "chaos-\(i)", kind: "reminder", userID: Int64(i % 500), chatID: Int64(i % 500),
                                due: .at(milliseconds: base + Int64(i) * 2), payload: ["step": .string("r")]))
                    }
                }
            }
            try await group.waitForAll()
        }

        // Chaos: kill -9 a random instance every 1.5-3.5 s and restart it, for the whole window.
        var kills = 0
        let chaosEnd = ContinuousClock.now + .seconds(22)
        while ContinuousClock.now < chaosEnd {
            try await Task.sleep(for: .milliseconds(Int64.random(in: 1500...3500)))
            let victim = Int.random(in: 1...3)
            await cluster.kill9(victim)
            kills += 1
            try await cluster.start(victim, waitReady: false)
        }

        let drained = await eventually(timeout: .seconds(60)) {
            guard let depth = try? await cluster.store.depth() else { return false }
            return depth.scheduled == 0 && depth.leased == 0
        }
        #expect(drained, "\(cluster.logs())")

        let delivered = cluster.gateway.deliveredCounts
        let dead = try await cluster.store.deadLetters(limit: total)
        let deadIDs = Set(dead.map(\.jobID))
        var missing: [String] = []
        for i in 0..<total {
            let id = "chaos-\(i)"
            if delivered[id] != 1 && !deadIDs.contains(id) { missing.append(id) }
        }
        #expect(missing.isEmpty, "\(missing.count) jobs neither delivered nor dead-lettered, e.g. \(missing.prefix(5))")
        #expect(delivered.values.allSatisfy { $0 == 1 })
        #expect(dead.allSatisfy { !$0.reason.isEmpty })
        #expect(Set(delivered.keys).isDisjoint(with: deadIDs) || dead.isEmpty)
        // Fencing: a job is only ever sent again under a newer claim (never twice under one epoch).
        var epochs: [String: [Int64]] = [:]
        for receipt in cluster.gateway.receipts { epochs[receipt.jobID, default: []].append(receipt.epoch) }
        let resentUnderSameEpoch = epochs.values.filter { Set($0).count != $0.count }.count
        #expect(resentUnderSameEpoch == 0)
        // A job goes out again only after its lease (3 s) lapsed — its holder was killed — never
        // while a live claim holds it: the gap between two receipts of one job is most of a lease.
        var byJob: [String: [Int64]] = [:]
        for receipt in cluster.gateway.receipts { byJob[receipt.jobID, default: []].append(receipt.receivedAtMs) }
        let early = byJob.filter { _, times in zip(times, times.dropFirst()).contains { $1 - $0 < 1500 } }
        #expect(early.isEmpty, "\(early.count) jobs sent again before their lease could lapse, e.g. \(early.keys.prefix(3))")
        let redeliveries = cluster.gateway.receipts.count - delivered.count
        // Only what was in flight at a kill comes back: at most batch size × concurrency per kill.
        #expect(redeliveries <= kills * 100 * 4)
        print("chaos: \(total) jobs, \(kills) kills, \(redeliveries) redeliveries answered duplicate, \(dead.count) dead-lettered")
        await cluster.stopAll()
    }
}
