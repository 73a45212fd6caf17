import Testing
import TollgateCore
import TollgateIPC
import TollgateJobs
import TollgateTestKit

@Suite(.serialized) struct DispatchTests {
    @Test func dueJobsReachTheGatewayAboutOnTimeAndAreAckedOnce() async throws {
        let cluster = try await PollerCluster()
        // A hundred jobs already due when the poller starts: it must claim them in batches. (Scheduled
        // before the start, so how long scheduling takes on a loaded machine cannot make them fall due
        // one by one.)
        for i in 0..<100 {
            _ = try await cluster.store.schedule(
                JobSpec(
                    id: "bulk-\(i)", kind: "reminder", userID: Int64(1000 + i), chatID: Int64(1000 + i), due: .after(.zero),
                    payload: ["step": .string("r")]))
        }
        try await cluster.start(1)
        // Through the poller's own socket: schedule, list, cancel.
        let ipc = IPCClient(path: cluster.directory + "/poller-1.sock", logger: quiet)
        let soon = try await ipc.call(
            // Due in 5 s: still scheduled when it is listed below, even on a loaded machine.
            Schedule(jobID: "soon", kind: "reminder", userID: 9, chatID: 9, delayMs: 5000, payload: ["step": .string("r")]))
        #expect(soon.created)
        let again = try await ipc.call(
            Schedule(jobID: "soon", kind: "reminder", userID: 9, chatID: 9, delayMs: 5, payload: ["step": .string("r")]))
        #expect(!again.created && again.dueAtMs == soon.dueAtMs)
        _ = try await ipc.call(
            Schedule(jobID: "gone", kind: "message", userID: 9, chatID: 9, delayMs: 60_000, payload: ["text": .string("hi")]))
        #expect(try await ipc.call(UserJobs(userID: 9)).jobs.map(\.jobID) == ["soon", "gone"])
        #expect(try await ipc.call(Cancel(jobID: "gone")).cancelled == 1)
        do {
            _ = try await ipc.call(Schedule(jobID: "bad id", kind: "reminder", userID: 9, chatID: 9, delayMs: 5))
            Issue.record("an invalid job id must be refused")
        } catch {
            #expect(error.code == .invalidRequest)
        }
        let all = await eventually(timeout: .seconds(60)) { cluster.gateway.deliveredCounts.count == 101 }
        #expect(all, "\(cluster.gateway.deliveredCounts.count) delivered\n\(cluster.logs())")
        #expect(cluster.gateway.deliveredCounts.values.allSatisfy { $0 == 1 })
        // The 5 s job was not delivered early. (How late due jobs run — the wake-up is a timer on
        // the due time, not a tick — is measured by `tollgate bench scheduler`, not asserted here.)
        let receipt = try #require(cluster.gateway.receipts.first { $0.jobID == "soon" })
        #expect(receipt.receivedAtMs >= soon.dueAtMs)
        #expect(cluster.gateway.batches < 101)  // due together, delivered in batches
        let drained = await eventually(timeout: .seconds(5)) {
            (try? await cluster.store.depth()) == JobDepth(scheduled: 0, dueNow: 0, leased: 0, dead: 0)
        }
        #expect(drained)
        #expect(try await ipc.call(UserJobs(userID: 9)).jobs.isEmpty)
        let stats = try await cluster.stats(1)
        #expect(stats.counters["jobs_acked_total"] == 101)
        #expect(stats.info["role"] == "leader")
        #expect(stats.gauges["jobs_dead"] == 0 && stats.gauges["jobs_leased"] != nil)
        await ipc.close()
        await cluster.stopAll()
    }

    @Test func whileTheGatewayIsDownJobsWaitWithoutBusyLoopingThenFlow() async throws {
        let cluster = try await PollerCluster(environment: ["GATEWAY_BACKOFF_MAX": "1s"], gatewayRunning: false)
        try await cluster.start(1)
        for i in 0..<30 {
            _ = try await cluster.store.schedule(
                JobSpec(
                    id: "wait-\(i)", kind: "reminder", userID: 1, chatID: 1, due: .after(.zero), payload: ["step": .string("r")],
                    maxAttempts: 1))
        }
        try await Task.sleep(for: .seconds(3))
        let during = try await cluster.stats(1)
        #expect((during.counters["gateway_failures_total"] ?? 0) >= 1)
        // Capped backoff: a handful of probes in 3 s, not thousands of claims.
        #expect((during.counters["jobs_claims_total"] ?? 0) < 60)
        #expect(during.info["gateway"] == "unreachable")
        // Nothing lost, nothing dead-lettered (the attempt is not counted when the gateway is away).
        let depth = try await cluster.store.depth()
        #expect(depth.dead == 0 && depth.scheduled + depth.leased == 30)
        try await cluster.gateway.start()
        let all = await eventually(timeout: .seconds(15)) { cluster.gateway.deliveredCounts.count == 30 }
        #expect(all, "\(cluster.logs())")
        #expect(cluster.gateway.receipts.allSatisfy { $0.attempt == 1 })
        let drained = await eventually(timeout: .seconds(5)) {
            (try? await cluster.store.depth()) == JobDepth(scheduled: 0, dueNow: 0, leased: 0, dead: 0)
        }
        #expect(drained)
        await cluster.stopAll()
    }

    @Test func gatewayOutcomesRetryAndDeadLetter() async throws {
        let cluster = try await PollerCluster(environment: ["JOB_RETRY_BASE": "50ms", "JOB_RETRY_CAP": "200ms"])
        cluster.gateway.setAnswer { d in
            switch d.payload["step"] {
            case .string("fail"): DeliveryResult(jobID: d.jobID, outcome: .failed, detail: "unknown step")
            case .string("retry") where d.attempt < 3: DeliveryResult(jobID: d.jobID, outcome: .retry, retryAfterMs: 100)
            case .string("never"): DeliveryResult(jobID: d.jobID, outcome: .retry, detail: "flood")
            default: DeliveryResult(jobID: d.jobID, outcome: .delivered)
            }
        }
        try await cluster.start(1)
        let store = cluster.store
        _ = try await store.schedule(
            JobSpec(id: "f", kind: "reminder", userID: 1, chatID: 1, due: .after(.zero), payload: ["step": .string("fail")]))
        _ = try await store.schedule(
            JobSpec(id: "r", kind: "reminder", userID: 1, chatID: 1, due: .after(.zero), payload: ["step": .string("retry")]))
        _ = try await store.schedule(
            JobSpec(
                id: "n", kind: "reminder", userID: 1, chatID: 1, due: .after(.zero), payload: ["step": .string("never")],
                maxAttempts: 2))
        let settled = await eventually(timeout: .seconds(15)) {
            (try? await store.depth()) == JobDepth(scheduled: 0, dueNow: 0, leased: 0, dead: 2)
        }
        #expect(settled, "\(cluster.logs())")
        let dead = try await store.deadLetters().sorted { $0.jobID < $1.jobID }
        #expect(dead.map(\.jobID) == ["f", "n"])
        #expect(dead.map(\.reason) == ["failed: unknown step", "retry: flood (attempt 2 of 2)"])
        #expect(cluster.gateway.receipts.filter { $0.jobID == "r" }.map(\.attempt) == [1, 2, 3])
        #expect(cluster.gateway.deliveredCounts["r"] == 1)
        await cluster.stopAll()
    }
}

@Suite(.serialized) struct RedisRestartTests {
    @Test func redisKilledAndRestartedWithAOFLosesNoJob() async throws {
        let cluster = try await PollerCluster(environment: ["LEADER_LOCK_TTL": "2s", "JOB_LEASE": "3s"], appendOnly: true)
        for i in 1...2 { try await cluster.start(i) }
        let base = WallClock.epochMilliseconds() + 500
        for i in 0..<600 {
            _ = try await cluster.store.schedule(
                JobSpec(
                    id: "aof-\(i)", kind: "reminder", userID: Int64(i), chatID: Int64(i),
                    due: .at(milliseconds: base + Int64(i) * 5), payload: ["step": .string("r")]))
        }
        try await Task.sleep(for: .milliseconds(1500))
        cluster.redis.kill9()  // the AOF (appendfsync always) has every acknowledged write
        try await Task.sleep(for: .milliseconds(500))
        try cluster.redis.start()
        let all = await eventually(timeout: .seconds(30)) { cluster.gateway.deliveredCounts.count == 600 }
        #expect(all, "\(cluster.gateway.deliveredCounts.count) of 600 delivered\n\(cluster.logs())")
        let drained = await eventually(timeout: .seconds(15)) {
            (try? await cluster.store.depth()) == JobDepth(scheduled: 0, dueNow: 0, leased: 0, dead: 0)
        }
        #expect(drained)
        await cluster.stopAll()
    }
}
