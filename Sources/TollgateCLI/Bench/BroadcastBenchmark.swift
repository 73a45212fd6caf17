import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// `tollgate bench broadcast`: a campaign to 20,000 recipients (2,000 with `--quick`) through two
/// real bot-gateway processes sharing one Redis, against the Telegram simulator with its real limits
/// (30 msg/s for the bot, 1/s per chat, 429s), while simulated people keep writing `/start` and
/// pressing "Get access". The first gateway is killed with SIGKILL when 30 % of the recipients have
/// the message and the second at 60 %, each started again a second later (as systemd would).
///
/// Figures, counted from what the simulator received: messages/s during the campaign (all the
/// bot's, and the campaign's own) and its 429s; recipients missing and twice; the reply latency of
/// the people (update → answer) without a campaign and during it — apart from the replies asked
/// for within 20 s after a kill, which wait for a new leading gateway, shown on their own; and
/// after each kill the longest pause in the campaign's messages and how long until the restarted
/// gateway sends again. Writes `broadcast-rate.csv` (messages per second, the kills marked) for
/// the report's plot.
struct BroadcastBenchmark: Benchmark {
    static let name = "broadcast"
    static let summary =
        "a campaign to 20,000 through two gateways, each killed -9 once: msg/s vs 30/s, 429s, missing/twice, reply latency with vs without, resume"

    static let text = "Club news for {first_name}: the summer session opens on Monday."
    static let firstRecipient: Int64 = 1_000_000
    static let firstPerson: Int64 = 950_000
    /// Replies asked for this long after a kill wait for a new leader; they are counted apart.
    static let failoverWindow = 20.0

    /// One reply a simulated person waited for.
    struct Sample: Sendable {
        var askedAt: Double
        var ms: Double
        /// The welcome (an answer from Redis alone), or the payment link (a NocoDB row on the way).
        var welcome: Bool
    }

    /// People writing to the bot and pressing its button, one after another, until stopped.
    final class People: Sendable {
        let telegram: TelegramSimulator
        let samples = Mutex<[Sample]>([])
        let unanswered = Atomic<Int>(0)
        let next = Atomic<Int64>(0)
        let stopped = Atomic<Bool>(false)

        init(telegram: TelegramSimulator) { self.telegram = telegram }

        /// Waits until `user` has `count` messages from the bot; the latency, or nil after 60 s.
        func answer(_ user: SimUser, count: Int, askedAt: Double) async -> Double? {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                let sent = telegram.sent(to: user.id)
                if sent.count >= count { return (sent[count - 1].at - askedAt) * 1000 }
                try? await Task.sleep(for: .milliseconds(2))
            }
            return nil
        }

        /// `/start`, the welcome; a second later "Get access", the payment link (a NocoDB row
        /// made on the way). `limit` people, or until ``stopped``.
        func run(limit: Int = .max) async {
            var done = 0
            while !stopped.load(ordering: .relaxed) && done < limit {
                done += 1
                let user = SimUser(id: BroadcastBenchmark.firstPerson + next.wrappingAdd(1, ordering: .relaxed).oldValue, firstName: "Pat")
                let asked = telegram.clock
                telegram.userSends("/start", from: user)
                guard let welcome = await answer(user, count: 1, askedAt: asked) else {
                    unanswered.wrappingAdd(1, ordering: .relaxed)
                    continue
                }
                samples.withLock { $0.append(Sample(askedAt: asked, ms: welcome, welcome: true)) }
                // Telegram's 1 message/s per chat: the next answer to this person may not go sooner.
                try? await Task.sleep(for: .milliseconds(1100))
                let pressed = telegram.clock
                guard (try? telegram.userPresses("get_access", from: user)) != nil else { continue }
                if let link = await answer(user, count: 2, askedAt: pressed) {
                    samples.withLock { $0.append(Sample(askedAt: pressed, ms: link, welcome: false)) }
                } else {
                    unanswered.wrappingAdd(1, ordering: .relaxed)
                }
            }
        }
    }

    /// A kill of one gateway and what followed.
    struct Kill {
        var at: Double
        var readyAfter: Double?
        var sendingAfter: Double?
    }

    func run(_ options: BenchOptions, _ output: BenchOutput) async throws -> [String: JSONValue] {
        let recipientCount = options.quick ? 2_000 : 20_000
        let baselinePeople = options.quick ? 10 : 30
        return try await GatewayStage.with(prefix: "bc", options: options, pollerDelivers: "gw-a.sock") { stage in
            let (telegram, dir, quiet, base) = (stage.telegram, stage.directory, stage.logger, stage.environment)
            func environment(_ name: String) -> [String: String] {
                var env = base
                env["TOLLGATE_INSTANCE"] = name
                env["GATEWAY_SOCKET"] = dir + "/\(name).sock"
                return env
            }
            var starts = 0
            func start(_ name: String) async throws -> ServiceProcess {
                starts += 1
                let process = try ServiceProcess("bot-gateway", environment: environment(name), logPath: dir + "/\(name)-\(starts).log")
                try await process.waitUntilReady(timeout: .seconds(30))
                return process
            }
            var gateways = ["gw-a": try await start("gw-a"), "gw-b": try await start("gw-b")]
            func call<R: IPCRequest>(_ request: R, on name: String) async throws -> R.Reply {
                let client = IPCClient(path: dir + "/\(name).sock", logger: quiet)
                defer { Task { await client.close() } }
                return try await client.call(request, timeout: .seconds(30))
            }

            // 1. People without a campaign: the reference for their latency.
            let people = People(telegram: telegram)
            await people.run(limit: baselinePeople)
            let before = people.samples.withLock { $0 }
            let baseline = Percentiles(before.map(\.ms))
            let baseWelcome = Percentiles(before.filter(\.welcome).map(\.ms))
            let baseLink = Percentiles(before.filter { !$0.welcome }.map(\.ms))
            output.line(
                String(
                    format: "replies without a campaign: welcome (%d) p50 %.1f ms, p99 %.1f ms; payment link (%d) p50 %.1f ms, p99 %.1f ms",
                    baseWelcome.count, baseWelcome.p50, baseWelcome.p99, baseLink.count, baseLink.p50, baseLink.p99))

            // 2. The campaign: an id list of recipients who have all started the bot.
            let recipients = (0..<Int64(recipientCount)).map { Self.firstRecipient + $0 }
            telegram.addUsers(recipients.map { SimUser(id: $0) })
            let created = try await call(
                BroadcastCreate(text: Self.text, audience: BroadcastAudience(kind: "ids"), idempotencyKey: "bench-\(UUID().uuidString)"),
                on: "gw-a")
            var offset = 0
            while offset < recipients.count {
                let chunk = Array(recipients[offset..<min(offset + 1000, recipients.count)])
                _ = try await call(BroadcastAdd(id: created.id, userIDs: chunk), on: "gw-a")
                offset += chunk.count
            }
            let sealedAt = telegram.clock
            _ = try await call(BroadcastSeal(id: created.id), on: "gw-a")
            output.line("campaign \(created.id): \(recipientCount) recipients, sealed; people keep writing meanwhile")
            let pressing = Task { await people.run() }

            // 3. Watch it go out; kill gw-a at 30 %, gw-b at 60 %.
            let rendered = Self.text.replacingOccurrences(of: "{first_name}", with: "there")
            var seen = 0
            var campaignTimes: [Double] = []
            var otherTimes: [Double] = []
            var perRecipient: [Int64: Int] = [:]
            func refresh() {
                let new = telegram.sent(from: seen)
                seen += new.count
                for m in new where m.at >= sealedAt {
                    if m.chatID >= Self.firstRecipient && m.text == rendered {
                        campaignTimes.append(m.at)
                        perRecipient[m.chatID, default: 0] += 1
                    } else {
                        otherTimes.append(m.at)
                    }
                }
            }
            var kills: [String: Kill] = [:]
            let plan = [("gw-a", 0.3), ("gw-b", 0.6)]
            var summary = try await call(BroadcastShow(id: created.id), on: "gw-b")
            let deadline = ContinuousClock.now + .seconds(Double(recipientCount) / 20 + 300)
            var lastLine = ContinuousClock.now
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                refresh()
                let share = Double(perRecipient.count) / Double(recipientCount)
                for (name, at) in plan where kills[name] == nil && share >= at {
                    await gateways[name]!.kill9()
                    kills[name] = Kill(at: telegram.clock)
                    output.line(String(format: "%.0f %% delivered: kill -9 of %@", share * 100, name))
                    try await Task.sleep(for: .seconds(1))
                    gateways[name] = try await start(name)
                    kills[name]!.readyAfter = telegram.clock - kills[name]!.at
                }
                for (name, kill) in kills where kill.sendingAfter == nil {
                    let stats = try? await call(Stats(), on: name)
                    if (stats?.snapshot.counters["broadcast_messages_sent_total"] ?? 0) > 0 {
                        kills[name]!.sendingAfter = telegram.clock - kill.at
                    }
                }
                if ContinuousClock.now - lastLine > .seconds(30) {
                    lastLine = .now
                    output.line(String(format: "  %d of %d delivered", perRecipient.count, recipientCount))
                }
                let show = BroadcastShow(id: created.id)
                var shown = try? await call(show, on: "gw-a")
                if shown == nil { shown = try? await call(show, on: "gw-b") }
                if let shown {
                    summary = shown
                    if shown.state == "done" { break }
                }
            }
            people.stopped.store(true, ordering: .relaxed)
            await pressing.value
            refresh()
            // What the gateways met on the way (counters that are not zero), for the reader.
            for name in ["gw-a", "gw-b"] {
                guard let counters = try? await call(Stats(), on: name).snapshot.counters else { continue }
                let shown = counters.filter { $0.value > 0 && ["retr", "elsewhere", "out_of_time", "limited", "uncertain", "later"].contains(where: $0.key.contains) }
                output.line("  \(name) (restarted): " + shown.sorted { $0.key < $1.key }.map { "\($0.key) \(Int($0.value))" }.joined(separator: ", "))
            }

            // 4. Figures.
            let missing = recipients.filter { perRecipient[$0] == nil }.count
            let twice = perRecipient.values.filter { $0 > 1 }.count
            let first = campaignTimes.min() ?? sealedAt
            let last = campaignTimes.max() ?? sealedAt
            let span = max(0.001, last - first)
            let campaignRate = Double(max(0, campaignTimes.count - 1)) / span
            // Sustained: between the 5th and the 95th percentile of the campaign's messages (the
            // first second of a campaign and its last stragglers are not its pace).
            let ordered = campaignTimes.sorted()
            let (lo, hi) = (ordered.count / 20, max(0, ordered.count - 1 - ordered.count / 20))
            let middle = ordered.count > 40 ? (ordered[lo], ordered[hi]) : (first, last)
            let middleSpan = max(0.001, middle.1 - middle.0)
            let sustainedCampaign = Double(hi - lo) / middleSpan
            let sustainedAll = Double(hi - lo + otherTimes.filter { $0 > middle.0 && $0 <= middle.1 }.count) / middleSpan
            let allInSpan = campaignTimes.count + otherTimes.filter { $0 >= first && $0 <= last }.count
            let totalRate = Double(max(0, allInSpan - 1)) / span
            let refusals = telegram.counters.floodRefusals
            var perSecond = Array(repeating: (0, 0), count: Int(span) + 1)
            for t in campaignTimes { perSecond[min(perSecond.count - 1, Int(t - first))].0 += 1 }
            for t in otherTimes where t >= first && t <= last { perSecond[min(perSecond.count - 1, Int(t - first))].1 += 1 }
            let killSeconds = kills.mapValues { Int(($0.at - first).rounded(.down)) }
            var csv = "second,campaign,replies,kill\n"
            for (second, counts) in perSecond.enumerated() {
                let killed = killSeconds.filter { $0.value == second }.keys.sorted().joined(separator: "+")
                csv += "\(second),\(counts.0),\(counts.1),\(killed)\n"
            }
            try csv.write(toFile: options.outputDirectory + "/broadcast-rate.csv", atomically: true, encoding: .utf8)

            let during = people.samples.withLock { $0 }.filter { $0.askedAt >= sealedAt }
            func nearKill(_ s: Sample) -> Bool { kills.values.contains { s.askedAt >= $0.at - 1 && s.askedAt < $0.at + Self.failoverWindow } }
            let steady = Percentiles(during.filter { !nearKill($0) }.map(\.ms))
            let steadyWelcome = Percentiles(during.filter { !nearKill($0) && $0.welcome }.map(\.ms))
            let steadyLink = Percentiles(during.filter { !nearKill($0) && !$0.welcome }.map(\.ms))
            let failover = Percentiles(during.filter(nearKill).map(\.ms))
            let ratioP50 = steady.p50 / baseline.p50
            let ratioP99 = steady.p99 / baseline.p99
            output.line(
                String(
                    format: "replies during the campaign, away from the kills: welcome (%d) p50 %.1f ms, p99 %.1f ms (%.2f× and %.2f×); payment link (%d) p50 %.1f ms, p99 %.1f ms (%.2f× and %.2f×)",
                    steadyWelcome.count, steadyWelcome.p50, steadyWelcome.p99, steadyWelcome.p50 / baseWelcome.p50, steadyWelcome.p99 / baseWelcome.p99,
                    steadyLink.count, steadyLink.p50, steadyLink.p99, steadyLink.p50 / baseLink.p50, steadyLink.p99 / baseLink.p99))
            func pause(after kill: Kill) -> Double {
                let times = campaignTimes.filter { $0 >= kill.at - 1 && $0 <= kill.at + 15 }.sorted()
                return zip(times, times.dropFirst()).map { $1 - $0 }.max() ?? 0
            }

            output.line(
                String(
                    format: "campaign: %d recipients in %.1f s (%.2f msg/s); sustained (5th-95th percentile): %.2f msg/s of the campaign, %.2f msg/s of the bot in all (limit 30/s); 429s %d",
                    perRecipient.count, span, campaignRate, sustainedCampaign, sustainedAll, refusals))
            output.line("recipients missing \(missing), twice \(twice); outbox: sent \(summary.sent), uncertain \(summary.uncertain), state \(summary.state)")
            output.line(
                String(
                    format: "replies during the campaign (%d): p50 %.1f ms, p99 %.1f ms (%.2f× and %.2f× without); within %.0f s of a kill (%d): p50 %.0f ms, max %.0f ms; unanswered %d",
                    steady.count, steady.p50, steady.p99, ratioP50, ratioP99, Self.failoverWindow, failover.count,
                    failover.count > 0 ? failover.p50 : 0, failover.count > 0 ? failover.max : 0, people.unanswered.load(ordering: .relaxed)))
            var killFigures: [String: JSONValue] = [:]
            for (name, kill) in kills.sorted(by: { $0.key < $1.key }) {
                let gap = pause(after: kill)
                output.line(
                    String(
                        format: "kill of %@ at %.0f s: longest pause of the campaign %.2f s, restarted and ready after %.1f s, sending again after %.1f s",
                        name, kill.at - first, gap, kill.readyAfter ?? -1, kill.sendingAfter ?? -1))
                killFigures[name] = .object([
                    "at_s": .number(((kill.at - first) * 10).rounded() / 10), "longest_pause_s": .number((gap * 100).rounded() / 100),
                    "ready_after_s": .number(((kill.readyAfter ?? -1) * 10).rounded() / 10),
                    "sending_again_after_s": .number(((kill.sendingAfter ?? -1) * 10).rounded() / 10),
                ])
            }
            let rss = gateways.values.compactMap { ProcessStats.peakRSSKiB(pid: $0.pid) }.max() ?? 0
            for process in gateways.values { await process.stop() }
            func r(_ v: Double, _ digits: Double = 100) -> JSONValue { .number(v.isFinite ? (v * digits).rounded() / digits : -1) }
            return [
                "recipients": .number(Double(recipientCount)), "delivered": .number(Double(perRecipient.count)),
                "missing": .number(Double(missing)), "twice": .number(Double(twice)),
                "outbox_sent": .number(Double(summary.sent)), "outbox_uncertain": .number(Double(summary.uncertain)),
                "campaign_state": .string(summary.state),
                "campaign_seconds": r(span, 10), "campaign_messages_per_s": r(campaignRate), "bot_messages_per_s": r(totalRate),
                "sustained_campaign_messages_per_s": r(sustainedCampaign), "sustained_bot_messages_per_s": r(sustainedAll),
                "limit_per_s": .number(30), "telegram_429s": .number(Double(refusals)),
                "reply_ms_without": baseline.json(), "reply_ms_during": steady.json(), "reply_ms_near_kill": failover.json(),
                "reply_p50_ratio": r(ratioP50), "reply_p99_ratio": r(ratioP99),
                "welcome_ms_without": baseWelcome.json(), "welcome_ms_during": steadyWelcome.json(),
                "payment_link_ms_without": baseLink.json(), "payment_link_ms_during": steadyLink.json(),
                "welcome_p50_ratio": r(steadyWelcome.p50 / baseWelcome.p50), "welcome_p99_ratio": r(steadyWelcome.p99 / baseWelcome.p99),
                "payment_link_p50_ratio": r(steadyLink.p50 / baseLink.p50), "payment_link_p99_ratio": r(steadyLink.p99 / baseLink.p99),
                "unanswered": .number(Double(people.unanswered.load(ordering: .relaxed))),
                "kills": .object(killFigures), "gateway_peak_rss_mib": r(Double(rss) / 1024, 10),
            ]
        }
    }
}
