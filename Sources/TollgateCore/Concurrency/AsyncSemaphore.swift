import Synchronization

/// Bounds how many operations run at once: `acquire()` suspends while `limit` permits are taken.
///
/// Waiters are resumed in FIFO order. Acquisition does not observe cancellation: it is used to wait
/// for in-flight work to finish, which always happens.
public final class AsyncSemaphore: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
        var head = 0
    }
    private let state: Mutex<State>

    public init(limit: Int) {
        precondition(limit > 0)
        state = Mutex(State(available: limit))
    }

    public func acquire() async {
        let immediate = state.withLock { s -> Bool in
            if s.available > 0 {
                s.available -= 1
                return true
            }
            return false
        }
        if immediate { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s -> Bool in
                // A permit may have been released between the two locks.
                if s.available > 0 {
                    s.available -= 1
                    return true
                }
                s.waiters.append(c)
                return false
            }
            if resumeNow { c.resume() }
        }
    }

    public func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.head < s.waiters.count {
                let c = s.waiters[s.head]
                s.head += 1
                if s.head > 64, s.head * 2 > s.waiters.count {
                    s.waiters.removeFirst(s.head)
                    s.head = 0
                }
                return c  // the permit passes straight to the waiter
            }
            s.available += 1
            return nil
        }
        next?.resume()
    }
}
