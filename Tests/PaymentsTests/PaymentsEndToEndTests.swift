import Foundation
import Testing
import TollgateCore
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

@testable import TollgatePayments

/// The whole path with real `poller-scheduler` processes: `watch_payment` over the poller socket,
/// the leader's polling against the simulator, the `payment_confirmed` job in the job store, its
/// `deliver` to a stand-in gateway — once per payment, across a kill -9 of the leader.
@Suite(.serialized) struct PaymentsEndToEndTests {
    @Test func realPollersDeliverEachConfirmationOnceAcrossAKill9OfTheLeader() async throws {
        try await withPaymentsHarness { h in
            let directory = TestNetwork.temporaryDirectory(prefix: "pe")
            let gateway = StandInGateway(path: directory + "/gateway.sock")
            try await gateway.start()
            let ids = try h.simulator.insert(
                table: "users", rows: (0..<40).map { ["TelegramId": .string("\(700 + $0)"), "Paid": .bool(false)] })
            func environment(_ index: Int) -> [String: String] {
                ServiceProcess.environment(
                    redisURL: h.redis.url, directory: directory,
                    extra: [
                        "TOLLGATE_INSTANCE": "poller@\(index)", "POLLER_SOCKET": directory + "/poller-\(index).sock",
                        "POLLER_HTTP": "off", "LEADER_LOCK_TTL": "2s", "NOCODB_URL": h.url, "NOCODB_TOKEN": testToken,
                        "NOCODB_TABLE_ID": "users", "PAYMENTS_MODE": "delta", "PAYMENTS_DELTA_INTERVAL": "500ms",
                        "PAYMENTS_FIRST_CHECK": "200ms", "NOCODB_BACKOFF_CAP": "500ms",
                    ])
            }
            var pollers: [Int: ServiceProcess] = [:]
            for i in 1...2 {
                let p = try ServiceProcess("poller-scheduler", environment: environment(i), logPath: directory + "/poller-\(i).log")
                pollers[i] = p
                try await p.waitUntilReady()
            }
            let client = IPCClient(path: directory + "/poller-1.sock", logger: quietLogger)
            for (index, id) in ids.enumerated() {
                // Half by record id, half by Telegram id.
                let byRecord = index.isMultiple(of: 2)
                _ = try await client.call(
                    WatchPayment(
                        userID: Int64(index + 1), chatID: Int64(index + 1), recordID: byRecord ? id : nil,
                        telegramID: byRecord ? nil : "\(700 + index)"))
            }
            await client.close()

            func confirmations() -> [String: Int] {
                gateway.deliveredCounts.filter { $0.key.hasPrefix("payment_confirmed:") }
            }
            for index in 0..<10 { try h.simulator.markPaid(table: "users", id: ids[index]) }
            let firstWave = await eventually(timeout: .seconds(30)) { confirmations().count == 10 }
            #expect(firstWave, "\(pollers.values.map { $0.log().suffix(1500) })")

            // Kill the leader; the other instance takes over the polling (and the deliveries).
            var leader: Int?
            for (i, p) in pollers {
                let c = IPCClient(path: p.socketPath, logger: quietLogger)
                if let stats = try? await c.call(Stats()), stats.info["role"] == "leader" { leader = i }
                await c.close()
            }
            let killed = try #require(leader)
            await pollers[killed]?.kill9()
            for index in 10..<20 { try h.simulator.markPaid(table: "users", id: ids[index]) }
            let secondWave = await eventually(timeout: .seconds(40)) { confirmations().count == 20 }
            #expect(secondWave, "\(pollers.values.map { $0.log().suffix(1500) })")
            try await Task.sleep(for: .seconds(2))

            let delivered = confirmations()
            #expect(delivered.count == 20)
            #expect(delivered.values.allSatisfy { $0 == 1 })
            let users = delivered.keys.compactMap { Int64($0.split(separator: ":")[1]) }
            #expect(Set(users) == Set((1...20).map(Int64.init)))
            #expect(users.count == 20)  // one job id per user
            let stats = h.simulator.stats()
            #expect(stats.throttled == 0 && stats.maxPerSlidingWindow <= 5)

            let survivor = pollers.keys.first { $0 != killed }!
            let c = IPCClient(path: pollers[survivor]!.socketPath, logger: quietLogger)
            let survivorStats = try await c.call(Stats())
            await c.close()
            #expect(survivorStats.gauges["payments_active_watches"] == 20)
            #expect(survivorStats.counters["nocodb_429_total"] == 0)
            for p in pollers.values { await p.stop() }
            await gateway.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
