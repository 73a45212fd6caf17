import Foundation
import Testing
import TollgateIPC
import TollgateNocoDB
import TollgateSimulators
import TollgateTestKit

@testable import TollgatePayments

/// The poller against the simulator: modes, leadership, expiry, failures between steps.
@Suite struct PaymentPollerTests {
    /// Inserts `count` rows and watches them: even users by record id, odd ones by Telegram id.
    static func seed(_ h: PaymentsHarness, count: Int, expiresInMs: Int64? = nil, notify: Bool? = nil) async throws -> [Int64] {
        let ids = try h.simulator.insert(
            table: "users", rows: (0..<count).map { ["TelegramId": .string("\(1_000_000 + $0)"), "Paid": .bool(false)] })
        let handlers = PaymentWatchHandlers(store: try h.store(), defaultExpiry: .seconds(3600), firstCheckDelay: .milliseconds(100))
        for (index, id) in ids.enumerated() {
            let user = Int64(index + 1)
            _ = try await handlers.watch(
                WatchPayment(
                    userID: user, chatID: user, recordID: index.isMultiple(of: 2) ? id : nil,
                    telegramID: index.isMultiple(of: 2) ? nil : "\(1_000_000 + index)", expiresInMs: expiresInMs,
                    notifyExpired: notify))
        }
        return ids
    }

    @Test(arguments: [PaymentsConfig.Mode.batch, .delta])
    func paidRowsAreConfirmedOnceAndUnpaidOnesNever(mode: PaymentsConfig.Mode) async throws {
        try await withPaymentsHarness { h in
            let ids = try await Self.seed(h, count: 40)
            let outcomes = RecordingOutcomes()
            let poller = try h.poller(outcomes: outcomes) { $0.mode = mode }
            try await running(poller) {
                try await Task.sleep(for: .milliseconds(500))
                for index in [0, 1, 17, 38] { try h.simulator.markPaid(table: "users", id: ids[index]) }
                let done = await eventually(timeout: .seconds(60)) { outcomes.confirmationJobsPerUser.count == 4 }
                #expect(done)
                // Two more cycles of the mode under test: nothing new may appear.
                let cycles = { mode == .delta ? poller.stats.snapshot.deltaCycles : poller.stats.snapshot.cycles }
                let seen = cycles()
                #expect(await eventually(timeout: .seconds(30)) { cycles() >= seen + 2 })
            }
            let jobs = outcomes.confirmationJobsPerUser
            #expect(jobs == [1: 1, 2: 1, 18: 1, 39: 1])
            #expect(outcomes.snapshot.confirmCalls.values.allSatisfy { $0 == 1 })
            #expect(outcomes.snapshot.cancelCalls == [1: 1, 2: 1, 18: 1, 39: 1])
            #expect(try await h.store().count() == 36)
            let stats = h.simulator.stats()
            #expect(stats.throttled == 0 && stats.maxPerSlidingWindow <= 5)
            #expect(poller.stats.snapshot.confirmed == 4)
        }
    }

    @Test func deltaModeFallsBackToBatchWithoutUpdatedAt() async throws {
        try await withPaymentsHarness({ $0.tables = [.init(id: "users", systemDates: false)] }) { h in
            let ids = try await Self.seed(h, count: 6)
            let outcomes = RecordingOutcomes()
            let poller = try h.poller(outcomes: outcomes) { $0.mode = .delta }
            try await running(poller) {
                try h.simulator.markPaid(table: "users", id: ids[3])
                #expect(await eventually(timeout: .seconds(60)) { outcomes.confirmationJobsPerUser == [4: 1] })
            }
            #expect(poller.stats.snapshot.mode.hasPrefix("batch"))
        }
    }

    @Test func onlyTheLeaderPollsAndItStopsWhenLeadershipGoes() async throws {
        try await withPaymentsHarness { h in
            let ids = try await Self.seed(h, count: 4)
            let outcomes = RecordingOutcomes()
            let leadership = ManualLeadership(leading: false)
            let poller = try h.poller(outcomes: outcomes, leadership: leadership) { $0.mode = .batch }
            try await running(poller) {
                try h.simulator.markPaid(table: "users", id: ids[0])
                try await Task.sleep(for: .seconds(1))
                #expect(h.simulator.stats().requests == 0)
                leadership.set(.init(holder: "test", token: 7))
                #expect(await eventually(timeout: .seconds(60)) { outcomes.confirmationJobsPerUser == [1: 1] })
                leadership.set(nil)
                try await Task.sleep(for: .milliseconds(500))
                let settled = h.simulator.stats().requests
                try h.simulator.markPaid(table: "users", id: ids[1])
                try await Task.sleep(for: .seconds(2))
                #expect(h.simulator.stats().requests == settled)
                #expect(outcomes.confirmationJobsPerUser == [1: 1])
            }
        }
    }

    @Test func expiredWatchesGetOneNoticeUnlessPaidFirst() async throws {
        try await withPaymentsHarness { h in
            let ids = try await Self.seed(h, count: 3, expiresInMs: 1500, notify: true)
            try h.simulator.markPaid(table: "users", id: ids[2])
            let outcomes = RecordingOutcomes()
            let poller = try h.poller(outcomes: outcomes) {
                $0.mode = .batch
                $0.cadence = .fixed(.seconds(30))  // only the first check and the expiry check happen
            }
            try await running(poller) {
                #expect(await eventually(timeout: .seconds(60)) { outcomes.snapshot.expired.count == 2 })
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(outcomes.snapshot.expired == [1: 1, 2: 1])
            #expect(outcomes.confirmationJobsPerUser == [3: 1])
            #expect(try await h.store().count() == 0)
        }
    }

    /// A crash (here: a failure) between "confirmation arranged" and "watch removed" repeats the
    /// steps on the next round, and the user still gets one confirmation.
    @Test func aFailureBetweenStepsRepeatsNothingVisible() async throws {
        try await withPaymentsHarness { h in
            let ids = try await Self.seed(h, count: 2)
            let outcomes = RecordingOutcomes()
            outcomes.state.withLock { $0.failNextCancels = 2 }
            let poller = try h.poller(outcomes: outcomes) { $0.mode = .batch }
            try await running(poller) {
                try h.simulator.markPaid(table: "users", id: ids[1])
                #expect(await eventually(timeout: .seconds(60)) { (try? await h.store().count()) == 1 })
            }
            #expect(outcomes.snapshot.confirmCalls[2] == 3)
            #expect(outcomes.confirmationJobsPerUser == [2: 1])
            #expect(outcomes.snapshot.cancelCalls == [2: 1])
            #expect(poller.stats.snapshot.errors == 2)
        }
    }
}
