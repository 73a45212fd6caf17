import TollgateCore
import TollgateIPC
import TollgateJobs

/// The poller's scheduling knobs (environment variables; README "Configuration").
public struct SchedulerSettings: Sendable, Equatable {
    /// `JOB_BATCH_SIZE` (default 100, at most 500): jobs claimed and sent to the gateway per batch.
    public var batchSize: Int
    /// `JOB_LEASE` (default 30 s): how long a claimed job is reserved; extended while the gateway works.
    public var lease: Duration
    /// `JOB_MAX_ATTEMPTS` (default 10): attempts of a job that does not say, before dead-lettering.
    public var maxAttempts: Int
    /// `JOB_RETENTION` (default 7 d): how long completed job ids are remembered.
    public var retention: Duration
    /// `JOB_RETRY_BASE` / `JOB_RETRY_CAP` (1 s / 10 min): backoff of jobs the gateway asked to retry.
    public var retryBase: Duration
    public var retryCap: Duration
    /// `DISPATCH_CONCURRENCY` (default 4): batches in flight to the gateway per instance.
    public var concurrency: Int
    /// `DELIVER_TIMEOUT` (default 60 s): how long to wait for the gateway's answer to one batch.
    public var deliverTimeout: Duration
    /// `GATEWAY_BACKOFF_MAX` (default 5 s, at most 20 s): the cap of the pause after the gateway was
    /// unreachable (the dispatch loop still beats its watchdog heartbeat in between).
    public var gatewayBackoffCap: Duration
    /// `WAKE_JITTER` (default 2 ms): random delay before a timer wake-up's claim, so that N idle
    /// instances do not all claim at the same instant (0 disables).
    public var wakeJitter: Duration
    /// `DISPATCH_LINGER` (default 5 ms): after a claim that took every due job (fewer than a full
    /// batch), wait this long before claiming again, so that under a steady stream of due jobs the
    /// batches are fuller (fewer round trips per job) at the price of at most this much lateness.
    /// A job due alone is still claimed at its due time.
    public var linger: Duration
    /// `LEADER_LOCK_TTL` (default 10 s): failover time when the leader dies or freezes.
    public var leaderLockTTL: Duration
    /// `CLUSTER_HEARTBEAT` (default 2 s): how often each instance publishes its stats snapshot.
    public var clusterHeartbeat: Duration
    /// `IPC_MAX_FRAME_BYTES` (set by the assembly from the runtime settings): deliver frames fit it.
    public var maxFrameBytes = 1 << 20
    /// `JOB_MAX_DROPS`: a job delivered alone whose deliveries dropped the gateway's connection this
    /// many times is dead-lettered (a job that crashes the gateway must not crash it for ever).
    public var maxDrops = 3
    /// `DEAD_LETTER_RETENTION`: dead-lettered jobs are removed after this long.
    public var deadLetterRetention: Duration = .seconds(30 * 86400)

    public init(
        batchSize: Int = 100, lease: Duration = .seconds(30), maxAttempts: Int = 10,
        retention: Duration = .seconds(7 * 86400), retryBase: Duration = .seconds(1), retryCap: Duration = .seconds(600),
        concurrency: Int = 4, deliverTimeout: Duration = .seconds(60), gatewayBackoffCap: Duration = .seconds(5),
        wakeJitter: Duration = .milliseconds(2), linger: Duration = .milliseconds(5), leaderLockTTL: Duration = .seconds(10),
        clusterHeartbeat: Duration = .seconds(2)
    ) {
        self.batchSize = batchSize
        self.lease = lease
        self.maxAttempts = maxAttempts
        self.retention = retention
        self.retryBase = retryBase
        self.retryCap = retryCap
        self.concurrency = concurrency
        self.deliverTimeout = deliverTimeout
        self.gatewayBackoffCap = gatewayBackoffCap
        self.wakeJitter = wakeJitter
        self.linger = linger
        self.leaderLockTTL = leaderLockTTL
        self.clusterHeartbeat = clusterHeartbeat
    }

    /// Reads the settings, recording every problem in `r`.
    public static func read(_ r: inout ConfigReader) -> SchedulerSettings {
        var settings = SchedulerSettings(
            batchSize: r.int("JOB_BATCH_SIZE", default: 100, range: 1...Deliver.maxBatch),
            lease: r.duration("JOB_LEASE", default: .seconds(30), min: .seconds(1), max: .seconds(3600)),
            maxAttempts: r.int("JOB_MAX_ATTEMPTS", default: 10, range: 1...100),
            retention: r.duration("JOB_RETENTION", default: .seconds(7 * 86400), min: .seconds(60), max: .seconds(90 * 86400)),
            retryBase: r.duration("JOB_RETRY_BASE", default: .seconds(1), min: .milliseconds(10), max: .seconds(3600)),
            retryCap: r.duration("JOB_RETRY_CAP", default: .seconds(600), min: .milliseconds(10), max: .seconds(86400)),
            concurrency: r.int("DISPATCH_CONCURRENCY", default: 4, range: 1...64),
            deliverTimeout: r.duration("DELIVER_TIMEOUT", default: .seconds(60), min: .seconds(1), max: .seconds(600)),
            gatewayBackoffCap: r.duration("GATEWAY_BACKOFF_MAX", default: .seconds(5), min: .milliseconds(100), max: .seconds(20)),
            wakeJitter: r.duration("WAKE_JITTER", default: .milliseconds(2), min: .zero, max: .seconds(1)),
            linger: r.duration("DISPATCH_LINGER", default: .milliseconds(5), min: .zero, max: .milliseconds(100)),
            leaderLockTTL: r.duration("LEADER_LOCK_TTL", default: .seconds(10), min: .seconds(1), max: .seconds(300)),
            clusterHeartbeat: r.duration("CLUSTER_HEARTBEAT", default: .seconds(2), min: .milliseconds(100), max: .seconds(60)))
        settings.maxDrops = r.int("JOB_MAX_DROPS", default: 3, range: 1...100)
        settings.deadLetterRetention = r.duration(
            "DEAD_LETTER_RETENTION", default: .seconds(30 * 86400), min: .seconds(60), max: .seconds(3650 * 86400))
        return settings
    }

    var storeSettings: JobStore.Settings { JobStore.Settings(retention: retention, defaultMaxAttempts: maxAttempts) }
    var retryPolicy: RetryPolicy { RetryPolicy(base: retryBase, cap: max(retryCap, retryBase)) }
}
