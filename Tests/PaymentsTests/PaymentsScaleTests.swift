import Foundation
import Testing
import TollgateCore
import TollgateIPC
import TollgateNocoDB
import TollgateRedis
import TollgateSimulators
import TollgateTestKit

@testable import TollgatePayments

/// Issue 4's bar, against the simulator's cloud limiter (5 per fixed second, 30 s-style block):
/// 10,000 watched users in batch and in delta mode, a restart with 10,000 watches, failures.
/// Intervals are shortened by configuration; the limits are the real ones.
@Suite struct PaymentsScaleTests {
    static let users = 10_000

    /// Inserts rows and watches them (even users by record id, odd ones by Telegram id), pipelined.
    static func seed(_ h: PaymentsHarness, count: Int) async throws -> [Int64] {
        // Rows made over the last hour, a hundred at a time, as in a table that filled up over time.
        let start = WallClock.epochMilliseconds() - 3_600_000
        var made: [Int64] = []
        for chunk in stride(from: 0, to: count, by: 100) {
            made += try h.simulator.insert(
                table: "users",
                rows: (chunk..<min(count, chunk + 100)).map {
                    ["TelegramId": .string("\(5_000_000 + $0)"), "Paid": .bool(false)]
                },
                atMs: start + Int64(chunk / 100) * 30_000)
        }
        let ids = made
        let store = try h.store()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<4 {
                group.addTask {
                    for index in stride(from: lane, to: count, by: 4) {
                        let user = Int64(index + 1)
                        let byRecord = index.isMultiple(of: 2)
                        _ = try await store.watch(
                            WatchPayment(
                                userID: user, chatID: user, recordID: byRecord ? ids[index] : nil,
                                telegramID: byRecord ? nil : "\(5_000_000 + index)"),
                            defaultExpiry: .seconds(3600), firstCheckDelay: .milliseconds(100))
                    }
                }
            }
            try await group.waitForAll()
        }
        return ids
    }

    /// Flips `indices` to Paid, a few at a time, spread over `over`.
    static func flip(_ h: PaymentsHarness, ids: [Int64], _ indices: [Int], over: Duration) async throws {
        let steps = 20
        let perStep = (indices.count + steps - 1) / steps
        for chunk in stride(from: 0, to: indices.count, by: perStep) {
            for index in indices[chunk..<min(indices.count, chunk + perStep)] {
                try h.simulator.markPaid(table: "users", id: ids[index])
            }
            try await Task.sleep(for: over / steps)
        }
    }

    static func expectWithinLimits(_ stats: NocoDBSimulatorStats, _ label: String) {
        #expect(stats.throttled == 0, "\(label): 429s")
        #expect(stats.maxPerFixedWindow <= 5, "\(label): fixed window")
        #expect(stats.maxPerSlidingWindow <= 5, "\(label): sliding window")
    }

    @Test func tenThousandWatchesInBatchModeThenARestartWithoutBurst() async throws {
        try await withPaymentsHarness { h in
            let ids = try await Self.seed(h, count: Self.users)
            var rng = SystemRandomNumberGenerator()
            let all = Array(0..<Self.users).shuffled(using: &rng)
            let firstFlips = Array(all.prefix(200))
            let secondFlips = Array(all.dropFirst(200).prefix(100))
            let outcomes = RecordingOutcomes()
            let configure: (inout PaymentsConfig) -> Void = {
                $0.mode = .batch
                $0.cadence = .fixed(.seconds(2))
            }

            let first = try h.poller(outcomes: outcomes, configure)
            try await running(first) {
                try await Self.flip(h, ids: ids, firstFlips, over: .seconds(10))
                let done = await eventually(timeout: .seconds(120)) { outcomes.confirmationJobsPerUser.count == 200 }
                #expect(done)
            }
            Self.expectWithinLimits(h.simulator.stats(), "first poller")
            #expect(first.stats.snapshot.batches >= 100)
            #expect(first.stats.snapshot.batchedWatches / max(1, first.stats.snapshot.batches) >= 50)

            // "Restart": a new poller (new HTTP client, new limiter connection) finds every
            // remaining watch overdue, as after a long outage.
            try await h.store().makeAllDue()
            h.simulator.resetStats()
            let second = try h.poller(outcomes: outcomes, configure)
            try await running(second) {
                try await Self.flip(h, ids: ids, secondFlips, over: .seconds(5))
                let done = await eventually(timeout: .seconds(120)) { outcomes.confirmationJobsPerUser.count == 300 }
                #expect(done)
                // Let it finish at least one whole pass over the overdue list.
                _ = await eventually(timeout: .seconds(60)) { second.stats.snapshot.batchedWatches >= Self.users - 300 }
            }
            let restart = h.simulator.stats()
            Self.expectWithinLimits(restart, "after restart")
            #expect(restart.requests >= 97)

            let expected = Set((firstFlips + secondFlips).map { Int64($0 + 1) })
            let jobs = outcomes.confirmationJobsPerUser
            #expect(Set(jobs.keys) == expected)
            #expect(jobs.values.allSatisfy { $0 == 1 })
            #expect(outcomes.snapshot.confirmCalls.values.allSatisfy { $0 == 1 })
            #expect(try await h.store().count() == Self.users - 300)
        }
    }

    @Test func tenThousandWatchesInDeltaMode() async throws {
        try await withPaymentsHarness { h in
            let ids = try await Self.seed(h, count: Self.users)
            var rng = SystemRandomNumberGenerator()
            let flips = Array(Array(0..<Self.users).shuffled(using: &rng).prefix(300))
            let outcomes = RecordingOutcomes()
            let poller = try h.poller(outcomes: outcomes) { $0.mode = .delta }
            try await running(poller) {
                try await Task.sleep(for: .seconds(2))
                try await Self.flip(h, ids: ids, flips, over: .seconds(10))
                let done = await eventually(timeout: .seconds(90)) { outcomes.confirmationJobsPerUser.count == 300 }
                #expect(done)
                try await Task.sleep(for: .seconds(2))
            }
            Self.expectWithinLimits(h.simulator.stats(), "delta")

            // Restart: a new poller continues from the cursor in Redis (and with the first
            // sweep where the old one left it), paced by the limiter: no burst.
            h.simulator.resetStats()
            let more = Array(Array(0..<Self.users).filter { !flips.contains($0) }.shuffled(using: &rng).prefix(50))
            let restarted = try h.poller(outcomes: outcomes) { $0.mode = .delta }
            try await running(restarted) {
                try await Self.flip(h, ids: ids, more, over: .seconds(3))
                let done = await eventually(timeout: .seconds(60)) { outcomes.confirmationJobsPerUser.count == 350 }
                #expect(done)
            }
            let afterRestart = h.simulator.stats()
            Self.expectWithinLimits(afterRestart, "delta after restart")
            #expect(restarted.stats.snapshot.confirmed == 50)

            let jobs = outcomes.confirmationJobsPerUser
            #expect(Set(jobs.keys) == Set((flips + more).map { Int64($0 + 1) }))
            #expect(jobs.values.allSatisfy { $0 == 1 })
            #expect(outcomes.snapshot.confirmCalls.values.allSatisfy { $0 == 1 })
            let stats = poller.stats.snapshot
            #expect(stats.deltaCycles >= 5)
            #expect(stats.confirmed == 300)
            #expect(try await h.store().count() == Self.users - 350)
        }
    }

    /// 500s, slow replies past the timeout and a forced 429 (3 s block) during polling: every paid
    /// row is still confirmed once, no request arrives during the block, no other 429 happens.
    @Test func failuresDuringPollingLoseNothing() async throws {
        try await withPaymentsHarness({ $0.blockDuration = .seconds(3) }) { h in
            let ids = try await Self.seed(h, count: 1000)
            let outcomes = RecordingOutcomes()
            let poller = try h.poller(
                outcomes: outcomes,
                {
                    $0.mode = .batch
                    $0.cadence = .fixed(.seconds(1))
                },
                nocodbOptions: {
                    $0.throttleBlock = .seconds(3)
                    $0.timeout = .milliseconds(800)
                })
            try await running(poller) {
                try await Task.sleep(for: .seconds(1))
                h.simulator.inject(.status(500, count: 3))
                h.simulator.inject(.delay(.seconds(2), count: 2))
                h.simulator.inject(.throttle(count: 1))
                h.simulator.inject(.status(503, count: 2))
                try await Self.flip(h, ids: ids, Array(0..<50).map { $0 * 20 }, over: .seconds(5))
                let done = await eventually(timeout: .seconds(60)) { outcomes.confirmationJobsPerUser.count == 50 }
                #expect(done)
            }
            let stats = h.simulator.stats()
            #expect(stats.throttled == 1)
            #expect(stats.throttledDuringBlock == 0)
            #expect(stats.serverErrors == 5)
            #expect(stats.delayed == 2)
            #expect(stats.maxPerSlidingWindow <= 5)
            #expect(outcomes.confirmationJobsPerUser.values.allSatisfy { $0 == 1 })
            let client = poller.nocodb.counters
            #expect(client.serverErrors == 5 && client.transportErrors == 2 && client.throttled == 1)
        }
    }
}
