import Foundation
import Logging
import TollgateCore
import TollgateIPC
import TollgateJobs
import TollgateRedis
import TollgateTestKit

/// `tollgate bench scheduler`: real poller-scheduler processes (1, then 3) on a private
/// redis-server, delivering to an in-process stand-in gateway.
///
/// Figures per instance count: scheduling rate (jobs/s stored through `JobStore.schedule` on 8
/// connections), lateness p50/p99/max (stand-in receipt time minus due time, both wall clock of
/// this machine — the Redis clock is the same clock here) for N jobs due evenly over a window
/// (100,000 over 10 s = 10,000 jobs/s; `--quick`: 10,000 over 1 s), the sustained and burst
/// end-to-end dispatch rates, duplicates (jobs the stand-in was sent more than once), and each
/// instance's peak RSS (VmHWM).
struct SchedulerBenchmark: Benchmark {
    static let name = "scheduler"
    static let summary = "delayed jobs: scheduling rate, dispatch rate, lateness p50/p99/max, duplicates, RSS (1 and 3 instances)"

    func run(_ options: BenchOptions, _ output: BenchOutput) async throws -> [String: JSONValue] {
        let jobs = options.quick ? 10_000 : 100_000
        let window: Duration = options.quick ? .seconds(1) : .seconds(10)
        setenv("TOLLGATE_BIN_DIR", options.binariesDirectory, 1)
        var results: [String: JSONValue] = [
            "jobs": .number(Double(jobs)), "window_s": .number(window.seconds),
            "target": .string("lateness p99 <= 50 ms at 10,000 jobs/s, 0 duplicates, RSS <= 50 MB per instance"),
        ]
        for instances in [1, 3] {
            output.line("-- \(instances) instance(s): \(jobs) jobs due over \(window)")
            let figures = try await runOnce(
                instances: instances, jobs: jobs, window: window, output: output,
                samplesFile: "\(options.outputDirectory)/scheduler-lateness-\(instances).csv")
            results["instances_\(instances)"] = .object(figures)
        }
        return results
    }

    private func runOnce(instances: Int, jobs: Int, window: Duration, output: BenchOutput, samplesFile: String) async throws
        -> [String: JSONValue]
    {
        let redis = try RedisServer()
        defer { redis.stop() }
        let dir = TestNetwork.temporaryDirectory(prefix: "bench-sched")
        let gateway = StandInGateway(path: dir + "/gateway.sock")
        try await gateway.start()
        var quiet = Logger(label: "bench-scheduler")
        quiet.logLevel = .critical
        var pollers: [ServiceProcess] = []
        for i in 1...instances {
            let env = ServiceProcess.environment(
                redisURL: redis.url, directory: dir,
                extra: [
                    "LOG_LEVEL": "warning", "TOLLGATE_INSTANCE": "poller@\(i)", "POLLER_SOCKET": dir + "/poller-\(i).sock",
                    "POLLER_HTTP": "off", "GATEWAY_SOCKET": gateway.path,
                ])
            let p = try ServiceProcess("poller-scheduler", environment: env, logPath: dir + "/poller-\(i).log")
            pollers.append(p)
        }
        for p in pollers { try await p.waitUntilReady() }
        let url = RedisURL(endpoint: .tcp(host: "127.0.0.1", port: redis.port))
        let clients = (0..<8).map { RedisClient(url: url, name: "bench-\($0)", logger: quiet) }
        let stores = clients.map { JobStore(redis: .client($0), keys: KeySpace()) }

        // Warm-up: estimates the scheduling rate, so the due window starts after scheduling ends.
        let far = WallClock.epochMilliseconds() + 3_600_000
        let warm = try await schedule(stores, count: 4000, prefix: "warm") { _ in far }
        _ = try await stores[0].cancel(userID: 0)
        let leadIn = Duration.seconds(Double(jobs) / warm.rate * 1.5 + 1.5)

        // 1. Jobs due evenly over the window: scheduling rate, lateness, sustained dispatch rate.
        let start = WallClock.epochMilliseconds() + leadIn.milliseconds
        let stepMicros = Double(window.milliseconds) * 1000 / Double(jobs)
        let spread = try await schedule(stores, count: jobs, prefix: "spread") { i in
            start + Int64(Double(i) * stepMicros / 1000)
        }
        output.line(String(format: "scheduling: %d jobs in %.2f s = %.0f jobs/s", jobs, spread.seconds, spread.rate))
        if WallClock.epochMilliseconds() > start {
            output.line("warning: scheduling ended after the first job fell due; lateness includes the overlap")
        }
        let spreadDone = await waitForDeliveries(gateway, before: 0, count: jobs, timeout: window + leadIn + .seconds(60))
        let spreadReceipts = gateway.receipts.filter { $0.jobID.hasPrefix("spread") }
        let lateness = Percentiles(
            firstReceipts(spreadReceipts).map { Double($0.receivedAtMs - $0.dueAtMs) })
        // Every job's lateness, for the report's distribution plot.
        try ("lateness_ms\n" + lateness.sorted.map { String(Int($0)) }.joined(separator: "\n") + "\n")
            .write(toFile: samplesFile, atomically: true, encoding: .utf8)
        let lastSpread = spreadReceipts.map(\.receivedAtMs).max() ?? start
        let sustained = Double(spreadDone) / max(0.001, Double(lastSpread - start) / 1000)
        output.line(
            String(
                format: "lateness: p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d delivered); sustained %.0f jobs/s",
                lateness.p50, lateness.p99, lateness.max, spreadDone, sustained))

        // 2. A burst: the same number of jobs all due at one instant.
        let burstStart = WallClock.epochMilliseconds() + leadIn.milliseconds
        _ = try await schedule(stores, count: jobs, prefix: "burst") { _ in burstStart }
        let burstDone = await waitForDeliveries(gateway, before: spreadDone, count: jobs, timeout: leadIn + .seconds(120))
        let burstReceipts = gateway.receipts.filter { $0.jobID.hasPrefix("burst") }
        let lastBurst = burstReceipts.map(\.receivedAtMs).max() ?? burstStart
        let burstRate = Double(burstDone) / max(0.001, Double(lastBurst - burstStart) / 1000)
        output.line(String(format: "burst: %d jobs due at once delivered at %.0f jobs/s", burstDone, burstRate))

        let all = gateway.receipts
        let duplicates = all.count - Set(all.map(\.jobID)).count
        var rss: [JSONValue] = []
        var rssText: [String] = []
        for p in pollers {
            let mib = (Double(ProcessStats.peakRSSKiB(pid: p.pid) ?? 0) / 1024 * 10).rounded() / 10
            rss.append(.number(mib))
            rssText.append(String(format: "%.1f", mib))
        }
        output.line("duplicates: \(duplicates); peak RSS per instance (MiB): \(rssText.joined(separator: ", "))")
        for p in pollers { await p.stop() }
        for client in clients { await client.close() }
        await gateway.stop()
        return [
            "scheduling_jobs_per_s": .number(spread.rate.rounded()),
            "lateness_ms": lateness.json(digits: 1),
            "delivered": .number(Double(spreadDone)),
            "sustained_dispatch_jobs_per_s": .number(sustained.rounded()),
            "burst_dispatch_jobs_per_s": .number(burstRate.rounded()),
            "burst_delivered": .number(Double(burstDone)),
            "duplicates": .number(Double(duplicates)),
            "deliver_batches": .number(Double(gateway.batches)),
            "peak_rss_mib": .array(rss),
        ]
    }

    /// Schedules `count` jobs `<prefix>-<i>` due at `due(i)` over all `stores` at once.
    private func schedule(_ stores: [JobStore], count: Int, prefix: String, due: @escaping @Sendable (Int) -> Int64)
        async throws -> (seconds: Double, rate: Double)
    {
        let began = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (lane, store) in stores.enumerated() {
                group.addTask {
                    var i = lane
                    while i < count {
                        _ = try await store.schedule(
                            JobSpec(
                                id: "\(prefix)-\(i)", kind: "reminder", userID: prefix == "warm" ? 0 : Int64(1 + i % 1000),
                                chatID: Int64(1 + i % 1000), due: .at(milliseconds: due(i)), payload: ["step": .string("reminder")]))
                        i += stores.count
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = (ContinuousClock.now - began).seconds
        return (seconds, Double(count) / seconds)
    }

    /// Waits until the stand-in has delivered `count` more jobs than `before`; returns how many it did.
    private func waitForDeliveries(_ gateway: StandInGateway, before: Int, count: Int, timeout: Duration) async -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, gateway.deliveredTotal - before < count {
            try? await Task.sleep(for: .milliseconds(100))
        }
        return gateway.deliveredTotal - before
    }

    private func firstReceipts(_ receipts: [StandInGateway.Receipt]) -> [StandInGateway.Receipt] {
        var seen = Set<String>()
        return receipts.filter { seen.insert($0.jobID).inserted }
    }
}
