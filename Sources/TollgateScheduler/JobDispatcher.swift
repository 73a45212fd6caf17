import Logging
import ServiceLifecycle
import Synchronization
import TollgateCore
import TollgateIPC
import TollgateJobs
import TollgateRedis

/// Claims due jobs and delivers them to the gateway; acks each one only after the gateway answered.
///
/// Wake-ups are event driven: after an empty claim the dispatcher sleeps until the earliest due
/// time the claim reported (converted from the Redis clock to the local monotonic clock), or until
/// a `schedule` publishes an earlier one, or the wake-up channel reconnects (rescan). While jobs
/// are due it claims batch after batch, with up to `concurrency` batches in flight; after a claim
/// that emptied the due set it lingers a few milliseconds so a steady stream goes out in fuller
/// batches.
///
/// The gateway being down is not the jobs' fault: a batch that got no answer is *released* (back
/// to due at its due time, the attempt not counted) and the dispatcher pauses claiming with a
/// capped backoff (``GatewayGate``). Leases are extended while a batch is with the gateway.
public final class JobDispatcher: Service, Sendable {
    public let store: JobStore
    public let counters: DispatchCounters
    private let gateway: any GatewayLink
    private let subscriber: RedisSubscriber
    private let settings: SchedulerSettings
    private let worker: String
    private let beat: (@Sendable () async -> Void)?
    private let logger: Logger
    private let gate: Mutex<GatewayGate>
    private let wake = WakeSignal()
    private let origin = ContinuousClock.now
    private let stopping = Atomic<Bool>(false)
    private static let maxIdle: Duration = .seconds(5)

    /// - Parameters:
    ///   - store: the job store on the dispatcher's own Redis connection.
    ///   - subscriber: for the wake-up channel.
    ///   - worker: this instance's name, recorded on the jobs it leases.
    ///   - beat: called once per loop iteration (the liveness checkpoint).
    public init(
        store: JobStore, gateway: any GatewayLink, subscriber: RedisSubscriber, settings: SchedulerSettings,
        worker: String, counters: DispatchCounters = .init(), beat: (@Sendable () async -> Void)? = nil, logger: Logger
    ) {
        self.store = store
        self.gateway = gateway
        self.subscriber = subscriber
        self.settings = settings
        self.worker = worker
        self.counters = counters
        self.beat = beat
        self.logger = logger
        self.gate = Mutex(GatewayGate(cap: settings.gatewayBackoffCap))
    }

    private var now: Duration { ContinuousClock.now - origin }

    /// Whether the gateway answered the last batch (false while backing off).
    public var gatewayUp: Bool { gate.withLock { $0.failures == 0 } }

    public func run() async throws {
        logger.info(
            "dispatcher started",
            metadata: ["batch": "\(settings.batchSize)", "lease": "\(settings.lease)", "concurrency": "\(settings.concurrency)"])
        let slots = AsyncSemaphore(limit: settings.concurrency)
        await withDiscardingTaskGroup { group in
            group.addTask { await self.listen() }
            await withGracefulShutdownHandler {
                await self.loop(group: &group, slots: slots)
            } onGracefulShutdown: {
                self.stopping.store(true, ordering: .relaxed)
                self.wake.notify(dueMs: nil)
            }
            // Stop listening; in-flight batches finish (they are awaited by the group).
            await self.subscriber.close()
        }
        logger.info("dispatcher stopped")
    }

    // MARK: Wake-ups

    private func listen() async {
        for await event in subscriber.subscribe(channels: [store.wakeChannel]) {
            switch event {
            case .message(_, let payload):
                wake.notify(dueMs: Int64(String(decoding: payload, as: UTF8.self)))
            case .reconnected:
                wake.notify(dueMs: nil)
            }
        }
    }

    // MARK: The claim loop

    private func loop(group: inout DiscardingTaskGroup, slots: AsyncSemaphore) async {
        var redisBackoff = Backoff(base: .milliseconds(50), cap: .seconds(2))
        while !Task.isCancelled && !stopping.load(ordering: .relaxed) {
            await beat?()
            let resumeAt = gate.withLock { $0.isOpen(at: now) ? nil : $0.resumeAt }
            if let resumeAt {
                // Wake-ups do not end the pause; only shutdown does.
                _ = await wake.wait(until: origin + resumeAt, targetMs: nil)
                continue
            }
            await slots.acquire()
            if Task.isCancelled || stopping.load(ordering: .relaxed) {
                slots.release()
                break
            }
            let batch: ClaimBatch
            do {
                batch = try await store.claim(limit: settings.batchSize, lease: settings.lease, worker: worker)
                redisBackoff.reset()
            } catch {
                slots.release()
                counters.redisFailures.add(1, ordering: .relaxed)
                logger.warning("claim failed", metadata: ["error": "\(error)"])
                _ = await wake.wait(until: .now + redisBackoff.next(), targetMs: nil)
                continue
            }
            let localMs = now.milliseconds
            counters.claims.add(1, ordering: .relaxed)
            guard !batch.jobs.isEmpty else {
                slots.release()
                counters.emptyClaims.add(1, ordering: .relaxed)
                await idle(until: batch.nextDueMs, serverNow: batch.serverNowMs, localMs: localMs)
                continue
            }
            counters.claimed.add(batch.jobs.count, ordering: .relaxed)
            if let last = batch.jobs.last {
                counters.lastLatenessMs.store(Int(max(0, batch.serverNowMs.saturatingMinus(last.dueAtMs))), ordering: .relaxed)
            }
            group.addTask {
                self.counters.inFlight.add(1, ordering: .relaxed)
                await self.deliver(batch)
                self.counters.inFlight.subtract(1, ordering: .relaxed)
                slots.release()
            }
            // Took everything due: let the next jobs gather for a moment rather than claim them one by one.
            if settings.linger > .zero, batch.jobs.count < settings.batchSize {
                try? await Task.sleep(for: settings.linger)
            }
        }
    }

    /// Sleeps until the next due time (server clock `nextDue`), at most ``maxIdle``, or until woken.
    private func idle(until nextDue: Int64?, serverNow: Int64, localMs: Int64) async {
        var wait = Self.maxIdle
        if let nextDue { wait = min(wait, .milliseconds(max(0, nextDue.saturatingMinus(serverNow)))) }
        let deadline = origin + .milliseconds(localMs) + wait
        let early = await wake.wait(until: deadline, targetMs: nextDue)
        if early { counters.wakeUps.add(1, ordering: .relaxed) }
        // A timer wake-up that every idle instance shares: spread the claims a little.
        if !early, nextDue != nil, settings.wakeJitter > .zero {
            let spread = Int64.random(in: 0...max(1, settings.wakeJitter.milliseconds * 1000))
            try? await Task.sleep(for: .microseconds(spread))
        }
    }

    // MARK: Delivery

    /// Delivers a claimed batch: in frames that fit `IPC_MAX_FRAME_BYTES` (one after another, so a
    /// chat's jobs keep their order), a suspect job — one whose delivery dropped the gateway's
    /// connection before — in a frame of its own. Then acks, retries or dead-letters each job by
    /// the answer it got, and gives back the ones that got none.
    private func deliver(_ batch: ClaimBatch) async {
        let plan = DeliveryPlan(batch.jobs, maxFrameBytes: settings.maxFrameBytes)
        var results: [String: DeliveryResult] = [:]
        for job in plan.oversized {
            results[job.id] = DeliveryResult(
                jobID: job.id, outcome: .failed, detail: "payload too large for a deliver frame of \(settings.maxFrameBytes) bytes")
        }
        var failure: (error: IPCError, frame: [ClaimedJob])?
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.keepLeases(batch) }
            for frame in plan.frames {
                switch await send(frame) {
                case .success(let answered):
                    for result in answered { results[result.jobID] = result }
                case .failure(let error):
                    failure = (error, frame)
                }
                if failure != nil { break }
            }
            group.cancelAll()
        }
        counters.batchesSent.add(1, ordering: .relaxed)
        guard let (error, frame) = failure else {
            gate.withLock { $0.succeeded() }
            await finish(batch, results: results)
            return
        }
        let answered = batch.jobs.filter { results[$0.id] != nil }
        if !answered.isEmpty { gate.withLock { $0.succeeded() } }
        let policy = settings.retryPolicy
        var items: [(id: String, completion: JobCompletion)] = answered.map { job in
            (job.id, policy.completion(for: results[job.id]!, job: job, unit: .random(in: 0...1)))
        }
        let unanswered = batch.jobs.filter { results[$0.id] == nil }
        if Self.isTransport(error) {
            counters.gatewayFailures.add(1, ordering: .relaxed)
            let unit = Double.random(in: 0...1)
            let now = self.now
            gate.withLock { $0.failed(at: now, unit: unit) }
            // A connection that dropped while the gateway had the frame may be the frame's fault (a
            // job that crashes the gateway): its jobs count a drop, and one delivered alone is
            // charged an attempt, dead-lettered after `JOB_MAX_DROPS`. The rest is released.
            let dropped = error.code == .connectionClosed ? Set(frame.map(\.id)) : []
            for job in unanswered {
                items.append((job.id, dropped.contains(job.id) ? dropCompletion(job, alone: frame.count == 1) : .release))
            }
            logger.warning(
                "gateway did not answer, giving the jobs back",
                metadata: ["jobs": "\(unanswered.count)", "dropped": "\(dropped.count)", "error": "\(error)"])
        } else {
            // The gateway refused the frame (a bug on one side): count the attempt and back off.
            logger.error("gateway refused the batch", metadata: ["error": "\(error)"])
            for job in unanswered {
                let answer = DeliveryResult(jobID: job.id, outcome: .retry, detail: "gateway error \(error.code): \(error.message)")
                items.append((job.id, policy.completion(for: answer, job: job, unit: .random(in: 0...1))))
            }
        }
        await complete(batch, items)
    }

    /// One frame to the gateway.
    private func send(_ frame: [ClaimedJob]) async -> Result<[DeliveryResult], IPCError> {
        do throws(IPCError) {
            return .success(try await gateway.deliver(frame.map(\.delivery), timeout: settings.deliverTimeout))
        } catch {
            return .failure(error)
        }
    }

    /// What a dropped delivery means for `job`.
    private func dropCompletion(_ job: ClaimedJob, alone: Bool) -> JobCompletion {
        guard alone else { return .dropped }
        let drops = job.drops + 1
        counters.poisonSuspects.add(1, ordering: .relaxed)
        guard drops < settings.maxDrops, job.attempt < job.maxAttempts else {
            return .deadLetter(
                reason: "the gateway's connection dropped \(drops) times while it had this job (attempt \(job.attempt) of \(job.maxAttempts))")
        }
        let after = settings.retryPolicy.delay(afterAttempt: job.attempt, retryAfter: nil, unit: .random(in: 0...1))
        return .droppedRetry(after: after, reason: "the gateway's connection dropped while it had this job")
    }

    /// Acks, retries or dead-letters each job by the gateway's answer.
    private func finish(_ batch: ClaimBatch, results byID: [String: DeliveryResult]) async {
        let policy = settings.retryPolicy
        let items: [(id: String, completion: JobCompletion)] = batch.jobs.map { job in
            guard let result = byID[job.id] else {
                // No result for this job: it was not handled; give it back.
                return (job.id, .release)
            }
            return (job.id, policy.completion(for: result, job: job, unit: .random(in: 0...1)))
        }
        await complete(batch, items)
    }

    /// Applies completions, retrying while Redis is briefly unavailable (completions are fenced, so
    /// a repeat is refused rather than applied twice). If Redis stays away, the leases lapse and the
    /// leader's recovery returns the jobs; the gateway's duplicate check answers their redelivery.
    private func complete(_ batch: ClaimBatch, _ items: [(id: String, completion: JobCompletion)]) async {
        var backoff = Backoff(base: .milliseconds(50), cap: .seconds(1))
        let giveUp = ContinuousClock.now + settings.lease
        while true {
            do {
                let statuses = try await store.complete(items, epoch: batch.epoch)
                for (item, status) in zip(items, statuses) {
                    guard status == .done else {
                        counters.refused.add(1, ordering: .relaxed)
                        continue
                    }
                    switch item.completion {
                    case .ack: counters.acked.add(1, ordering: .relaxed)
                    case .retry: counters.retried.add(1, ordering: .relaxed)
                    case .deadLetter: counters.deadLettered.add(1, ordering: .relaxed)
                    case .release: counters.released.add(1, ordering: .relaxed)
                    case .dropped: counters.released.add(1, ordering: .relaxed)
                    case .droppedRetry: counters.retried.add(1, ordering: .relaxed)
                    case .postpone: counters.postponed.add(1, ordering: .relaxed)
                    }
                }
                return
            } catch {
                counters.redisFailures.add(1, ordering: .relaxed)
                guard error.isRetryable, ContinuousClock.now < giveUp else {
                    logger.error(
                        "cannot complete batch; its leases will lapse and be recovered",
                        metadata: ["epoch": "\(batch.epoch)", "error": "\(error)"])
                    return
                }
                try? await Task.sleep(for: backoff.next())
            }
        }
    }

    /// Extends the batch's leases every third of the lease while the gateway works on it.
    private func keepLeases(_ batch: ClaimBatch) async {
        let ids = batch.jobs.map(\.id)
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.lease / 3)
            if Task.isCancelled { return }
            do {
                let lost = try await store.extend(ids, epoch: batch.epoch, lease: settings.lease)
                if !lost.isEmpty {
                    logger.info("jobs left the batch while in flight (cancelled or recovered)", metadata: ["jobs": "\(lost.count)"])
                }
            } catch {
                logger.warning("lease extension failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Failures that say nothing about the batch: the gateway did not take it.
    static func isTransport(_ error: IPCError) -> Bool {
        [.connectFailed, .connectionClosed, .timeout, .shuttingDown, .unavailable, .rateLimited, .cancelled].contains(
            error.code)
    }
}
