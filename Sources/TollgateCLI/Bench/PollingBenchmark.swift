import Foundation
import Logging
import Synchronization
import TollgateCoordination
import TollgateCore
import TollgateHTTP
import TollgateIPC
import TollgateNocoDB
import TollgatePayments
import TollgateRedis
import TollgateTestKit

/// `tollgate bench polling`: seed 000's table, measured. For 100 / 1,000 / 10,000 / 100,000
/// watched users: NocoDB requests per cycle for per-user polling (the seed's baseline, computed),
/// batch mode and delta mode (measured against the simulator's cloud limit, run as its own
/// process), payment-detection latency p50/p99 from the row's flip to the hand-over of the
/// `payment_confirmed` job to the job store, 429s, and the peak RSS of the process running the
/// payments component.
struct PollingBenchmark: Benchmark {
    static let name = "polling"
    static let summary =
        "payment watching at 100..100,000 users: requests per cycle (per-user, batch, delta), detection latency, 429s, RSS"

    static let token = "123456:TEST-nocodb-token"

    func run(_ options: BenchOptions, _ output: BenchOutput) async throws -> [String: JSONValue] {
        let sizes = options.quick ? [100, 1000] : [100, 1000, 10_000, 100_000]
        let simulator = options.binariesDirectory + "/tollgate"
        guard FileManager.default.isExecutableFile(atPath: simulator) else {
            throw BenchError("\(simulator) not found (build the tollgate product, or pass --bin)")
        }
        var rows: [JSONValue] = []
        var table: [String] = []
        table.append("users    mode   req/cycle (per-user)  cycle s  latency p50/p99 s  429s  max/1s window  peak RSS MiB")
        for users in sizes {
            for mode in [PaymentsConfig.Mode.batch, .delta] {
                output.line("-- \(users) watched users, \(mode.rawValue) mode")
                let figures = try await Self.measure(users: users, mode: mode, simulator: simulator, options, output)
                rows.append(.object(figures.json))
                table.append(figures.line)
                output.line(figures.line)
            }
        }
        output.line("")
        table.forEach(output.line)
        output.line(
            "latency: from the row's UpdatedAt (flip) to PaymentOutcomes.confirmPayment (hand-over to the job store); "
                + "delta in steady state (cursor present), batch with the default adaptive cadence, all watches new, "
                + "watched by record id")
        return [
            "runs": .array(rows),
            "rate_limit": .string(RateLimitPolicy.perWindow(5).description),
            "latency_endpoint": .string("hand-over of payment_confirmed to the job store (PaymentOutcomes.confirmPayment)"),
            "rss_scope": .string("the bench process: payments component and harness; simulator and redis-server are separate processes"),
        ]
    }

    struct Figures {
        var users: Int
        var mode: PaymentsConfig.Mode
        var requestsPerCycle: Double
        var cycleSeconds: Double
        var latency: Percentiles
        var flips: Int
        var missed: Int
        var throttled: Int
        var maxFixed: Int
        var maxSliding: Int
        var requests: Int
        var peakRSSKiB: Int

        var json: [String: JSONValue] {
            [
                "users": .number(Double(users)), "mode": .string(mode.rawValue),
                "per_user_requests_per_cycle": .number(Double(users)),
                "per_user_rps_at_60s": .number((Double(users) / 60 * 100).rounded() / 100),
                "requests_per_cycle": .number((requestsPerCycle * 100).rounded() / 100),
                "cycle_s": .number((cycleSeconds * 10).rounded() / 10),
                "detection_latency_ms": latency.json(digits: 0), "flips": .number(Double(flips)),
                "missed": .number(Double(missed)), "nocodb_429": .number(Double(throttled)),
                "sim_max_per_fixed_window": .number(Double(maxFixed)),
                "sim_max_per_sliding_window": .number(Double(maxSliding)),
                "nocodb_requests": .number(Double(requests)),
                "peak_rss_mib": .number((Double(peakRSSKiB) / 1024 * 10).rounded() / 10),
            ]
        }

        var line: String {
            func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
            let lat = String(format: "%.1f / %.1f", latency.p50 / 1000, latency.p99 / 1000)
            return pad("\(users)", 9) + pad(mode.rawValue, 7)
                + pad(String(format: "%.1f (%d)", requestsPerCycle, users), 22) + pad(String(format: "%.1f", cycleSeconds), 9)
                + pad(lat + (missed > 0 ? " (\(missed) missed)" : ""), 19) + pad("\(throttled)", 6)
                + pad("\(maxFixed) fixed, \(maxSliding) sliding", 20) + String(format: "%.1f", Double(peakRSSKiB) / 1024)
        }
    }

    /// Hands confirmations over (and records when), as the job store adapter would.
    final class Recorder: PaymentOutcomes {
        let confirmed = Mutex<[Int64: Int64]>([:])
        func confirmPayment(_ c: PaymentConfirmation) async throws {
            let now = WallClock.epochMilliseconds()
            confirmed.withLock { map in if map[c.watch.userID] == nil { map[c.watch.userID] = now } }
        }
        func cancelReminders(userID: Int64) async throws {}
        func expirePayment(_ watch: PaymentWatch) async throws {}
    }

    /// This process always leads.
    struct Leader: Leadership {
        var currentTerm: LeaderTerm? { LeaderTerm(holder: "bench", token: 1) }
        func waitForChange(from term: LeaderTerm?) async {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        }
    }

    static func measure(
        users: Int, mode: PaymentsConfig.Mode, simulator: String, _ options: BenchOptions, _ output: BenchOutput
    ) async throws -> Figures {
        let logger = Logger(label: "bench-polling") { _ in SwiftLogNoOpLogHandler() }
        let redis = try RedisServer()
        defer { redis.stop() }
        let port = TestNetwork.freePort()
        let sim = try ChildProcess(
            simulator, ["sim", "nocodb", "--port", "\(port)", "--seed", "\(users)", "--log-level", "warning"],
            output: "\(options.outputDirectory)/polling-sim-\(users)-\(mode.rawValue).log")
        defer { sim.stop() }
        let up = await offPool { TestNetwork.waitUntil(timeout: .seconds(60)) { TestNetwork.isListening(port: port) } }
        guard up else { throw BenchError("the NocoDB simulator did not start") }
        let base = "http://127.0.0.1:\(port)"
        let redisURL = try RedisURL(redis.url)
        let keys = KeySpace(prefix: "bench")
        let http = HTTPClient(name: "nocodb", logger: logger)
        var clientOptions = NocoDBClient.Options()
        clientOptions.requestLogLevel = .trace
        let nocodb = NocoDBClient(
            config: NocoDBConfig(baseURL: base, token: Secret(token), tableID: "users", options: clientOptions), http: http,
            limiter: RedisRateLimiter(client: RedisClient(url: redisURL, name: "limiter", logger: logger), keys: keys, logger: logger),
            logger: logger)
        var config = PaymentsConfig(nocodb: nocodb.config)
        config.mode = mode
        let store = PaymentWatchStore(redis: .client(RedisClient(url: redisURL, name: "poller", logger: logger)), keys: keys)

        // Delta in steady state: the cursor exists and the watches' safety checks are not due.
        let firstCheck: Duration = mode == .batch ? .zero : .seconds(3600)
        if mode == .delta {
            config.sweepInterval = .seconds(3600)
            let latest = try await nocodb.list(NocoDBQuery(limit: 1, sort: [.descending("UpdatedAt")], fields: ["Id", "UpdatedAt"]))
            try await store.setCursor((latest.list.first?.updatedAtMs ?? 0) + config.deltaOverlap.milliseconds)
        }
        let clock = ContinuousClock()
        let seeding = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<8 {
                group.addTask {
                    let laneStore = PaymentWatchStore(
                        redis: .client(RedisClient(url: redisURL, name: "seed-\(lane)", logger: logger)), keys: keys)
                    // By record id, as the gateway registers them after find-or-create.
                    for index in stride(from: lane, to: users, by: 8) {
                        _ = try await laneStore.watch(
                            WatchPayment(
                                userID: Int64(index + 1), chatID: Int64(index + 1), recordID: Int64(index + 1),
                                telegramID: "\(1_000_000 + index)"),
                            defaultExpiry: .seconds(48 * 3600), firstCheckDelay: firstCheck)
                    }
                }
            }
            try await group.waitForAll()
        }
        output.line("   \(users) watches registered in \(String(format: "%.1f", (clock.now - seeding).seconds)) s")

        let recorder = Recorder()
        let poller = PaymentPoller(
            store: store, nocodb: nocodb, outcomes: recorder, leadership: Leader(), config: config, logger: logger)
        let setupRequests = nocodb.counters.total  // the cursor look-up above is not the poller's
        let running = Task { try await poller.run() }
        defer { running.cancel() }
        let started = clock.now

        // One cycle: a full pass over the watches (batch), or three delta cycles.
        let cycleLimit = Duration.seconds(Double(users) / 100 / 3 + 120)
        while clock.now - started < cycleLimit {
            let s = poller.stats.snapshot
            if mode == .batch ? s.batchedWatches >= users : s.deltaCycles >= 3 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let cycleElapsed = (clock.now - started).seconds
        let snapshot = poller.stats.snapshot
        let pollRequests = Double(nocodb.counters.total - setupRequests)
        let requestsPerCycle = mode == .batch ? pollRequests : pollRequests / Double(max(1, snapshot.deltaCycles))
        // Delta: the first cycle runs at once, so n cycles span n - 1 periods.
        let cycleSeconds = mode == .batch ? cycleElapsed : cycleElapsed / Double(max(1, snapshot.deltaCycles - 1))
        output.line(String(format: "   cycle: %.1f requests in %.1f s", requestsPerCycle, cycleSeconds))

        // Flips spread over a window, each timed by the simulator's UpdatedAt.
        let flips = min(200, max(10, users / 10))
        let window = mode == .batch ? max(10, min(cycleSeconds, 120)) : 15
        var rng = SystemRandomNumberGenerator()
        let chosen = Array((1...users).shuffled(using: &rng).prefix(flips))
        let control = HTTPClient(name: "sim-control", logger: logger)
        var flippedAt: [Int64: Int64] = [:]
        for (n, id) in chosen.enumerated() {
            let response = try await control.execute(HTTPRequest(method: "POST", url: "\(base)/_sim/tables/users/rows/\(id)/paid"))
            struct Flip: Decodable { var updated_at_ms: Int64 }
            flippedAt[Int64(id)] = try response.decode(Flip.self).updated_at_ms
            let next = started + .seconds(cycleElapsed) + .seconds(window * Double(n + 1) / Double(flips))
            if clock.now < next { try await Task.sleep(until: next, clock: clock) }
        }
        let deadline = clock.now + .seconds(max(60, 2 * cycleSeconds + 30))
        while clock.now < deadline {
            if recorder.confirmed.withLock({ $0.count }) >= flips { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        running.cancel()
        _ = try? await running.value
        let confirmed = recorder.confirmed.withLock { $0 }
        let latencies = flippedAt.compactMap { user, at in confirmed[user].map { Double($0 - at) } }
        let statsResponse = try await control.execute(.get("\(base)/_sim/stats"))
        struct SimStats: Decodable {
            var throttled: Int
            var max_per_fixed_window: Int
            var max_per_sliding_window: Int
            var timeline: [Int]
        }
        let simStats = try statsResponse.decode(SimStats.self)
        // Requests per second as the simulator saw them, for the report's plot.
        let csv = "second,requests\n" + simStats.timeline.enumerated().map { "\($0.offset),\($0.element)" }.joined(separator: "\n") + "\n"
        try csv.write(
            toFile: "\(options.outputDirectory)/polling-timeline-\(users)-\(mode.rawValue).csv", atomically: true, encoding: .utf8)
        control.shutdown()
        http.shutdown()
        return Figures(
            users: users, mode: mode, requestsPerCycle: requestsPerCycle, cycleSeconds: cycleSeconds,
            latency: Percentiles(latencies), flips: flips, missed: flips - latencies.count, throttled: simStats.throttled,
            maxFixed: simStats.max_per_fixed_window, maxSliding: simStats.max_per_sliding_window,
            requests: nocodb.counters.total - setupRequests, peakRSSKiB: ProcessStats.peakRSSKiB(pid: getpid()) ?? 0)
    }
}
