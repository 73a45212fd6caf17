import Testing
import TollgateIPC
import TollgateJobs
import TollgateRedis
import TollgateTestKit

@Suite struct JobStoreTests {
    @Test func scheduleIsIdempotentByIDDedupeKeyAndAfterCompletion() async throws {
        let fx = try JobsFixture()
        let store = fx.store()
        let first = try await store.schedule(reminder("r-1", due: .after(.seconds(60))))
        #expect(first.created)
        let again = try await store.schedule(reminder("r-1", due: .after(.seconds(1))))
        #expect(again == ScheduleOutcome(jobID: "r-1", created: false, dueAtMs: first.dueAtMs))

        // Dedupe key: a second job with another id but the same key is not stored.
        let keyed = try await store.schedule(reminder("r-2", dedupe: "welcome:1"))
        let dupe = try await store.schedule(reminder("r-3", dedupe: "welcome:1"))
        #expect(keyed.created && !dupe.created && dupe.jobID == "r-2")

        // Completed within the retention window: still not scheduled again.
        let batch = try await store.claim(limit: 10, lease: .seconds(30), worker: "w")
        #expect(batch.jobs.map(\.id) == ["r-2"])
        #expect(try await store.ack("r-2", epoch: batch.epoch) == .done)
        let afterDone = try await store.schedule(reminder("r-2"))
        #expect(!afterDone.created)
        // The dedupe key is free again once its job completed.
        let freed = try await store.schedule(reminder("r-4", dedupe: "welcome:1"))
        #expect(freed.created)

        // Generated ids are distinct.
        let a = try await store.schedule(reminder())
        let b = try await store.schedule(reminder())
        #expect(a.created && b.created && a.jobID != b.jobID)
        await fx.close()
    }

    @Test func retentionWindowEnds() async throws {
        let fx = try JobsFixture()
        // Within the window a completed id is remembered...
        let remembering = fx.store(settings: .init(retention: .seconds(60)))
        _ = try await remembering.schedule(reminder("long"))
        let first = try await remembering.claim(limit: 1, lease: .seconds(30), worker: "w")
        #expect(try await remembering.ack("long", epoch: first.epoch) == .done)
        #expect(try await !remembering.schedule(reminder("long")).created)
        // ...and after it, forgotten (a 1 ms window has surely passed after 200 ms).
        let forgetting = fx.store(settings: .init(retention: .milliseconds(1)))
        _ = try await forgetting.schedule(reminder("short"))
        let second = try await forgetting.claim(limit: 1, lease: .seconds(30), worker: "w")
        #expect(try await forgetting.ack("short", epoch: second.epoch) == .done)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await forgetting.schedule(reminder("short")).created)
        await fx.close()
    }

    @Test func invalidSpecsAreRefusedBeforeRedis() async throws {
        let fx = try JobsFixture()
        let store = fx.store()
        for spec in [
            reminder("bad id with spaces"), JobSpec(kind: "poem", userID: 1, chatID: 1, due: .after(.zero)),
            reminder("x", max: 0),
        ] {
            do {
                _ = try await store.schedule(spec)
                Issue.record("\(spec) must be refused")
            } catch {
                #expect(error.code == .invalidJob)
            }
        }
        #expect(try await store.depth() == JobDepth(scheduled: 0, dueNow: 0, leased: 0, dead: 0))
        await fx.close()
    }

    @Test func concurrentClaimersTakeEachJobExactlyOnce() async throws {
        let claimers = 8
        let fx = try JobsFixture(clients: claimers + 1)
        let total = 3000
        let loader = fx.store(claimers)
        for chunk in stride(from: 0, to: total, by: 100) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in chunk..<min(chunk + 100, total) {
                    group.addTask { _ = try await loader.schedule(reminder("job-\(i)", user: Int64(i % 50))) }
                }
                try await group.waitForAll()
            }
        }
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for c in 0..<claimers {
                let store = fx.store(c)
                group.addTask {
                    var mine: [String] = []
                    while true {
                        let batch = try await store.claim(limit: 37, lease: .seconds(60), worker: "w\(c)")
                        if batch.jobs.isEmpty { return mine }
                        mine += batch.jobs.map(\.id)
                        let statuses = try await store.complete(batch.jobs.map { ($0.id, .ack) }, epoch: batch.epoch)
                        #expect(statuses.allSatisfy { $0 == .done })
                    }
                }
            }
            var all: [[String]] = []
            for try await ids in group { all.append(ids) }
            return all
        }
        let flat = claimed.flatMap { $0 }
        #expect(flat.count == total)
        #expect(Set(flat).count == total)
        #expect(claimed.filter { !$0.isEmpty }.count > 1)  // the work really was shared
        #expect(try await loader.depth() == JobDepth(scheduled: 0, dueNow: 0, leased: 0, dead: 0))
        await fx.close()
    }

    @Test func expiredLeasesAreRecoveredAndTheStaleWorkersAckIsRefused() async throws {
        let fx = try JobsFixture()
        let store = fx.store()
        _ = try await store.schedule(reminder("lapse"))
        let stale = try await store.claim(limit: 10, lease: .seconds(60), worker: "frozen")
        #expect(stale.jobs.count == 1 && stale.jobs[0].attempt == 1)
        // Not yet expired: nothing to recover.
        #expect(try await store.recoverExpiredLeases().recovered == 0)
        // The holder freezes: its lease runs out (shortened here instead of waiting a minute).
        #expect(try await store.extend(["lapse"], epoch: stale.epoch, lease: .milliseconds(1)).isEmpty)
        try await Task.sleep(for: .milliseconds(100))
        let recovery = try await store.recoverExpiredLeases()
        #expect(recovery.recovered == 1 && recovery.deadLettered == 0 && recovery.nextExpiryMs == nil)
        // A second (concurrent) recoverer finds nothing more.
        #expect(try await store.recoverExpiredLeases().recovered == 0)
        // The stale holder can neither ack nor extend.
        #expect(try await store.ack("lapse", epoch: stale.epoch) == .stale)
        #expect(try await store.extend(["lapse"], epoch: stale.epoch, lease: .seconds(30)) == ["lapse"])
        let fresh = try await store.claim(limit: 10, lease: .seconds(30), worker: "alive")
        #expect(fresh.jobs.map(\.id) == ["lapse"] && fresh.jobs[0].attempt == 2 && fresh.epoch > stale.epoch)
        #expect(try await store.ack("lapse", epoch: stale.epoch) == .stale)
        #expect(try await store.ack("lapse", epoch: fresh.epoch) == .done)
        #expect(try await store.ack("lapse", epoch: fresh.epoch) == .missing)
        await fx.close()
    }

    @Test func extendKeepsALeaseAlive() async throws {
        let fx = try JobsFixture()
        let store = fx.store()
        _ = try await store.schedule(reminder("kept"))
        _ = try await store.schedule(reminder("dropped"))
        // Both leases are 200 ms; only "kept" is extended (to a minute) before anyone recovers.
        let batch = try await store.claim(limit: 2, lease: .milliseconds(200), worker: "w")
        #expect(Set(batch.jobs.map(\.id)) == ["kept", "dropped"])
        #expect(try await store.extend(["kept"], epoch: batch.epoch, lease: .seconds(60)).isEmpty)
        // A wrong epoch extends nothing.
        #expect(try await store.extend(["dropped"], epoch: batch.epoch + 1, lease: .seconds(60)) == ["dropped"])
        // Well past the original lease (waiting longer only makes "dropped" more expired).
        try await Task.sleep(for: .milliseconds(400))
        let recovery = try await store.recoverExpiredLeases()
        #expect(recovery.recovered == 1 && recovery.deadLettered == 0)
        #expect(try await store.ack("kept", epoch: batch.epoch) == .done)
        #expect(try await store.ack("dropped", epoch: batch.epoch) == .stale)
        // Once recovered, the lapsed holder cannot extend it back either.
        #expect(try await store.extend(["dropped"], epoch: batch.epoch, lease: .seconds(60)) == ["dropped"])
        await fx.close()
    }

    @Test func lapsedLeaseOnTheLastAttemptIsDeadLettered() async throws {
        let fx = try JobsFixture()
        let store = fx.store()
        _ = try await store.schedule(reminder("poison", max: 1))
        _ = try await store.claim(limit: 1, lease: .milliseconds(100), worker: "crashing")
        try await Task.sleep(for: .milliseconds(250))
        let recovery = try await store.recoverExpiredLeases()
        #expect(recovery.recovered == 0 && recovery.deadLettered == 1)
        let dead = try await store.deadLetters()
        #expect(dead.map(\.jobID) == ["poison"])
        #expect(dead.first?.reason == "lease expired on attempt 1 of 1")
        #expect(try await store.jobs(ofUser: 1).isEmpty)
        #expect(try await !store.schedule(reminder("poison")).created)
        await fx.close()
    }

    @Test func retryBacksOffThenDeadLettersAfterMaxAttempts() async throws {
        let fx = try JobsFixture()
        let store = fx.store()
        let policy = RetryPolicy(base: .milliseconds(100), cap: .seconds(1))
        _ = try await store.schedule(reminder("flaky", max: 2))
        let first = try await store.claim(limit: 1, lease: .seconds(30), worker: "w")
        let job = try #require(first.jobs.first)
        let answer = DeliveryResult(jobID: "flaky", outcome: .retry, retryAfterMs: 500, detail: "flood limit")
        let decision = policy.completion(for: answer, job: job, unit: 0)
        #expect(decision == .retry(after: .milliseconds(500), reason: "flood limit"))
        #expect(try await store.complete([("flaky", decision)], epoch: first.epoch) == [.done])
        let listed = try await store.jobs(ofUser: 1)
        #expect(listed.count == 1 && listed[0].state == .scheduled && listed[0].attempts == 1)
        let dueAt = try #require(listed.first?.dueAtMs)
        #expect(dueAt >= first.serverNowMs + 500)
        // Not handed out before retry_after, judged by the server's clock (this test may be paused
        // for any length of time between two calls, so the claim may also come after it).
        var second = try await store.claim(limit: 1, lease: .seconds(30), worker: "w")
        while second.jobs.isEmpty {
            #expect(second.serverNowMs < dueAt)
            try await Task.sleep(for: .milliseconds(100))
            second = try await store.claim(limit: 1, lease: .seconds(30), worker: "w")
        }
        #expect(second.serverNowMs >= dueAt)
        let again = try #require(second.jobs.first)
        #expect(again.attempt == 2)
        let final = policy.completion(for: answer, job: again, unit: 0)
        #expect(final == .deadLetter(reason: "retry: flood limit (attempt 2 of 2)"))
        #expect(try await store.complete([("flaky", final)], epoch: second.epoch) == [.done])
        let dead = try await store.deadLetters()
        #expect(dead.count == 1 && dead[0].reason == "retry: flood limit (attempt 2 of 2)" && dead[0].attempts == 2)
        #expect(try await store.depth() == JobDepth(scheduled: 0, dueNow: 0, leased: 0, dead: 1))
        await fx.close()
    }

    @Test func failedOutcomeDeadLettersAndReleaseDoesNotCountTheAttempt() async throws {
        let fx = try JobsFixture()
        let store = fx.store()
        _ = try await store.schedule(reminder("a", max: 1))
        _ = try await store.schedule(reminder("b", max: 1))
        let batch = try await store.claim(limit: 2, lease: .seconds(30), worker: "w")
        #expect(batch.jobs.count == 2)
        let statuses = try await store.complete(
            [("a", .deadLetter(reason: "failed: unknown kind")), ("b", .release)], epoch: batch.epoch)
        #expect(statuses == [.done, .done])
        let again = try await store.claim(limit: 2, lease: .seconds(30), worker: "w")
        #expect(again.jobs.map(\.id) == ["b"])
        #expect(again.jobs[0].attempt == 1)  // the released attempt did not count
        #expect(again.jobs[0].dueAtMs == batch.jobs.first { $0.id == "b" }?.dueAtMs)
        #expect(try await store.deadLetters().map(\.reason) == ["failed: unknown kind"])
        await fx.close()
    }

    @Test func cancelRacingClaimLeavesEveryJobEitherCancelledOrDeliveredOnce() async throws {
        let fx = try JobsFixture(clients: 3)
        let store = fx.store(0)
        let total = 600
        for i in 0..<total { _ = try await store.schedule(reminder("c-\(i)", user: 7)) }
        async let cancelled: Int = {
            let canceller = fx.store(1)
            var n = 0
            for _ in 0..<3 {
                n += try await canceller.cancel(userID: 7, kind: "reminder")
                try await Task.sleep(for: .milliseconds(2))
            }
            return n
        }()
        let claimer = fx.store(2)
        var claimed: [ClaimedJob] = []
        var epochs: [String: Int64] = [:]
        while true {
            let batch = try await claimer.claim(limit: 25, lease: .seconds(30), worker: "w")
            if batch.jobs.isEmpty { break }
            claimed += batch.jobs
            for job in batch.jobs { epochs[job.id] = batch.epoch }
        }
        let cancelledCount = try await cancelled
        var acked = 0
        var refused = 0
        for job in claimed {
            switch try await claimer.ack(job.id, epoch: job.epoch) {
            case .done: acked += 1
            case .missing: refused += 1
            case .stale: Issue.record("no lease lapsed here")
            }
        }
        // Every job was either cancelled (pending or leased) or acked, never both, never neither.
        #expect(acked + cancelledCount == total)
        #expect(Set(claimed.map(\.id)).count == claimed.count)
        #expect(refused <= cancelledCount)
        #expect(try await store.depth() == JobDepth(scheduled: 0, dueNow: 0, leased: 0, dead: 0))
        #expect(try await store.jobs(ofUser: 7).isEmpty)
        await fx.close()
    }

    @Test func cancelAndListByUserAndKind() async throws {
        let fx = try JobsFixture()
        let store = fx.store()
        _ = try await store.schedule(reminder("r1", user: 5, due: .after(.seconds(120))))
        _ = try await store.schedule(reminder("r2", user: 5, due: .after(.seconds(60))))
        _ = try await store.schedule(
            JobSpec(
                id: "m1", kind: "message", userID: 5, chatID: -100, due: .after(.seconds(90)),
                payload: ["text": .string("hi")]))
        _ = try await store.schedule(reminder("other", user: 6))
        let listed = try await store.jobs(ofUser: 5)
        #expect(listed.map(\.jobID) == ["r2", "m1", "r1"])
        #expect(listed[1].payload == ["text": .string("hi")] && listed[1].chatID == -100)
        #expect(try await store.cancel(userID: 5, kind: "reminder") == 2)
        #expect(try await store.jobs(ofUser: 5).map(\.jobID) == ["m1"])
        #expect(try await store.cancel(jobID: "m1") == 1)
        #expect(try await store.cancel(jobID: "m1") == 0)
        #expect(try await store.cancel(userID: 5) == 0)
        #expect(try await store.jobs(ofUser: 6).map(\.jobID) == ["other"])
        // A cancelled id may be scheduled again (it never completed).
        #expect(try await store.schedule(reminder("r1", user: 5)).created)
        await fx.close()
    }

    @Test func becomingTheEarliestJobPublishesAWakeUp() async throws {
        let fx = try JobsFixture()
        let store = fx.store()
        let subscriber = RedisSubscriber(url: fx.url, name: "wake", logger: .init(label: "t"))
        var events = subscriber.subscribe(channels: [store.wakeChannel]).makeAsyncIterator()
        // Let the subscription settle: publish until one arrives (however long subscribing takes).
        let probe = RedisSubscriber.Event.message(channel: store.wakeChannel, payload: Array("0".utf8))
        let publisher = Task {
            while !Task.isCancelled {
                _ = try? await fx.clients[0].send("PUBLISH", RedisArgument(store.wakeChannel), "0")
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(await events.next() == probe)
        publisher.cancel()
        _ = await publisher.value
        let later = try await store.schedule(reminder("later", due: .after(.seconds(100))))
        var first = await events.next()
        while first == probe { first = await events.next() }
        #expect(first == .message(channel: store.wakeChannel, payload: Array(String(later.dueAtMs).utf8)))
        // Not earliest: no wake-up. Earlier: wake-up with its due time.
        _ = try await store.schedule(reminder("even-later", due: .after(.seconds(200))))
        let soon = try await store.schedule(reminder("soon", due: .after(.milliseconds(200))))
        var second = await events.next()
        while second == probe { second = await events.next() }
        #expect(second == .message(channel: store.wakeChannel, payload: Array(String(soon.dueAtMs).utf8)))
        await subscriber.close()
        await fx.close()
    }
}

@Suite struct PaymentJobsTests {
    @Test func confirmationIsScheduledOnceAndCancelsReminders() async throws {
        let fx = try JobsFixture()
        let store = fx.store()
        let payments = PaymentJobs(store: store)
        _ = try await store.schedule(reminder("reminder:42:1", user: 42, due: .after(.seconds(300))))
        _ = try await store.schedule(
            JobSpec(
                id: "msg:42", kind: "message", userID: 42, chatID: 42, due: .after(.seconds(300)), payload: ["text": .string("hi")]))
        let first = try await payments.paymentConfirmed(userID: 42, chatID: 42, recordID: 7)
        #expect(first.created && first.jobID == "payment_confirmed:42:7")
        #expect(try await store.jobs(ofUser: 42).map(\.kind).sorted() == ["message", "payment_confirmed"])
        // Seen again (next polling cycle, new leader): nothing new, also after delivery.
        #expect(try await !payments.paymentConfirmed(userID: 42, chatID: 42, recordID: 7).created)
        let batch = try await store.claim(limit: 10, lease: .seconds(30), worker: "w")
        #expect(batch.jobs.map(\.id) == ["payment_confirmed:42:7"])
        #expect(batch.jobs[0].payload == ["record_id": .number(7)])
        #expect(try await store.ack("payment_confirmed:42:7", epoch: batch.epoch) == .done)
        #expect(try await !payments.paymentConfirmed(userID: 42, chatID: 42, recordID: 7).created)
        await fx.close()
    }
}
