import Synchronization

/// Heartbeats of the loops whose progress the watchdog vouches for.
///
/// Each main loop registers once and calls ``Heartbeat/checkpoint()`` every iteration. The
/// supervisor sends `WATCHDOG=1` only while every registered loop has beaten within its
/// `maxSilence`, so a wedged loop (a deadlock, a stuck await) gets the process killed and restarted
/// by systemd instead of leaving it half-alive. A loop that waits for events must wake at least
/// once per `maxSilence` to beat.
///
/// The test-only switch (`TOLLGATE_TEST_HOOKS=1`, SIGUSR1) freezes every loop at its next
/// checkpoint — the loops really stop — which is how the system test proves the watchdog.
public final class Liveness: Sendable {
    private struct Loop {
        var name: String
        var maxSilence: Duration
        var lastBeat: ContinuousClock.Instant
        var retired: Bool
    }
    private let loops = Mutex<[Int: Loop]>([:])
    private let nextID = Atomic<Int>(0)
    private let frozenFlag = Atomic<Bool>(false)

    public init() {}

    public func register(_ name: String, maxSilence: Duration) -> Heartbeat {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        loops.withLock { $0[id] = Loop(name: name, maxSilence: maxSilence, lastBeat: .now, retired: false) }
        return Heartbeat(liveness: self, id: id)
    }

    /// Names of the loops that have been silent for longer than they may be.
    public func staleLoops(now: ContinuousClock.Instant = .now) -> [String] {
        loops.withLock { all in
            all.values.filter { !$0.retired && now - $0.lastBeat > $0.maxSilence }.map(\.name).sorted()
        }
    }

    /// Whether the test switch has frozen the loops.
    public var isFrozen: Bool { frozenFlag.load(ordering: .acquiring) }

    /// Test-only: every loop stops at its next checkpoint, for good.
    public func freeze() { frozenFlag.store(true, ordering: .releasing) }

    fileprivate func beat(_ id: Int) {
        loops.withLock { $0[id]?.lastBeat = .now }
    }

    fileprivate func retire(_ id: Int) {
        loops.withLock { $0[id] = nil }
    }
}

/// One loop's heartbeat.
public struct Heartbeat: Sendable {
    let liveness: Liveness
    let id: Int

    /// Records progress. Call from the loop itself, not from a timer beside it.
    public func beat() { liveness.beat(id) }

    /// Records progress; under the test-only freeze switch, suspends until the task is cancelled.
    public func checkpoint() async {
        if liveness.isFrozen {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
            return
        }
        liveness.beat(id)
    }

    /// The loop ended normally (e.g. leader-only work after losing leadership): stop vouching for it.
    public func retire() { liveness.retire(id) }
}
