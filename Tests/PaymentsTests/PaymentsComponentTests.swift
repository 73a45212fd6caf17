import Foundation
import Testing
import TollgateCore
import TollgateIPC
import TollgateRuntime
import TollgateSimulators
import TollgateTestKit

@testable import TollgatePayments

/// The component on a real ServiceHost: configuration from the environment, `watch_payment` and
/// `unwatch_payment` over the poller socket, the polling loop, the `payments` figures in `stats`.
@Suite struct PaymentsComponentTests {
    @Test func watchOverIPCThenConfirmedAndCountedInStats() async throws {
        try await withPaymentsHarness { h in
            let ids = try h.simulator.insert(table: "users", rows: [["TelegramId": "77", "Paid": false], ["TelegramId": "78"]])
            let directory = TestNetwork.temporaryDirectory(prefix: "pc")
            let socket = directory + "/poller.sock"
            var reader = ConfigReader(
                ConfigSource(values: [
                    "REDIS_URL": h.redis.url, "REDIS_PREFIX": "pc", "POLLER_SOCKET": socket,
                    "GATEWAY_SOCKET": directory + "/gateway.sock", "POLLER_HTTP": "off", "NOCODB_URL": h.url,
                    "NOCODB_TOKEN": testToken, "NOCODB_TABLE_ID": "users", "PAYMENTS_MODE": "batch",
                    "PAYMENTS_FIRST_CHECK": "100ms", "PAYMENTS_CADENCE": "*:500ms",
                ]))
            let settings = RuntimeSettings.read(&reader, kind: .poller, listenFDs: [])
            let config = PaymentsConfig.read(&reader)
            try reader.finish()
            #expect(config.mode == .batch && config.cadence.interval(forAge: .seconds(1)) == .milliseconds(500))
            #expect(config.nocodb.options.rate.emissionMicros == 250_000)

            let host = ServiceHost(settings: settings, logger: quietLogger)
            let outcomes = RecordingOutcomes()
            let payments = PaymentsComponent(
                host: host, config: config, outcomes: outcomes, leadership: ManualLeadership(leading: true))
            let running = Task { try await host.run(payments.services) }
            defer { running.cancel() }
            let listening = await offPool { TestNetwork.waitUntil(timeout: .seconds(20)) { access(socket, F_OK) == 0 } }
            #expect(listening)

            let client = IPCClient(path: socket, logger: quietLogger)
            let watched = try await client.call(WatchPayment(userID: 7, chatID: 70, telegramID: "77", notifyExpired: false))
            #expect(watched.created)
            let second = try await client.call(WatchPayment(userID: 8, chatID: 80, recordID: ids[1]))
            #expect(second.created)
            let removed = try await client.call(UnwatchPayment(userID: 8))
            #expect(removed.removed)
            do throws(IPCError) {
                _ = try await client.call(WatchPayment(userID: 9, chatID: 90))
                Issue.record("a watch without a row reference must be refused")
            } catch {
                #expect(error.code == .invalidRequest)
            }

            try h.simulator.markPaid(table: "users", id: ids[0])
            #expect(await eventually(timeout: .seconds(15)) { outcomes.confirmationJobsPerUser == [7: 1] })
            let stats = try await client.call(Stats())
            #expect(stats.counters["payments_confirmed_total"] == 1)
            #expect((stats.counters["nocodb_requests_total"] ?? 0) >= 1)
            #expect(stats.counters["nocodb_429_total"] == 0)
            #expect(stats.gauges["payments_leading"] == 1)
            #expect(stats.info["payments_mode"] == "batch")
            await client.close()
            running.cancel()
            _ = try? await running.value
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
