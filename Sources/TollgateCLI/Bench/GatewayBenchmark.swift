import Foundation
import Logging
import ServiceLifecycle
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// `tollgate bench gateway`: a real bot-gateway process against the Telegram simulator (real
/// limits: 30 msg/s, 1/s per chat), the NocoDB simulator, a private redis-server and a stand-in
/// poller. Measures inbound updates handled/s, outbound messages/s against the 30/s limit (and the
/// simulator's 429s), the latency from an injected update to the bot's reply, and peak RSS.
struct GatewayBenchmark: Benchmark {
    static let name = "gateway"
    static let summary = "updates handled/s, outbound messages/s vs Telegram's 30/s (429s), update→reply latency p50/p99, peak RSS"

    func run(_ options: BenchOptions, _ output: BenchOutput) async throws -> [String: JSONValue] {
        let inboundCount = options.quick ? 1_000 : 5_000
        let latencySamples = options.quick ? 50 : 200
        let outboundCount = options.quick ? 300 : 1_800
        return try await GatewayStage.with(prefix: "gw", options: options) { stage in
            let (telegram, poller, dir, quiet) = (stage.telegram, stage.poller, stage.directory, stage.logger)
            let gateway = try ServiceProcess("bot-gateway", environment: stage.environment, logPath: dir + "/gateway.log")
            try await gateway.waitUntilReady()
            let ipc = IPCClient(path: gateway.socketPath, logger: quiet)
            func handled() async -> Double {
                (try? await ipc.call(Stats(), timeout: .seconds(5)).counters["updates_handled_total"]) ?? 0
            }

            // 1. Inbound: free text that needs no reply (help is off), from 500 users.
            let start = ContinuousClock.now
            for i in 0..<inboundCount {
                telegram.userSends("hello \(i)", from: SimUser(id: Int64(500_000 + i % 500)))
            }
            while await handled() < Double(inboundCount) { try await Task.sleep(for: .milliseconds(20)) }
            let inboundRate = Double(inboundCount) / (ContinuousClock.now - start).seconds
            output.line(String(format: "inbound: %d updates handled at %.0f updates/s", inboundCount, inboundRate))

            // 2. Latency: one user at a time sends /start; time until the welcome reaches "Telegram".
            var latencies: [Double] = []
            for i in 0..<latencySamples {
                let user = SimUser(id: Int64(600_000 + i))
                let sentAt = telegram.clock
                telegram.userSends("/start", from: user)
                while telegram.sent(to: user.id).isEmpty { try await Task.sleep(for: .milliseconds(1)) }
                latencies.append((telegram.sent(to: user.id)[0].at - sentAt) * 1000)
                try await Task.sleep(for: .milliseconds(50))  // 20/s: below the 30/s limit, so no sample waits for it
            }
            let latency = Percentiles(latencies)
            output.line(String(format: "update → reply latency (%d samples): p50 %.1f ms, p99 %.1f ms", latencySamples, latency.p50, latency.p99))

            // 3. Outbound: a burst of messages to distinct chats, through the shared 30/s limit.
            let chats = (0..<outboundCount).map { Int64(700_000 + $0) }
            telegram.addUsers(chats.map { SimUser(id: $0) })
            let refusalsBefore = telegram.counters.floodRefusals
            let sentBefore = telegram.allSent().count
            for chat in chats {
                try poller.enqueue(
                    Schedule(jobID: "bench:\(chat)", kind: "message", userID: chat, chatID: chat, delayMs: 0, payload: ["text": .string("news")]))
            }
            while poller.pendingJobCount > 0 { try await Task.sleep(for: .milliseconds(50)) }
            let burst = telegram.allSent().dropFirst(sentBefore).filter { $0.chatID >= 700_000 }.map(\.at).sorted()
            let span = (burst.last ?? 0) - (burst.first ?? 0)
            let outboundRate = burst.count > 1 && span > 0 ? Double(burst.count - 1) / span : 0
            let refusals = telegram.counters.floodRefusals - refusalsBefore
            var maxInSecond = 0
            var head = 0
            for (i, t) in burst.enumerated() {
                while burst[head] <= t - 1.0 { head += 1 }
                maxInSecond = max(maxInSecond, i - head + 1)
            }
            // Messages accepted per second of the burst, for the report's plot.
            if let first = burst.first {
                var perSecond = Array(repeating: 0, count: Int((burst.last! - first).rounded(.down)) + 1)
                for t in burst { perSecond[Int((t - first).rounded(.down))] += 1 }
                let csv = "second,messages\n" + perSecond.enumerated().map { "\($0),\($1)" }.joined(separator: "\n") + "\n"
                try csv.write(toFile: options.outputDirectory + "/gateway-outbound.csv", atomically: true, encoding: .utf8)
            }
            output.line(
                String(
                    format: "outbound: %d messages at %.2f messages/s (limit 30/s), most in any 1 s window %d, 429s from Telegram %d",
                    burst.count, outboundRate, maxInSecond, refusals))

            let rss = ProcessStats.peakRSSKiB(pid: gateway.pid) ?? 0
            output.line(String(format: "gateway peak RSS: %.1f MiB", Double(rss) / 1024))
            await ipc.close()
            await gateway.stop()
            return [
                "updates": .number(Double(inboundCount)), "updates_handled_per_s": .number(inboundRate.rounded()),
                "latency_samples": .number(Double(latencySamples)),
                "update_to_reply_ms_p50": .number((latency.p50 * 10).rounded() / 10),
                "update_to_reply_ms_p99": .number((latency.p99 * 10).rounded() / 10),
                "outbound_messages": .number(Double(burst.count)),
                "outbound_messages_per_s": .number((outboundRate * 100).rounded() / 100),
                "outbound_limit_per_s": .number(30), "outbound_max_in_any_second": .number(Double(maxInSecond)),
                "telegram_429s": .number(Double(refusals)), "gateway_peak_rss_mib": .number((Double(rss) / 1024 * 10).rounded() / 10),
            ]
        }
    }
}
