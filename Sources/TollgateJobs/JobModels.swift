import TollgateIPC

/// A job claimed for delivery under a lease.
public struct ClaimedJob: Sendable, Equatable {
    public var id: String
    /// The fencing epoch of the claim: completions must present it.
    public var epoch: Int64
    public var kind: String
    public var userID: Int64
    public var chatID: Int64
    public var dueAtMs: Int64
    /// 1 on the first attempt (counted at claim).
    public var attempt: Int
    public var maxAttempts: Int
    public var payload: [String: JSONValue]
    /// Earlier deliveries of this job whose gateway connection dropped before an answer.
    public var drops: Int

    public init(
        id: String, epoch: Int64, kind: String, userID: Int64, chatID: Int64, dueAtMs: Int64, attempt: Int,
        maxAttempts: Int, payload: [String: JSONValue], drops: Int = 0
    ) {
        self.drops = drops
        self.id = id
        self.epoch = epoch
        self.kind = kind
        self.userID = userID
        self.chatID = chatID
        self.dueAtMs = dueAtMs
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.payload = payload
    }

    /// The job as a `deliver` entry for the gateway.
    public var delivery: Delivery {
        Delivery(
            jobID: id, epoch: epoch, kind: kind, userID: userID, chatID: chatID, attempt: attempt, dueAtMs: dueAtMs,
            payload: payload)
    }
}

/// The result of one claim.
public struct ClaimBatch: Sendable, Equatable {
    /// The fencing epoch shared by every job of this claim (0 when nothing was claimed).
    public var epoch: Int64
    public var jobs: [ClaimedJob]
    /// The Redis server's clock when the claim ran (Unix ms).
    public var serverNowMs: Int64
    /// When the earliest job left in the due set falls due (Unix ms, Redis clock), if any.
    public var nextDueMs: Int64?
}

/// How a claimed job ends (or goes round again).
public enum JobCompletion: Sendable, Equatable {
    /// Done: removed, and remembered for the retention window so it is never scheduled again.
    case ack
    /// Back to due after `after`; `reason` is kept on the job.
    case retry(after: Duration, reason: String)
    /// Removed to the dead-letter set with `reason`.
    case deadLetter(reason: String)
    /// Back to due at its original due time, the attempt not counted (the gateway was unreachable).
    case release
    /// Back to due after `after`, the attempt not counted (the gateway did not try it: its time
    /// ran out first, or another runner held it).
    case postpone(after: Duration, reason: String)
    /// Like ``release``, counting a dropped delivery (the gateway's connection dropped while it had
    /// the job, in a batch with others): the job is delivered alone next time.
    case dropped
    /// Like ``retry(after:reason:)``, counting a dropped delivery (it dropped while delivered alone).
    case droppedRetry(after: Duration, reason: String)
}

/// What the store did with one completion.
public enum CompletionStatus: Int, Sendable, Equatable {
    /// Carried out.
    case done = 1
    /// Refused: the job is no longer leased under this epoch (the lease lapsed and it was
    /// recovered or claimed again).
    case stale = 0
    /// The job does not exist any more (cancelled meanwhile).
    case missing = -1
}

/// The result of one pass of lease recovery.
public struct LeaseRecovery: Sendable, Equatable {
    /// Jobs whose lease had lapsed and that went back to due.
    public var recovered: Int
    /// Jobs whose lease lapsed on their last attempt, now dead-lettered.
    public var deadLettered: Int
    /// When the earliest remaining lease expires (Unix ms, Redis clock), if any.
    public var nextExpiryMs: Int64?
    /// The Redis server's clock during the pass.
    public var serverNowMs: Int64
}

/// A dead-lettered job and why.
public struct DeadLetter: Sendable, Equatable {
    public var jobID: String
    public var deadAtMs: Int64
    public var kind: String
    public var userID: Int64
    public var chatID: Int64
    public var attempts: Int
    public var reason: String
}

/// How many jobs are where.
public struct JobDepth: Sendable, Equatable {
    /// Jobs waiting in the due set (including those due now).
    public var scheduled: Int
    /// Of those, the ones already due.
    public var dueNow: Int
    /// Jobs leased to a dispatcher.
    public var leased: Int
    /// Jobs in the dead-letter set.
    public var dead: Int

    public init(scheduled: Int, dueNow: Int, leased: Int, dead: Int) {
        self.scheduled = scheduled
        self.dueNow = dueNow
        self.leased = leased
        self.dead = dead
    }
}
