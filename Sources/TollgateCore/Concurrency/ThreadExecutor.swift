#if canImport(Glibc)
    import Glibc
#endif

/// A serial executor backed by one dedicated OS thread.
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
public final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    // Guarded by `mutex`; `cond` signals new work or shutdown.
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var queue: [UnownedJob] = []
    private var head = 0
    private var stopping = false
    private var thread: pthread_t?
    public let name: String

    public init(name: String) {
        self.name = name
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
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
        thread = tid
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        pthread_mutex_lock(&mutex)
        queue.append(unowned)
        pthread_cond_signal(&cond)
        pthread_mutex_unlock(&mutex)
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Whether the caller runs on this executor's thread.
    public var isCurrent: Bool {
        guard let thread else { return false }
        return pthread_equal(pthread_self(), thread) != 0
    }

    public func checkIsolated() {
        precondition(isCurrent, "not on \(name) thread")
    }

    /// Stops the thread after the jobs already queued have run. Jobs enqueued later still run:
    /// the loop only exits once the queue is empty *and* shutdown was requested, and the thread is
    /// joined, so no job is dropped silently.
    public func shutdown() {
        pthread_mutex_lock(&mutex)
        stopping = true
        pthread_cond_signal(&cond)
        pthread_mutex_unlock(&mutex)
        if let thread, !isCurrent {
            pthread_join(thread, nil)
        }
    }

    private func runLoop() {
        while true {
            pthread_mutex_lock(&mutex)
            while head == queue.count && !stopping {
                pthread_cond_wait(&cond, &mutex)
            }
            if head == queue.count && stopping {
                pthread_mutex_unlock(&mutex)
                return
            }
            let batch = Array(queue[head...])
            queue.removeAll(keepingCapacity: true)
            head = 0
            pthread_mutex_unlock(&mutex)
            for job in batch {
                job.runSynchronously(on: asUnownedSerialExecutor())
            }
        }
    }

    deinit {
        pthread_cond_destroy(&cond)
        pthread_mutex_destroy(&mutex)
    }
}
