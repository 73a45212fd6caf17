import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TollgateIPC
import TollgateSimulators
import TollgateTestKit
import UnixSignals

/// One run of `tollgate demo`: sets everything up, plays the scenario (or, with `--real`, just
/// watches), disturbs it with `--chaos`, and tears it all down by pid.
final class DemoRun: Sendable {
    let settings: DemoSettings
    let output: BenchOutput
    private let interrupted = Atomic<Bool>(false)
    private let events = Mutex<[DemoSummary.Disturbance]>([])

    static let simToken = "7000001:DEMO-sandbox-token"
    static let simNocoDBToken = "DEMO-nocodb-token"
    /// The sandbox's paid club (a private supergroup in the Telegram simulator).
    static let clubID: Int64 = -1_009_001

    init(settings: DemoSettings, output: BenchOutput) {
        self.settings = settings
        self.output = output
    }

    func execute() async throws -> DemoSummary {
        let directory = settings.directory ?? TestNetwork.temporaryDirectory(prefix: "tollgate-demo")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        setenv("TOLLGATE_BIN_DIR", settings.binaries, 1)
        let gatewayBinary = try TestBinaries.path(of: "bot-gateway")
        let pollerBinary = try TestBinaries.path(of: "poller-scheduler")
        var quiet = Logger(label: "demo")
        quiet.logLevel = .critical

        let signals = Task { [self] in
            for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
                self.interrupted.store(true, ordering: .relaxed)
            }
        }
        defer { signals.cancel() }

        output.line(
            settings.real
                ? "== Tollgate demo against the real Telegram and NocoDB from the environment; \(settings.pollers) pollers"
                : String(
                    format: "== Tollgate demo: %d simulated users over %.0f s, 1 bot-gateway + %d poller-scheduler, %@ polling%@",
                    settings.users, settings.duration, settings.pollers, settings.mode,
                    (settings.webhook ? ", webhook" : "") + (settings.chaos ? ", chaos" : "")))
        output.line("   logs and sockets in \(directory)")

        let redis = try RedisServer()
        defer { redis.stop() }
        output.line("   redis-server (pid \(redis.pid ?? 0)) on 127.0.0.1:\(redis.port)")

        let telegram = TelegramSimulator(configuration: .init(token: Self.simToken, botUsername: "tollgate_demo_bot"), logger: quiet)
        var nocodbConfig = NocoDBSimulator.Configuration()
        nocodbConfig.tokens = [Self.simNocoDBToken]
        nocodbConfig.tables = [.init(id: "users", columns: ["TelegramId", "Paid", DemoScenario.paidUntilField])]
        let nocodb = NocoDBSimulator(configuration: nocodbConfig, logger: quiet)
        let simulators = ServiceGroup(services: settings.real ? [] : [telegram, nocodb], logger: quiet)
        let simulatorTask = Task { try await simulators.run() }
        defer { simulatorTask.cancel() }

        var environment = ServiceProcess.environment(
            redisURL: redis.url, directory: directory,
            extra: [
                "PAYMENTS_MODE": settings.mode, "LOG_LEVEL": "info", "SHUTDOWN_GRACE": "10s",
                "TELEGRAM_POLL_TIMEOUT": "10s", "FLOW_FILE": directory + "/flow.yaml",
            ])
        if settings.real {
            let own = ProcessInfo.processInfo.environment
            // Telegram's own address unless TELEGRAM_API_URL is given (the sandbox's placeholder goes).
            for key in ["BOT_TOKEN", "NOCODB_URL", "NOCODB_TOKEN", "NOCODB_TABLE_ID", "TELEGRAM_API_URL"] { environment[key] = own[key] }
            for (key, value) in own where key.hasPrefix("NOCODB_") || key.hasPrefix("TELEGRAM_") || key.hasPrefix("PAYMENTS_") {
                environment[key] = value
            }
            if let flow = own["FLOW_FILE"] { environment["FLOW_FILE"] = flow } else { environment["FLOW_FILE"] = nil }
        } else {
            environment["BOT_TOKEN"] = Self.simToken
            environment["TELEGRAM_API_URL"] = try await telegram.baseURL()
            environment["NOCODB_URL"] = try await nocodb.baseURL()
            environment["NOCODB_TOKEN"] = Self.simNocoDBToken
            environment["NOCODB_TABLE_ID"] = "users"
            try Self.writeFlow(directory: directory, reminderDelay: settings.reminderDelay, accessPeriod: settings.club ? settings.accessPeriod : nil)
            output.line("   Telegram simulator \(environment["TELEGRAM_API_URL"]!) (30 msg/s, 1/s per chat)")
            if settings.webhook {
                let port = TestNetwork.freePort()
                environment["WEBHOOK_URL"] = "http://127.0.0.1:\(port)/tg/hook"
                environment["WEBHOOK_LISTEN"] = "127.0.0.1:\(port)"
                environment["WEBHOOK_SECRET"] = "demo-" + String(UInt64.random(in: 1...UInt64.max), radix: 36)
                output.line("   updates by webhook to 127.0.0.1:\(port) (the simulator POSTs them, with the secret)")
            }
            if settings.telegramFailRate > 0 {
                telegram.setHostility(SimHostility(rate: settings.telegramFailRate, faults: [.serverError], seed: settings.seed))
                output.line(String(format: "   the Telegram simulator answers %.0f %% of Bot API calls with a 5xx", settings.telegramFailRate * 100))
            }
            output.line("   NocoDB simulator \(environment["NOCODB_URL"]!) (5 requests per 1 s window, 429 + 30 s block)")
            if settings.club {
                telegram.addClub(id: Self.clubID, title: "The demo club")
                environment["CLUB_CHAT_ID"] = String(Self.clubID)
                environment["RECONCILE_INTERVAL"] = "off"
                // The final reconciliation runs when the people are done: half the bot's rate.
                environment["RECONCILE_SHARE"] = "0.5"
                output.line(
                    String(
                        format: "   the club %lld: a personal link per payer; %.0f %% of payers forward theirs to a friend first",
                        Self.clubID, settings.shareLinks * 100))
                if let period = settings.accessPeriod {
                    // Periods by the row's expiry column, which the scenario writes with each payment.
                    environment["NOCODB_PAID_UNTIL_FIELD"] = DemoScenario.paidUntilField
                    output.line(
                        String(
                            format: "   access periods (NOCODB_PAID_UNTIL_FIELD=%@): %.0f %% of the other payers get %.0f s (reminded %.0f s before the end), the rest 30 days",
                            DemoScenario.paidUntilField, settings.periodShare * 100, period, period / 2))
                }
            }
        }

        let supervisor = DemoSupervisor(directory: directory)
        let gatewaySocket = try DemoSupervisor.listen(path: environment["GATEWAY_SOCKET"]!, name: "gateway")
        let pollerSocket = try DemoSupervisor.listen(path: environment["POLLER_SOCKET"]!, name: "poller")
        defer {
            close(gatewaySocket.fd)
            close(pollerSocket.fd)
        }
        var pollerUnits: [DemoUnit] = []
        for i in 1...settings.pollers {
            var env = environment
            env["TOLLGATE_INSTANCE"] = "poller@\(i)"
            pollerUnits.append(try supervisor.add(name: "poller-scheduler@\(i)", binary: pollerBinary, environment: env, socket: pollerSocket))
        }
        var gatewayEnv = environment
        gatewayEnv["TOLLGATE_INSTANCE"] = "gateway@demo"
        let gateway = try supervisor.add(name: "bot-gateway", binary: gatewayBinary, environment: gatewayEnv, socket: gatewaySocket)

        let probe = DemoProbe(gatewaySocket: gatewaySocket.path, pollerSocket: pollerSocket.path, logger: quiet)
        var summary: DemoSummary
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for unit in pollerUnits { group.addTask { try await unit.start() } }
                try await group.waitForAll()
            }
            try await gateway.start()
            for unit in supervisor.all {
                let ready = unit.starts.last.flatMap { s in s.readyAt.map { $0 - s.requestedAt } } ?? .zero
                output.line(String(format: "   %@ pid %d ready in %.2f s", unit.name, unit.pid ?? 0, ready.seconds))
            }
            if settings.real {
                summary = try await watchReal(probe: probe)
            } else {
                summary = try await playScenario(
                    telegram: telegram, nocodb: nocodb, supervisor: supervisor, gateway: gateway, pollers: pollerUnits, probe: probe,
                    directory: directory)
            }
            summary.peakRSSMiB = Dictionary(
                uniqueKeysWithValues: supervisor.all.compactMap { unit in
                    unit.pid.flatMap { ProcessStats.peakRSSKiB(pid: $0) }.map { (unit.name, Double($0) / 1024) }
                })
        } catch {
            await probe.close()
            await supervisor.stopAll()
            await simulators.triggerGracefulShutdown()
            throw error
        }
        await probe.close()
        output.line("== stopping (SIGTERM to every process, by pid)")
        await supervisor.stopAll()
        await simulators.triggerGracefulShutdown()
        _ = await simulatorTask.result
        summary.directory = directory
        summary.disturbances = events.withLock { $0 }
        summary.evaluate()
        for line in summary.lines() { output.line(line) }
        return summary
    }

    // MARK: The simulated scenario

    private func playScenario(
        telegram: TelegramSimulator, nocodb: NocoDBSimulator, supervisor: DemoSupervisor, gateway: DemoUnit,
        pollers: [DemoUnit], probe: DemoProbe, directory: String
    ) async throws -> DemoSummary {
        var scenario = DemoScenario(
            users: settings.users, duration: settings.duration, reminderDelay: settings.reminderDelay,
            payShare: settings.payShare, blockShare: settings.blockShare, shareShare: settings.shareLinks,
            club: settings.club ? Self.clubID : nil, accessPeriod: settings.accessPeriod, periodShare: settings.periodShare,
            seed: settings.seed)
        telegram.addUsers(scenario.simulatedUsers)
        var rows = DemoRowIndex()
        let start = ContinuousClock.now
        let simStart = telegram.clock
        var nextProgress = settings.progressEvery
        var lastProgress = (t: 0.0, messages: 0, nocodb: 0)
        output.line("== \(settings.users) people arrive over the first \(Int(settings.duration * 0.4)) s")
        let chaos: Task<Void, Never>? =
            settings.chaos
            ? Task { await self.disturb(gateway: gateway, pollers: pollers, probe: probe, start: start) } : nil
        defer { chaos?.cancel() }

        var settleDeadline: Double?
        // --broadcast: a campaign to everyone the bot knows once 40 % of the time has passed (the
        // arrivals are over; with --chaos the gateway's kill comes in the middle of it).
        var campaign: (id: String, at: Double)?
        var campaignDone = !settings.broadcast
        var nextCampaignLook = 0.0
        while !interrupted.load(ordering: .relaxed) {
            let now = (ContinuousClock.now - start).seconds
            if settings.broadcast, campaign == nil, now >= settings.duration * 0.4, let id = await probe.createCampaign(seed: settings.seed) {
                campaign = (id, now)
                output.line("== a campaign to everyone the bot knows: \(id)")
            }
            if let campaign, !campaignDone, now >= nextCampaignLook {
                nextCampaignLook = now + 1
                campaignDone = await probe.campaign(campaign.id)?.state == "done"
            }
            scenario.step(now: now, telegram: telegram, nocodb: nocodb, rows: &rows)
            if now >= nextProgress {
                nextProgress += settings.progressEvery
                let messages = telegram.counters.messagesAccepted
                let requests = nocodb.stats().requests
                let span = max(0.001, now - lastProgress.t)
                output.line(
                    await progressLine(
                        now: now, scenario: scenario, telegram: telegram, nocodb: nocodb, probe: probe,
                        messageRate: Double(messages - lastProgress.messages) / span,
                        nocodbRate: Double(requests - lastProgress.nocodb) / span))
                lastProgress = (now, messages, requests)
            }
            if now >= settings.duration {
                if settleDeadline == nil {
                    settleDeadline = now + 120
                    output.line("== arrivals and payments are over; waiting for the last confirmations and reminders")
                }
                if (campaignDone && settled(scenario: scenario, telegram: telegram, now: telegram.clock)) || now >= settleDeadline! { break }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        if let chaos { await chaos.value }
        // The door checked from the other side: a reconciliation against the simulator's club.
        let reconcile = settings.club && !interrupted.load(ordering: .relaxed) ? await probe.reconcile() : nil
        var summary = DemoSummary(settings: settings)
        summary.reconcile = reconcile
        summary.interrupted = interrupted.load(ordering: .relaxed)
        summary.elapsedS = (ContinuousClock.now - start).seconds
        summary.collect(scenario: scenario, telegram: telegram, nocodb: nocodb, simStart: simStart)
        if settings.broadcast {
            let shown = if let campaign { await probe.campaign(campaign.id) } else { BroadcastSummary?.none }
            summary.broadcast = DemoSummary.Broadcast(campaign: shown, startedAtS: campaign?.at, telegram: telegram, scenario: scenario)
        }
        // Each payer's story beside the services' logs, to follow one user through both.
        let wallAtSimZero = DemoScenario.wallMs() - Int64(telegram.clock * 1000)
        try? scenario.story(telegram: telegram, wallAtSimZero: wallAtSimZero)
            .write(toFile: directory + "/people.log", atomically: true, encoding: .utf8)
        summary.telegramFaults = telegram.hostileInjected.values.reduce(0, +)
        summary.services = await probe.snapshot()
        return summary
    }

    /// Everyone who paid has their confirmation, and everyone still unpaid has had the time for
    /// their reminder to come (and it came, unless they blocked the bot).
    private func settled(scenario: DemoScenario, telegram: TelegramSimulator, now: Double) -> Bool {
        guard scenario.allArrived else { return false }
        for person in scenario.people {
            let sent = telegram.sent(to: person.user.id)
            switch person.step {
            case .waiting, .startSent, .pressed: return false
            case .paid:
                // Every payment confirmed (a payment again after a lapse, too).
                if sent.filter(DemoScenario.Recognise.isConfirmation).count < person.payments { return false }
                if let club = scenario.club {
                    switch person.periodFate {
                    case nil: if person.door != .inside { return false }
                    case .renews?:
                        // Renewed for good, each renewal seen by the bot (thanked) — or shown out, which the summary reports.
                        let thanked = sent.filter(DemoScenario.Recognise.isRenewed).count >= person.renewals
                        if person.door != .lapsed && !(person.door == .inside && person.renewedForGood && thanked) { return false }
                    case .lapses?: if person.door != .lapsed { return false }
                    case .returns?: if person.door != .inside || person.rejoinedAtSim == nil { return false }
                    }
                    if person.sharesLink, telegram.clubState(club)?.members[person.friend.id] == "member" { return false }
                }
            case .linked:
                if person.fate != .neverPays { return false }
                if !sent.contains(where: DemoScenario.Recognise.isReminder) { return false }
            case .blocked:
                let link = sent.first(where: DemoScenario.Recognise.isPaymentLink)?.at ?? now
                if now < link + settings.reminderDelay + 3 { return false }
            }
        }
        return true
    }

    private func progressLine(
        now: Double, scenario: DemoScenario, telegram: TelegramSimulator, nocodb: NocoDBSimulator, probe: DemoProbe,
        messageRate: Double, nocodbRate: Double
    ) async -> String {
        var arrived = 0, linked = 0, paid = 0, confirmed = 0, reminders = 0, blocked = 0, inside = 0
        var renewals = 0, lapsed = 0, back = 0
        for person in scenario.people {
            renewals += person.renewals
            lapsed += person.lapses
            if person.rejoinedAtSim != nil { back += 1 }
            if person.door == .inside { inside += 1 }
            if person.step != .waiting { arrived += 1 }
            if person.linkAt != nil { linked += 1 }
            if person.step == .paid { paid += 1 }
            if person.step == .blocked { blocked += 1 }
            let sent = telegram.sent(to: person.user.id)
            if sent.contains(where: DemoScenario.Recognise.isConfirmation) { confirmed += 1 }
            if sent.contains(where: DemoScenario.Recognise.isReminder) { reminders += 1 }
        }
        let leader = await probe.leader() ?? "-"
        let periods = scenario.period == nil ? "" : " · renewed \(renewals), lapsed \(lapsed), back \(back)"
        return String(
            format: "[%4.0fs] arrived %d/%d · links %d · paid %d → confirmed %d → in the club %d%@ · reminders %d · blocked %d · bot %.1f msg/s · NocoDB %.1f req/s · 429s %d/%d · leader %@",
            now, arrived, scenario.people.count, linked, paid, confirmed, inside, periods, reminders, blocked, messageRate, nocodbRate,
            telegram.counters.floodRefusals, nocodb.stats().throttled, leader)
    }

    // MARK: Chaos

    /// At 45 % of the run: kill -9 the gateway; at 60 %: kill -9 the leading poller. The
    /// supervisor restarts each after systemd's RestartSec (1 s), and the cost is measured: how
    /// long until it was ready again, and for the poller how long until someone led again.
    private func disturb(gateway: DemoUnit, pollers: [DemoUnit], probe: DemoProbe, start: ContinuousClock.Instant) async {
        func at(_ fraction: Double) async -> Bool {
            let when = start + .milliseconds(Int(settings.duration * fraction * 1000))
            try? await Task.sleep(until: when, clock: .continuous)
            return !Task.isCancelled && !interrupted.load(ordering: .relaxed)
        }
        guard await at(0.45) else { return }
        await killAndRestart(gateway, role: "bot-gateway", probe: probe, start: start)
        guard await at(0.60) else { return }
        let leaderName = await probe.leader()
        let victim = pollers.first { unit in leaderName.map { $0.hasPrefix(unit.environment["TOLLGATE_INSTANCE"]! + "#") } ?? false } ?? pollers[0]
        await killAndRestart(victim, role: leaderName == nil ? "poller" : "leading poller", probe: probe, start: start, leaderBefore: leaderName)
    }

    private func killAndRestart(_ unit: DemoUnit, role: String, probe: DemoProbe, start: ContinuousClock.Instant, leaderBefore: String? = nil) async {
        let killedAt = ContinuousClock.now
        let pid = unit.pid ?? 0
        await unit.kill9()
        output.line(String(format: "!! chaos: kill -9 %@ (%@, pid %d) at %.1f s", unit.name, role, pid, (killedAt - start).seconds))
        // Failover is measured while the restart is under way: another instance takes the lock.
        let failover: Task<Double?, Never>? =
            leaderBefore.map { before in
                Task {
                    let deadline = ContinuousClock.now + .seconds(60)
                    while ContinuousClock.now < deadline {
                        if let now = await probe.leader(), now != before { return (ContinuousClock.now - killedAt).seconds }
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                    return nil
                }
            }
        try? await Task.sleep(for: .seconds(1))  // RestartSec=1s
        var event = DemoSummary.Disturbance(unit: unit.name, role: role, killedAtS: (killedAt - start).seconds, oldPID: pid)
        do {
            try await unit.start()
            event.newPID = unit.pid
            event.readyAfterS = (unit.starts.last?.readyAt.map { $0 - killedAt })?.seconds
        } catch {
            event.error = "\(error)"
        }
        event.leaderBefore = leaderBefore
        if let failover {
            event.newLeaderAfterS = await failover.value
            event.leaderAfter = await probe.leader()
        }
        output.line(
            "!! chaos: \(unit.name) back (pid \(event.newPID ?? 0)) "
                + (event.readyAfterS.map { String(format: "ready %.1f s after the kill", $0) } ?? "NOT ready: \(event.error ?? "")")
                + (event.newLeaderAfterS.map { String(format: "; %@ leads since %.1f s after the kill", event.leaderAfter ?? "?", $0) } ?? ""))
        events.withLock { $0.append(event) }
    }

    // MARK: --real

    private func watchReal(probe: DemoProbe) async throws -> DemoSummary {
        let start = ContinuousClock.now
        output.line(settings.duration > 0 ? "== running for \(Int(settings.duration)) s (Ctrl-C stops)" : "== running until Ctrl-C")
        var nextProgress = settings.progressEvery
        while !interrupted.load(ordering: .relaxed) {
            let now = (ContinuousClock.now - start).seconds
            if settings.duration > 0 && now >= settings.duration { break }
            if now >= nextProgress {
                nextProgress += settings.progressEvery
                let s = await probe.snapshot()
                output.line(
                    String(
                        format: "[%4.0fs] updates %.0f · messages sent %.0f · watched %.0f · payments confirmed %.0f · NocoDB requests %.0f (429s %.0f) · Telegram 429s %.0f",
                        now, s.gateway["updates_handled_total"] ?? 0, s.gateway["telegram_messages_sent_total"] ?? 0,
                        s.pollerGauges["payments_active_watches"] ?? 0, s.pollers["payments_confirmed_total"] ?? 0,
                        (s.gateway["nocodb_requests_total"] ?? 0) + (s.pollers["nocodb_requests_total"] ?? 0),
                        (s.gateway["nocodb_429_total"] ?? 0) + (s.pollers["nocodb_429_total"] ?? 0),
                        s.gateway["telegram_rate_limited_total"] ?? 0))
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        var summary = DemoSummary(settings: settings)
        summary.interrupted = interrupted.load(ordering: .relaxed)
        summary.elapsedS = (ContinuousClock.now - start).seconds
        summary.services = await probe.snapshot()
        return summary
    }

    // MARK: The sandbox's flow file

    /// The default flow with a short reminder that carries a video (uploaded once, then sent by
    /// the file_id Telegram returned).
    /// With access periods (`accessPeriod`, the short one in seconds): a renewal reminder half a
    /// short period before the end, and the texts of a lapse and a renewal the scenario knows.
    static func writeFlow(directory: String, reminderDelay: Double, accessPeriod: Double? = nil) throws {
        var video = Data([0, 0, 0, 0x18] + Array("ftypmp42".utf8) + [0, 0, 0, 0] + Array("mp42isom".utf8))
        video.append(Data(repeating: 0x2A, count: 48 * 1024))
        try video.write(to: URL(fileURLWithPath: directory + "/reminder.mp4"))
        let yaml = """
            # The sandbox's flow: the built-in texts, with a reminder after \(Int(reminderDelay)) s instead of 5 min.
            reminders:
              - step: reminder
                delay: \(Int(reminderDelay * 1000))ms
                text: "Still thinking, {first_name}? Here is what waits for you in the club: {payment_url}"
                video: reminder.mp4
            """ + (accessPeriod.map { period in
                """

                renewal_reminders:
                  - step: renew
                    before: \(Int(period * 500))ms
                    text: "Your access ends on {access_until}. Renew here to stay: {payment_url}"
                access_renewed:
                  text: "Thank you, your access is renewed until {access_until}."
                access_lapsed:
                  text: "Your access to the club has ended. To come back, pay here: {payment_url}"
                """
            } ?? "")
        try yaml.write(toFile: directory + "/flow.yaml", atomically: true, encoding: .utf8)
    }
}

/// Reads the services' `stats` over their sockets, as `tollgate status` does.
final class DemoProbe: Sendable {
    struct Snapshot: Sendable {
        /// The gateway's counters.
        var gateway: [String: Double] = [:]
        /// The poller instances' counters, summed.
        var pollers: [String: Double] = [:]
        /// The poller instances' gauges, the largest of any instance (the leader's, for payments).
        var pollerGauges: [String: Double] = [:]
        var leader: String?
    }

    let gateway: IPCClient
    let poller: IPCClient

    init(gatewaySocket: String, pollerSocket: String, logger: Logger) {
        gateway = IPCClient(path: gatewaySocket, logger: logger)
        poller = IPCClient(path: pollerSocket, logger: logger)
    }

    func leader() async -> String? {
        (try? await poller.call(Stats(), timeout: .seconds(2)))?.info["leader"]
    }

    func snapshot() async -> Snapshot {
        var s = Snapshot()
        if let g = try? await gateway.call(Stats(), timeout: .seconds(3)) { s.gateway = g.counters }
        if let p = try? await poller.call(Stats(), timeout: .seconds(3)) {
            s.leader = p.info["leader"]
            for instance in p.instances ?? [p.snapshot] {
                for (k, v) in instance.counters { s.pollers[k, default: 0] += v }
                for (k, v) in instance.gauges { s.pollerGauges[k] = max(s.pollerGauges[k] ?? v, v) }
            }
        }
        return s
    }

    /// A reconciliation of the club's door, over the gateway socket (nil: no answer).
    func reconcile() async -> ReconcileReport? {
        try? await gateway.call(ClubReconcile(), timeout: .seconds(120))
    }

    /// The demo's campaign to everyone the bot knows (once per seed: a retry after a kill makes
    /// nothing new); nil while the gateway does not answer.
    func createCampaign(seed: UInt64) async -> String? {
        let request = BroadcastCreate(
            text: DemoScenario.Recognise.broadcastText, audience: BroadcastAudience(kind: "all"), idempotencyKey: "demo-\(seed)")
        return (try? await gateway.call(request, timeout: .seconds(20)))?.id
    }

    func campaign(_ id: String) async -> BroadcastSummary? {
        try? await gateway.call(BroadcastShow(id: id), timeout: .seconds(5))
    }

    func close() async {
        await gateway.close()
        await poller.close()
    }
}
