import TollgateCore
import TollgateIPC
import TollgateRedis

/// The durable delayed-job store in Redis. Every state change is one atomic script on the Redis
/// server's clock (``JobScripts``); the store itself holds no state and is cheap to copy.
///
/// Life of a job: ``schedule(_:)`` → due set → ``claim(limit:lease:worker:)`` (leased, with a
/// fencing epoch) → ``complete(_:epoch:)`` with ack / retry / dead-letter / release. A lease that
/// lapses (the dispatcher died or froze) is returned to due by ``recoverExpiredLeases(limit:)``;
/// the lapsed holder's completions are then refused.
///
/// ```swift
/// let store = JobStore(redis: .pool(host.redis), keys: host.keys)
/// let outcome = try await store.schedule(JobSpec(
///     id: "reminder:42:1", kind: "reminder", userID: 42, chatID: 42, due: .after(.seconds(300)),
///     payload: ["step": .string("reminder")]))
/// try await store.cancel(userID: 42, kind: "reminder")
/// ```
public struct JobStore: Sendable {
    /// Where the store's Redis commands go.
    public enum Connection: Sendable {
        /// One client (a loop's own connection).
        case client(RedisClient)
        /// Round-robin over a pool (IPC handlers).
        case pool(RedisClientPool)

        var next: RedisClient {
            switch self {
            case .client(let client): client
            case .pool(let pool): pool.next()
            }
        }
    }

    /// Tunables of the store.
    public struct Settings: Sendable, Equatable {
        /// How long a completed job id is remembered, so that scheduling it again changes nothing.
        public var retention: Duration
        /// Delivery attempts of a job that does not say (`JOB_MAX_ATTEMPTS`).
        public var defaultMaxAttempts: Int

        public init(retention: Duration = .seconds(7 * 24 * 3600), defaultMaxAttempts: Int = 10) {
            self.retention = retention
            self.defaultMaxAttempts = defaultMaxAttempts
        }
    }

    public let connection: Connection
    /// The prefix of every key of the store (`<REDIS_PREFIX>:jobs`).
    public let prefix: String
    public let settings: Settings

    public init(redis: Connection, keys: KeySpace, settings: Settings = .init()) {
        self.connection = redis
        self.prefix = keys("jobs")
        self.settings = settings
    }

    /// The pub/sub channel announcing a new earliest due time (payload: the due time in ms).
    public var wakeChannel: String { prefix + ":wake" }

    // MARK: Scheduling

    /// Stores `spec` durably, or changes nothing if its id is live or was completed within the
    /// retention window, or its dedupe key is held by a live job.
    public func schedule(_ spec: JobSpec) async throws(JobStoreError) -> ScheduleOutcome {
        try spec.validate()
        let id = spec.id ?? Self.makeJobID()
        let payload: String
        do {
            payload = String(decoding: try IPCCoding.encode(spec.payload), as: UTF8.self)
        } catch {
            throw JobStoreError(.invalidJob, "payload cannot be encoded: \(error)")
        }
        let dueAt: RedisArgument
        let delay: Int64
        switch spec.due {
        case .at(let ms):
            dueAt = RedisArgument(max(0, ms))
            delay = 0
        case .after(let duration):
            dueAt = ""
            delay = max(0, duration.milliseconds)
        }
        let reply = try await run(
            JobScripts.schedule,
            [
                RedisArgument(prefix), RedisArgument(id), RedisArgument(spec.kind), RedisArgument(spec.userID),
                RedisArgument(spec.chatID), dueAt, RedisArgument(delay), RedisArgument(payload),
                RedisArgument(spec.maxAttempts ?? settings.defaultMaxAttempts), RedisArgument(spec.dedupeKey ?? ""),
            ])
        guard let parts = reply.array, parts.count == 3, let created = parts[0].int, let jobID = parts[1].string,
            let due = parts[2].int
        else { throw JobStoreError(.unexpectedReply, "schedule replied \(reply)") }
        return ScheduleOutcome(jobID: jobID, created: created == 1, dueAtMs: due)
    }

    /// Removes a live (scheduled or leased) job; returns 1 if there was one, else 0. A leased job's
    /// completion will be refused, so it is neither acked nor retried.
    @discardableResult
    public func cancel(jobID: String) async throws(JobStoreError) -> Int {
        let reply = try await run(JobScripts.cancelJob, [RedisArgument(prefix), RedisArgument(jobID)])
        return Int(reply.int ?? 0)
    }

    /// Removes every live job of `userID` (of `kind`, if given); returns how many.
    @discardableResult
    public func cancel(userID: Int64, kind: String? = nil) async throws(JobStoreError) -> Int {
        let reply = try await run(
            JobScripts.cancelUser, [RedisArgument(prefix), RedisArgument(userID), RedisArgument(kind ?? "")])
        return Int(reply.int ?? 0)
    }

    /// The live jobs of `userID`, ordered by due time.
    public func jobs(ofUser userID: Int64) async throws(JobStoreError) -> [UserJobs.Job] {
        let reply = try await run(JobScripts.userJobs, [RedisArgument(prefix), RedisArgument(userID)])
        let values = reply.array ?? []
        var jobs: [UserJobs.Job] = []
        var index = 0
        while index + 7 <= values.count {
            let f = values[index..<index + 7].map(Self.text)
            index += 7
            jobs.append(
                UserJobs.Job(
                    jobID: f[0], kind: f[1], chatID: Int64(f[2]) ?? 0, dueAtMs: Int64(f[3]) ?? 0,
                    attempts: Int(f[4]) ?? 0, state: f[5] == "leased" ? .leased : .scheduled,
                    payload: Self.decodePayload(f[6])))
        }
        return jobs.sorted { ($0.dueAtMs, $0.jobID) < ($1.dueAtMs, $1.jobID) }
    }

    // MARK: Dispatching

    /// Leases up to `limit` due jobs to `worker` for `lease`, under one new fencing epoch.
    public func claim(limit: Int, lease: Duration, worker: String) async throws(JobStoreError) -> ClaimBatch {
        let reply = try await run(
            JobScripts.claim,
            [
                RedisArgument(prefix), RedisArgument(max(1, limit)), RedisArgument(max(1, lease.milliseconds)),
                RedisArgument(worker),
            ])
        guard let values = reply.array, values.count >= 3, let now = values[0].int, let epoch = values[1].int,
            let next = values[2].int, (values.count - 3) % 9 == 0
        else { throw JobStoreError(.unexpectedReply, "claim replied \(reply)") }
        var jobs: [ClaimedJob] = []
        jobs.reserveCapacity((values.count - 3) / 9)
        var index = 3
        while index < values.count {
            let f = values[index..<index + 9].map(Self.text)
            index += 9
            // The hash is outside data (anything may have written Redis): values are brought into
            // the ranges the store itself writes, so no later arithmetic on them can overflow.
            let maxAttempts = min(max(Int(f[7]) ?? 1, 1), 100)
            jobs.append(
                ClaimedJob(
                    id: f[0], epoch: epoch, kind: f[1], userID: Int64(f[2]) ?? 0, chatID: Int64(f[3]) ?? 0,
                    dueAtMs: min(max(Int64(f[4]) ?? now, 0), now), attempt: min(max(Int(f[6]) ?? 1, 1), 1001),
                    maxAttempts: maxAttempts, payload: Self.decodePayload(f[5]), drops: min(max(Int(f[8]) ?? 0, 0), 1000)))
        }
        return ClaimBatch(epoch: epoch, jobs: jobs, serverNowMs: now, nextDueMs: next < 0 ? nil : next)
    }

    /// Extends the lease of `ids` held under `epoch` to `lease` from now; returns the ids that are
    /// no longer held (cancelled, recovered after a lapse, claimed again).
    public func extend(_ ids: [String], epoch: Int64, lease: Duration) async throws(JobStoreError) -> [String] {
        guard !ids.isEmpty else { return [] }
        let reply = try await run(
            JobScripts.extend,
            [RedisArgument(prefix), RedisArgument(max(1, lease.milliseconds)), RedisArgument(epoch)]
                + ids.map { RedisArgument($0) })
        return (reply.array ?? []).compactMap(\.string)
    }

    /// Completes claimed jobs held under `epoch`, in one atomic step; one status per item, in order.
    /// A completion is refused (``CompletionStatus/stale``) unless the job is still leased under
    /// exactly this epoch.
    public func complete(_ items: [(id: String, completion: JobCompletion)], epoch: Int64) async throws(JobStoreError)
        -> [CompletionStatus]
    {
        guard !items.isEmpty else { return [] }
        var args: [RedisArgument] = [
            RedisArgument(prefix), RedisArgument(epoch), RedisArgument(max(1, settings.retention.milliseconds)),
        ]
        args.reserveCapacity(3 + items.count * 4)
        for (id, completion) in items {
            args.append(RedisArgument(id))
            switch completion {
            case .ack: args += ["ack", 0, ""]
            case .release: args += ["release", 0, ""]
            case .postpone(let after, let reason):
                args += ["postpone", RedisArgument(max(0, after.milliseconds)), RedisArgument(reason)]
            case .retry(let after, let reason):
                args += ["retry", RedisArgument(max(0, after.milliseconds)), RedisArgument(reason)]
            case .deadLetter(let reason): args += ["dead", 0, RedisArgument(reason)]
            case .dropped: args += ["drop", 0, ""]
            case .droppedRetry(let after, let reason):
                args += ["dropretry", RedisArgument(max(0, after.milliseconds)), RedisArgument(reason)]
            }
        }
        let reply = try await run(JobScripts.complete, args)
        guard let values = reply.array, values.count == items.count else {
            throw JobStoreError(.unexpectedReply, "complete replied \(reply)")
        }
        return values.map { CompletionStatus(rawValue: Int($0.int ?? 0)) ?? .stale }
    }

    /// Acks one job (see ``complete(_:epoch:)``).
    public func ack(_ id: String, epoch: Int64) async throws(JobStoreError) -> CompletionStatus {
        try await complete([(id, .ack)], epoch: epoch)[0]
    }

    /// Returns jobs whose lease lapsed to due (up to `limit` per call); dead-letters those that used
    /// their last attempt. Safe to run from several processes at once.
    public func recoverExpiredLeases(limit: Int = 1000) async throws(JobStoreError) -> LeaseRecovery {
        let reply = try await run(
            JobScripts.recover,
            [RedisArgument(prefix), RedisArgument(max(1, limit)), RedisArgument(max(1, settings.retention.milliseconds))])
        guard let v = reply.array, v.count == 4, let recovered = v[0].int, let dead = v[1].int, let next = v[2].int,
            let now = v[3].int
        else { throw JobStoreError(.unexpectedReply, "recover replied \(reply)") }
        return LeaseRecovery(
            recovered: Int(recovered), deadLettered: Int(dead), nextExpiryMs: next < 0 ? nil : next, serverNowMs: now)
    }

    /// Removes dead letters older than `maxAge` and the oldest beyond the newest `maxCount`
    /// (up to 1,000 per call); returns how many.
    public func trimDeadLetters(maxAge: Duration, maxCount: Int = 100_000) async throws(JobStoreError) -> Int {
        let reply = try await run(
            JobScripts.trimDead,
            [RedisArgument(prefix), RedisArgument(max(1, maxAge.milliseconds)), RedisArgument(max(0, maxCount))])
        return Int(reply.int ?? 0)
    }

    // MARK: Inspection

    /// The newest `limit` dead-lettered jobs with their reasons.
    public func deadLetters(limit: Int = 100) async throws(JobStoreError) -> [DeadLetter] {
        let reply = try await run(JobScripts.deadLetters, [RedisArgument(prefix), RedisArgument(max(1, limit))])
        let values = reply.array ?? []
        var result: [DeadLetter] = []
        var index = 0
        while index + 7 <= values.count {
            let f = values[index..<index + 7].map(Self.text)
            index += 7
            result.append(
                DeadLetter(
                    jobID: f[0], deadAtMs: Int64(f[1]) ?? 0, kind: f[2], userID: Int64(f[3]) ?? 0,
                    chatID: Int64(f[4]) ?? 0, attempts: Int(f[5]) ?? 0, reason: f[6]))
        }
        return result
    }

    /// Counts of scheduled, due, leased and dead jobs.
    public func depth() async throws(JobStoreError) -> JobDepth {
        let reply = try await run(JobScripts.depth, [RedisArgument(prefix)])
        guard let v = reply.array, v.count == 5 else { throw JobStoreError(.unexpectedReply, "depth replied \(reply)") }
        return JobDepth(
            scheduled: Int(v[0].int ?? 0), dueNow: Int(v[1].int ?? 0), leased: Int(v[2].int ?? 0),
            dead: Int(v[3].int ?? 0))
    }

    // MARK: Helpers

    private func run(_ script: RedisScript, _ args: [RedisArgument]) async throws(JobStoreError) -> RedisValue {
        do {
            return try await connection.next.evaluate(script, args: args)
        } catch {
            throw JobStoreError(error)
        }
    }

    /// A reply element as text (scripts return numbers as integers, fields as bulk strings).
    static func text(_ value: RedisValue) -> String {
        value.string ?? value.int.map { String($0) } ?? ""
    }

    /// A payload as stored in Redis (outside data: anything may have written it), read fast and
    /// strictly, `[:]` when it is not a JSON object.
    public static func decodePayload(_ text: String) -> [String: JSONValue] {
        if text == "{}" { return [:] }
        if let object = PayloadParser.object(text) { return object }
        return (try? IPCCoding.decode([String: JSONValue].self, from: Array(text.utf8))) ?? [:]
    }

    /// A fresh job id: `j-<ms base36>-<64 random bits hex>`.
    static func makeJobID() -> String {
        let random = UInt64.random(in: 0...UInt64.max)
        return "j-\(String(WallClock.epochMilliseconds(), radix: 36))-\(String(random, radix: 16))"
    }
}
