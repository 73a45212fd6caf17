import Foundation
import ServiceLifecycle
import Testing
import TollgateCore
import TollgateGateway
import TollgateIPC
import TollgateRedis
import TollgateSimulators
import TollgateTestKit

/// The real bot-gateway with real poller-scheduler processes, disturbed: kill -9 of any of them
/// during a Telegram 5xx storm, a poller frozen past its lease with a batch in flight, two
/// gateways handed the same unit. Every count comes from what the Telegram simulator (a process of
/// its own) received — never from a stand-in that deduplicates.
@Suite("The real gateway under chaos", .serialized, .timeLimit(.minutes(5)))
struct RealGatewayChaosTests {
    static let token = "123456:TEST-chaos-token"
    static let nocodbToken = "TEST-chaos-nocodb"

    /// Redis, the Telegram simulator (its own process) and the NocoDB simulator, with the
    /// environment both services need; services are started by the test.
    final class Stage: @unchecked Sendable {
        let redis: RedisServer
        let directory: String
        let telegram: RemoteTelegram
        let nocodb: NocoDBSimulator
        var environment: [String: String] = [:]
        let pool: RedisClientPool
        private var started: [ServiceProcess] = []
        private var logs = 0

        init(prefix: String, telegramRate: Double) async throws {
            redis = try RedisServer()
            directory = TestNetwork.temporaryDirectory(prefix: prefix)
            telegram = try await RemoteTelegram(token: RealGatewayChaosTests.token, rate: telegramRate, burst: 10, directory: directory)
            var config = NocoDBSimulator.Configuration()
            config.tokens = [RealGatewayChaosTests.nocodbToken]
            config.rateLimit = 50
            nocodb = NocoDBSimulator(configuration: config, logger: quietLogger)
            pool = RedisClientPool(url: try RedisURL(redis.url), name: "chaos-journal", size: 1, logger: quietLogger)
        }

        func configure(_ extra: [String: String]) async throws {
            environment = ServiceProcess.environment(
                redisURL: redis.url, directory: directory,
                extra: [
                    "BOT_TOKEN": RealGatewayChaosTests.token, "TELEGRAM_API_URL": telegram.base,
                    "NOCODB_URL": try await nocodb.baseURL(), "NOCODB_TOKEN": RealGatewayChaosTests.nocodbToken,
                    "NOCODB_TABLE_ID": "users", "NOCODB_RATE_LIMIT": "40", "LOG_LEVEL": "notice",
                    "TELEGRAM_POLL_TIMEOUT": "2s",
                ].merging(extra) { _, new in new })
        }

        /// Starts `name` with `overrides`; its log is a file of its own (restarts included).
        func start(_ name: String, _ overrides: [String: String] = [:], wait: Bool = true) async throws -> ServiceProcess {
            logs += 1
            let process = try ServiceProcess(
                name, environment: environment.merging(overrides) { _, new in new },
                logPath: directory + "/\(name)-\(logs).log")
            started.append(process)
            if wait { try await process.waitUntilReady(timeout: .seconds(30)) }
            return process
        }

        func logTails() -> String {
            started.suffix(6).map { "\($0.logPath):\n\($0.logTail(1500))" }.joined(separator: "\n")
        }

        /// The journal's record of job `id`'s one step (a `message` job sends in step `s0`), read
        /// as the gateway reads it.
        func sendStep(ofJob id: String) async throws -> StepMark? {
            try await EffectJournal(redis: pool, keys: KeySpace(prefix: "tollgate")).load("j:\(id)").steps["s0"]
        }

        func stopAll() async {
            for process in started.reversed() { await process.stop(grace: .seconds(10)) }
            await telegram.stop()
            await pool.close()
            redis.stop()
        }
    }

    static func withStage(
        prefix: String, telegramRate: Double = 30, _ body: (Stage) async throws -> Void
    ) async throws {
        let stage = try await Stage(prefix: prefix, telegramRate: telegramRate)
        let group = ServiceGroup(services: [stage.nocodb], logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await body(stage)
            } catch {
                Issue.record("\(error)\n\(stage.logTails())")
            }
            await stage.stopAll()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    static func schedule(_ socket: String, _ jobs: [Schedule]) async throws {
        let client = IPCClient(path: socket, logger: quietLogger)
        for job in jobs { _ = try await client.call(job) }
        await client.close()
    }

    // MARK: -

    @Test("Three pollers and the gateway kill -9ed at random during a 5xx storm: each message once, none lost")
    func killNineDuringAFiveHundredStorm() async throws {
        try await Self.withStage(prefix: "chaos-real", telegramRate: 200) { stage in
            try await stage.configure([
                "TELEGRAM_GLOBAL_RATE": "150", "JOB_LEASE": "3s", "LEADER_LOCK_TTL": "2s", "JOB_RETRY_BASE": "200ms",
                "JOB_RETRY_CAP": "2s", "SEND_RETRY_DELAYS": "200ms,500ms", "JOB_MAX_ATTEMPTS": "30",
            ])
            let total = 600
            let chats = (0..<total).map { Int64(880_000 + $0) }
            try await stage.telegram.addUsers(chats)
            // A storm: a fifth of every Bot API call answered 500/502/503/504.
            try await stage.telegram.post("/_sim/hostile", #"{"rate":0.2,"faults":["server_error"],"seed":5}"#)
            func pollerEnv(_ i: Int) -> [String: String] {
                ["TOLLGATE_INSTANCE": "poller@\(i)", "POLLER_SOCKET": stage.directory + "/poller-\(i).sock", "POLLER_HTTP": "off"]
            }
            var pollers: [Int: ServiceProcess] = [:]
            for i in 1...3 { pollers[i] = try await stage.start("poller-scheduler", pollerEnv(i)) }
            let gatewayEnv = ["POLLER_SOCKET": stage.directory + "/poller-1.sock"]
            var gateway = try await stage.start("bot-gateway", gatewayEnv)

            // Due from 2 s to 14 s from now, in random order.
            let jobs = chats.enumerated().shuffled().map { i, chat in
                Schedule(
                    jobID: "chaos-\(i)", kind: "message", userID: chat, chatID: chat, delayMs: 2000 + Int64(i) * 20,
                    payload: ["text": .string("Chaos \(i)")])
            }
            try await Self.schedule(stage.directory + "/poller-2.sock", jobs)

            // kill -9 a random poller every 1.5-3.5 s, and the gateway twice, for 16 s.
            var pollerKills = 0, gatewayKills = 0
            let end = ContinuousClock.now + .seconds(16)
            var round = 0
            while ContinuousClock.now < end {
                try await Task.sleep(for: .milliseconds(Int64.random(in: 1500...3500)))
                round += 1
                if round == 2 || round == 5 {
                    await gateway.kill9()
                    gatewayKills += 1
                    try await Task.sleep(for: .seconds(1))  // RestartSec
                    gateway = try await stage.start("bot-gateway", gatewayEnv)
                } else {
                    let victim = Int.random(in: 1...3)
                    await pollers[victim]?.kill9()
                    pollerKills += 1
                    pollers[victim] = try await stage.start("poller-scheduler", pollerEnv(victim), wait: false)
                }
            }
            try await stage.telegram.post("/_sim/hostile", #"{"rate":0}"#)

            // Every job is sent, or journaled as a send left uncertain by a kill and skipped (the
            // policy of operator messages): never lost silently, never twice.
            var received: [Int64: [String]] = [:]
            var unaccounted: [Int] = []
            let settled = await eventually(timeout: .seconds(120), every: .milliseconds(500)) {
                received = ((try? await stage.telegram.sentByChat()) ?? [:]).mapValues { $0.map { $0.text ?? "" } }
                unaccounted = []
                for i in 0..<total where received[chats[i]] == nil {
                    if case .done(.uncertainSkipped)? = try? await stage.sendStep(ofJob: "chaos-\(i)") { continue }
                    unaccounted.append(i)
                }
                return unaccounted.isEmpty
            }
            #expect(settled, "\(unaccounted.count) jobs neither received nor skipped as uncertain, e.g. \(unaccounted.prefix(5))")
            try await Task.sleep(for: .seconds(3))  // anything still running would show up now
            received = try await stage.telegram.sentByChat().mapValues { $0.map { $0.text ?? "" } }
            let twice = received.filter { $0.value.count > 1 }
            #expect(twice.isEmpty, "\(twice.count) chats got their message more than once, e.g. \(twice.prefix(3))")
            for (chat, texts) in received {
                #expect(texts == ["Chaos \(chat - 880_000)"], "chat \(chat): \(texts)")
            }
            var skipped = 0
            for i in 0..<total where received[chats[i]] == nil { skipped += 1 }
            // Only a send on the wire at a gateway's kill can be left uncertain.
            #expect(skipped <= gatewayKills * 50, "\(skipped) skipped as uncertain for \(gatewayKills) gateway kills")
            let faults = try await stage.telegram.get("/_sim/hostile")["injected"]?["server_error"]?.int64Value ?? 0
            #expect(faults > 0)
            print(
                "real-gateway chaos: \(total) jobs, \(pollerKills) poller and \(gatewayKills) gateway kills, \(faults) 5xx injected, \(received.count) received once, \(skipped) skipped as uncertain"
            )
        }
    }

    @Test("A poller frozen (SIGSTOP) past JOB_LEASE with a batch in flight: the batch is sent once")
    func frozenPollerPastItsLease() async throws {
        try await Self.withStage(prefix: "chaos-frozen") { stage in
            try await stage.configure(["JOB_LEASE": "3s", "LEADER_LOCK_TTL": "2s", "JOB_RETRY_BASE": "200ms"])
            let chat: Int64 = 881_001
            try await stage.telegram.addUsers([chat])
            let first = try await stage.start(
                "poller-scheduler", ["TOLLGATE_INSTANCE": "poller@1", "POLLER_SOCKET": stage.directory + "/poller-1.sock"])
            _ = try await stage.start("bot-gateway", ["POLLER_SOCKET": stage.directory + "/poller-1.sock"])
            // Ten messages for one chat (Telegram: 1/s): a batch that stays in flight for seconds.
            try await Self.schedule(
                stage.directory + "/poller-1.sock",
                (1...10).map {
                    Schedule(
                        jobID: "frozen-\($0)", kind: "message", userID: chat, chatID: chat, delayMs: 0,
                        payload: ["text": .string("Frozen \($0)")])
                })
            #expect(await eventually(timeout: .seconds(20)) {
                ((try? await stage.telegram.sentByChat()) ?? [:])[chat]?.count ?? 0 >= 1
            })
            // Frozen with the batch in flight, past its lease and the leader lock: a second poller
            // takes over, recovers the leases and delivers the jobs again.
            first.process.signal(SIGSTOP)
            let second = try await stage.start(
                "poller-scheduler", ["TOLLGATE_INSTANCE": "poller@2", "POLLER_SOCKET": stage.directory + "/poller-2.sock"])
            // Frozen until the second poller has taken the leases over (after JOB_LEASE and the
            // leader lock's TTL; however long a loaded machine takes).
            let recoveredWhileFrozen = await eventually(timeout: .seconds(60), every: .milliseconds(250)) {
                ((try? await BothServices.stats(second.socketPath))?["leases_recovered_total"] ?? 0) > 0
            }
            #expect(recoveredWhileFrozen, "the second poller never recovered the frozen one's leases")
            try await Task.sleep(for: .seconds(1))
            first.process.signal(SIGCONT)
            var texts: [String] = []
            #expect(await eventually(timeout: .seconds(60), every: .milliseconds(250)) {
                texts = ((try? await stage.telegram.sentByChat()) ?? [:])[chat]?.map { $0.text ?? "" } ?? []
                return Set(texts).count == 10
            }, "received \(texts)")
            try await Task.sleep(for: .seconds(4))
            texts = try await stage.telegram.sentByChat()[chat]?.map { $0.text ?? "" } ?? []
            #expect(texts.count == 10, "\(texts.count) messages for 10: \(texts)")
            #expect(Set(texts) == Set((1...10).map { "Frozen \($0)" }))
            // Nothing was given up on in the confusion.
            let firstStats = try await BothServices.stats(first.socketPath)
            let secondStats = try await BothServices.stats(second.socketPath)
            #expect(firstStats["jobs_dead_lettered_total"] == 0 && secondStats["jobs_dead_lettered_total"] == 0, "\(firstStats) \(secondStats)")
        }
    }

    @Test("Two gateways handed the same units at once: each message sent once")
    func twoGatewaysOneUnit() async throws {
        try await Self.withStage(prefix: "chaos-two-gw") { stage in
            try await stage.configure([:])
            let chat: Int64 = 882_001
            try await stage.telegram.addUsers([chat])
            let a = try await stage.start("bot-gateway", ["GATEWAY_SOCKET": stage.directory + "/gw-a.sock", "TOLLGATE_INSTANCE": "gateway@a"])
            let b = try await stage.start("bot-gateway", ["GATEWAY_SOCKET": stage.directory + "/gw-b.sock", "TOLLGATE_INSTANCE": "gateway@b"])
            // Six messages for one chat (1/s: the later ones wait seconds for their slot), each
            // delivered to both gateways at once, as a poller would after a lease lapsed.
            let jobs = (1...6).map {
                Delivery(
                    jobID: "two-\($0)", epoch: 1, kind: "message", userID: chat, chatID: chat, attempt: 1, dueAtMs: 0,
                    payload: ["text": .string("Both \($0)")])
            }
            let clientA = IPCClient(path: a.socketPath, logger: quietLogger)
            let clientB = IPCClient(path: b.socketPath, logger: quietLogger)
            var pending = jobs
            var rounds = 0
            var answers: [DeliveryResult.Outcome: Int] = [:]
            while !pending.isEmpty && rounds < 20 {
                rounds += 1
                let frame = Deliver(deliveries: pending, replyWithinMs: 20_000)
                async let fromA = clientA.call(frame, timeout: .seconds(30))
                async let fromB = clientB.call(frame, timeout: .seconds(30))
                let (ra, rb) = try await (fromA, fromB)
                for result in ra.results + rb.results { answers[result.outcome, default: 0] += 1 }
                // A job is done when either gateway says so; the poller would deliver the rest again.
                let done = Set((ra.results + rb.results).filter { [.delivered, .duplicate].contains($0.outcome) }.map(\.jobID))
                pending = pending.filter { !done.contains($0.jobID) }
                if !pending.isEmpty { try await Task.sleep(for: .milliseconds(500)) }
            }
            await clientA.close()
            await clientB.close()
            #expect(pending.isEmpty)
            try await Task.sleep(for: .seconds(2))
            let texts = try await stage.telegram.sentByChat()[chat]?.map { $0.text ?? "" } ?? []
            #expect(texts.count == 6, "\(texts.count) messages for 6: \(texts)")
            #expect(Set(texts) == Set((1...6).map { "Both \($0)" }))
            // The other gateway was told the unit runs elsewhere (retry) or found it done (duplicate).
            #expect((answers[.retry] ?? 0) + (answers[.duplicate] ?? 0) >= 6, "\(answers)")
            let statsA = try await BothServices.stats(a.socketPath)
            let statsB = try await BothServices.stats(b.socketPath)
            let elsewhere = (statsA["flow_units_running_elsewhere_total"] ?? 0) + (statsB["flow_units_running_elsewhere_total"] ?? 0)
            #expect(elsewhere > 0, "the claim turned a concurrent run away: \(statsA) \(statsB)")
        }
    }
}
