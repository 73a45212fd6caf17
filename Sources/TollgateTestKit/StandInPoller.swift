import Logging
import Synchronization
import TollgateCore
import TollgateIPC

/// A stand-in for poller-scheduler, for tests and benchmarks of bot-gateway: it serves
/// `schedule`, `cancel`, `user_jobs`, `watch_payment` and `unwatch_payment` on a Unix socket,
/// keeps jobs in memory, and delivers due ones to the gateway's socket (`deliver`), removing a job
/// only when the gateway's result is final and retrying `retry` results — the contract of
/// Protocols/gateway.md, without Redis or leases.
///
/// `delayScale` shrinks job delays (0.001 turns a 5-minute reminder into 300 ms) so that tests
/// keep the real flow and short run times. ``confirmPayment(userID:)`` plays the payment poller:
/// it ends the user's watch and queues a `payment_confirmed` job. Run it with ``run()`` in a task
/// of the test's own and cancel that task to stop it.
public final class StandInPoller: Sendable {
    public struct Job: Sendable, Equatable {
        public var request: Schedule
        public var jobID: String
        public var due: ContinuousClock.Instant
        public var attempts: Int
    }

    public struct Counters: Sendable, Equatable {
        public var scheduled = 0
        public var duplicateSchedules = 0
        public var cancelled = 0
        public var watches = 0
        public var deliveries = 0
        public var outcomes: [String: Int] = [:]
        public var deliverErrors = 0
    }

    struct State {
        var jobs: [String: Job] = [:]
        var done: Set<String> = []
        var watches: [Int64: WatchPayment] = [:]
        var counters = Counters()
        var results: [String: [DeliveryResult.Outcome]] = [:]
    }

    public let socketPath: String
    public let gatewaySocket: String
    public let delayScale: Double
    let state = Mutex(State())
    let server: IPCServer
    let logger: Logger

    public init(socketPath: String, gatewaySocket: String, delayScale: Double = 1, logger: Logger? = nil) {
        self.socketPath = socketPath
        self.gatewaySocket = gatewaySocket
        self.delayScale = delayScale
        var quiet = Logger(label: "stand-in-poller")
        quiet.logLevel = .critical
        self.logger = logger ?? quiet
        let box = Box()
        var router = IPCRouter()
        router.register(Schedule.self) { request, _ in try box.poller().schedule(request) }
        router.register(Cancel.self) { request, _ in try box.poller().cancel(request) }
        router.register(UserJobs.self) { request, _ in try box.poller().userJobs(request) }
        router.register(WatchPayment.self) { request, _ in try box.poller().watch(request) }
        router.register(UnwatchPayment.self) { request, _ in
            let removed = try box.poller().state.withLock { $0.watches.removeValue(forKey: request.userID) != nil }
            return UnwatchPayment.Reply(removed: removed)
        }
        server = IPCServer(name: "stand-in-poller", target: .unix(path: socketPath), router: router, logger: self.logger)
        box.set(self)
    }

    /// Waits until the socket accepts connections.
    public func listening() async throws { _ = try await server.listening() }

    /// Serves and dispatches until the calling task is cancelled.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.server.run() }
            group.addTask { await self.dispatch() }
            try await group.waitForAll()
        }
    }

    // MARK: Control and inspection

    public var counters: Counters { state.withLock { $0.counters } }
    public var watchedUsers: Set<Int64> { state.withLock { Set($0.watches.keys) } }
    public func watch(of userID: Int64) -> WatchPayment? { state.withLock { $0.watches[userID] } }
    public func pendingJobs(of userID: Int64) -> [Job] { state.withLock { s in s.jobs.values.filter { $0.request.userID == userID } } }
    public var pendingJobCount: Int { state.withLock { $0.jobs.count } }
    /// The outcomes the gateway answered for `jobID`, in order.
    public func results(of jobID: String) -> [DeliveryResult.Outcome] { state.withLock { $0.results[jobID] ?? [] } }

    /// The payment arrived: the watch ends and `payment_confirmed` is due now. False when the user
    /// was not watched.
    @discardableResult
    public func confirmPayment(userID: Int64) -> Bool {
        state.withLock { s in
            guard let watch = s.watches.removeValue(forKey: userID) else { return false }
            let record = watch.recordID ?? 0
            let id = "paid:\(userID):\(record)"
            let request = Schedule(
                jobID: id, kind: "payment_confirmed", userID: userID, chatID: watch.chatID, delayMs: 0,
                payload: ["record_id": .number(Double(record))])
            s.jobs[id] = Job(request: request, jobID: id, due: .now, attempts: 0)
            return true
        }
    }

    /// Queues a job directly (an operator's message, a test's own reminder).
    public func enqueue(_ request: Schedule) throws(IPCError) {
        _ = try schedule(request)
    }

    // MARK: Requests

    func schedule(_ request: Schedule) throws(IPCError) -> Schedule.Reply {
        let id = request.jobID ?? "job-\(UInt64.random(in: 0...UInt64.max))"
        let delay = Double(request.delayMs ?? max(0, (request.dueAtMs ?? 0) - WallClock.epochMilliseconds())) * delayScale
        return state.withLock { s in
            if s.jobs[id] != nil || s.done.contains(id) {
                s.counters.duplicateSchedules += 1
                return Schedule.Reply(jobID: id, created: false, dueAtMs: 0)
            }
            s.jobs[id] = Job(request: request, jobID: id, due: .now + .milliseconds(Int64(delay)), attempts: 0)
            s.counters.scheduled += 1
            return Schedule.Reply(jobID: id, created: true, dueAtMs: WallClock.epochMilliseconds() + Int64(delay))
        }
    }

    func cancel(_ request: Cancel) throws(IPCError) -> Cancel.Reply {
        state.withLock { s in
            let victims = s.jobs.values.filter { job in
                if let id = request.jobID { return job.jobID == id }
                return job.request.userID == request.userID && (request.kind == nil || job.request.kind == request.kind)
            }
            for job in victims {
                s.jobs[job.jobID] = nil
                s.done.insert(job.jobID)
            }
            s.counters.cancelled += victims.count
            return Cancel.Reply(cancelled: victims.count)
        }
    }

    func userJobs(_ request: UserJobs) throws(IPCError) -> UserJobs.Reply {
        UserJobs.Reply(
            jobs: pendingJobs(of: request.userID).map {
                UserJobs.Job(
                    jobID: $0.jobID, kind: $0.request.kind, chatID: $0.request.chatID, dueAtMs: 0, attempts: $0.attempts,
                    state: .scheduled, payload: $0.request.payload)
            })
    }

    func watch(_ request: WatchPayment) throws(IPCError) -> WatchPayment.Reply {
        state.withLock { s in
            let created = s.watches[request.userID] == nil
            s.watches[request.userID] = request
            if created { s.counters.watches += 1 }
            return WatchPayment.Reply(created: created, expiresAtMs: WallClock.epochMilliseconds() + (request.expiresInMs ?? 0))
        }
    }

    // MARK: Dispatch

    func dispatch() async {
        let client = IPCClient(path: gatewaySocket, logger: logger)
        while !Task.isCancelled {
            let due: [Job] = state.withLock { s in
                let now = ContinuousClock.now
                let ready = s.jobs.values.filter { $0.due <= now }.sorted { $0.due < $1.due }.prefix(Deliver.maxBatch)
                for job in ready { s.jobs[job.jobID]?.due = now + .seconds(3600) }  // in flight
                return Array(ready)
            }
            if due.isEmpty {
                try? await Task.sleep(for: .milliseconds(10))
                continue
            }
            let deliveries = due.map { job in
                Delivery(
                    jobID: job.jobID, epoch: 1, kind: job.request.kind, userID: job.request.userID, chatID: job.request.chatID,
                    attempt: job.attempts + 1, dueAtMs: WallClock.epochMilliseconds(), payload: job.request.payload)
            }
            do throws(IPCError) {
                let reply = try await client.call(Deliver(deliveries: deliveries), timeout: .seconds(120))
                state.withLock { s in
                    s.counters.deliveries += deliveries.count
                    for (job, result) in zip(due, reply.results) {
                        s.counters.outcomes[result.outcome.rawValue, default: 0] += 1
                        s.results[job.jobID, default: []].append(result.outcome)
                        guard s.jobs[job.jobID] != nil else { continue }  // cancelled meanwhile
                        if result.isFinal {
                            s.jobs[job.jobID] = nil
                            s.done.insert(job.jobID)
                        } else {
                            s.jobs[job.jobID]?.attempts += 1
                            s.jobs[job.jobID]?.due = .now + .milliseconds(max(200, result.retryAfterMs ?? 1000))
                        }
                    }
                }
            } catch {
                // The gateway is down or restarting: every job of the batch is tried again.
                state.withLock { s in
                    s.counters.deliverErrors += 1
                    for job in due where s.jobs[job.jobID] != nil {
                        s.jobs[job.jobID]?.attempts += 1
                        s.jobs[job.jobID]?.due = .now + .milliseconds(200)
                    }
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        await client.close()
    }

    final class Box: @unchecked Sendable {
        private let lock = Mutex<StandInPoller?>(nil)
        func set(_ p: StandInPoller) { lock.withLock { $0 = p } }
        func poller() throws(IPCError) -> StandInPoller {
            guard let p = lock.withLock({ $0 }) else { throw IPCError(.unavailable, "not ready") }
            return p
        }
    }
}
