#if canImport(Glibc)
    import Glibc
#endif

/// A serial executor backed by a dedicated OS thread.
///
/// Blocking C calls (hiredis, libcurl) must never run on Swift's cooperative pool: an actor that
/// owns such a handle returns this executor as its `unownedExecutor`, so every isolated method runs
/// on the dedicated thread and may block it without starving other tasks.
///
/// ```swift
/// actor Connection {
///     nonisolated let executor = ThreadExecutor(name: "redis")
///     nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
/// }
/// ```
///
/// Made with `forTasks: true` it is a task executor instead: a task that prefers it
/// (`withTaskExecutorPreference`) runs its nonisolated code on the dedicated thread, so what comes
/// back from another thread (a Redis reply) continues there at once, not after the cooperative
/// pool's queue — for work whose timing matters more than its CPU (a rate-limit slot that must be
/// used within a few hundred milliseconds of its grant).
///
/// `shutdown()` lets the thread exit once its queue is empty and waits for that. It is idempotent,
/// and it never strands work: a job enqueued after shutdown starts a thread again, which runs it and
/// exits when idle (jobs still run one at a time, in order).
public final class ThreadExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    // All mutable state is guarded by `mutex`; `cond` signals new work, shutdown, and thread exit.
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var queue: [UnownedJob] = []
    private var stopping = false
    private var running = false
    private var current: pthread_t?
    public let name: String
    /// Runs its jobs as a task executor rather than as an actor's serial executor.
    public let forTasks: Bool

    public init(name: String, forTasks: Bool = false) {
        self.name = name
        self.forTasks = forTasks
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
        pthread_mutex_lock(&mutex)
        startThreadLocked()
        pthread_mutex_unlock(&mutex)
    }

    /// Starts the worker thread (detached). Call with `mutex` held.
    private func startThreadLocked() {
        running = true
        let box = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let rc = pthread_create(
            &tid, nil,
            { raw in
                let executor = Unmanaged<ThreadExecutor>.fromOpaque(raw!).takeRetainedValue()
                executor.runLoop()
                return nil
            }, box.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
        pthread_detach(tid)
        current = tid
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        pthread_mutex_lock(&mutex)
        queue.append(unowned)
        if !running { startThreadLocked() }
        pthread_cond_broadcast(&cond)
        pthread_mutex_unlock(&mutex)
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    /// Whether the caller runs on this executor's thread.
    public var isCurrent: Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard running, let current else { return false }
        return pthread_equal(pthread_self(), current) != 0
    }

    public func checkIsolated() {
        precondition(isCurrent, "not on \(name) thread")
    }

    /// Lets the thread exit after the jobs already queued have run, and waits for it (unless
    /// called from that very thread). Safe to call more than once.
    public func shutdown() {
        let onOwnThread = isCurrent
        pthread_mutex_lock(&mutex)
        stopping = true
        pthread_cond_broadcast(&cond)
        if !onOwnThread {
            while running { pthread_cond_wait(&cond, &mutex) }
        }
        pthread_mutex_unlock(&mutex)
    }

    private func runLoop() {
        pthread_mutex_lock(&mutex)
        while true {
            while queue.isEmpty && !stopping {
                pthread_cond_wait(&cond, &mutex)
            }
            if queue.isEmpty {
                // Stopping and idle: exit; a later enqueue starts a new thread.
                running = false
                current = nil
                pthread_cond_broadcast(&cond)
                pthread_mutex_unlock(&mutex)
                return
            }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            pthread_mutex_unlock(&mutex)
            for job in batch {
                if forTasks {
                    job.runSynchronously(on: asUnownedTaskExecutor())
                } else {
                    job.runSynchronously(on: asUnownedSerialExecutor())
                }
            }
            pthread_mutex_lock(&mutex)
        }
    }

    deinit {
        pthread_cond_destroy(&cond)
        pthread_mutex_destroy(&mutex)
    }
}
