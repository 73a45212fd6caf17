import Synchronization
import Testing
@testable import TollgateCore

#if canImport(Glibc)
    import Glibc
#endif

actor OnThread {
    nonisolated let executor: ThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    var log: [Int] = []

    init(_ executor: ThreadExecutor) { self.executor = executor }

    func append(_ n: Int) -> Bool {
        log.append(n)
        return executor.isCurrent
    }

    /// Blocks the executor's thread, as a hiredis or curl call would, until the barrier opens.
    func wait(at barrier: ThreadBarrier) -> Bool { barrier.arriveAndWait(timeoutSeconds: 20) }
}

@Suite struct ThreadExecutorTests {
    @Test func isolatedMethodsRunOnTheDedicatedThreadInOrder() async {
        let actor = OnThread(ThreadExecutor(name: "t"))
        for i in 0..<200 { #expect(await actor.append(i)) }
        #expect(await actor.log == Array(0..<200))
        actor.executor.shutdown()
    }

    @Test func blockingTheThreadDoesNotStarveTheCooperativePool() async {
        let actors = (0..<4).map { OnThread(ThreadExecutor(name: "b\($0)")) }
        let barrier = ThreadBarrier(parties: 4)
        let ticks = TickCounter()
        await withTaskGroup(of: Bool.self) { group in
            // Each actor blocks its thread until all four are blocked at once: impossible unless
            // each runs on its own thread (the cooperative pool here has two).
            for a in actors { group.addTask { await a.wait(at: barrier) } }
            group.addTask {
                for _ in 0..<10 {
                    try? await Task.sleep(for: .milliseconds(5))
                    ticks.value.add(1, ordering: .relaxed)
                }
                return true
            }
            for await passed in group { #expect(passed) }
        }
        #expect(ticks.value.load(ordering: .relaxed) == 10)
        actors.forEach { $0.executor.shutdown() }
    }

    @Test func shutdownIsIdempotentAndWorkAfterItStillRuns() async {
        let executor = ThreadExecutor(name: "s")
        let actor = OnThread(executor)
        #expect(await actor.append(1))
        executor.shutdown()
        executor.shutdown()
        // A job arriving after shutdown is not stranded: a thread starts for it.
        #expect(await actor.append(2))
        #expect(await actor.log == [1, 2])
        executor.shutdown()
    }
}

final class TickCounter: Sendable {
    let value = Atomic<Int>(0)
}

/// A blocking barrier for OS threads, with a timeout so that a failing test ends.
final class ThreadBarrier: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var arrived = 0
    private let parties: Int

    init(parties: Int) {
        self.parties = parties
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
    }

    func arriveAndWait(timeoutSeconds: Int) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        arrived += 1
        pthread_cond_broadcast(&cond)
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        deadline.tv_sec += timeoutSeconds
        while arrived < parties {
            if pthread_cond_timedwait(&cond, &mutex, &deadline) == ETIMEDOUT { return arrived >= parties }
        }
        return true
    }
}
