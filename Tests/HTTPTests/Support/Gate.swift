import ServiceLifecycle
import Synchronization

/// A signal the test controls: handlers wait on it, the test opens it when it has seen what it
/// wanted to see while they were held. Lets tests prove order structurally ("the short requests
/// completed while the long one was still held") instead of timing anything.
///
/// Waiting suspends the task (never a thread) and ends early when the task is cancelled.
final class Gate: Sendable {
    private struct State {
        var isOpen = false
        var arrivals = 0
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Whether ``open()`` was called.
    var isOpen: Bool { state.withLock { $0.isOpen } }

    /// How many waits have started so far (a handler that reached the gate is in flight).
    var arrivals: Int { state.withLock { $0.arrivals } }

    /// Opens the gate for good: every waiter resumes, later waits return at once. Idempotent.
    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when the gate is open (`true`) or the task was cancelled first (`false`).
    @discardableResult
    func wait() async -> Bool {
        let id = state.withLock { state in
            state.arrivals += 1
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    // Cancellation is flagged before the handler below runs, so either the
                    // handler finds this waiter or this check sees the cancellation.
                    if state.isOpen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
        return isOpen
    }
}

/// A handler's wait on `gate` that also ends when the server shuts down gracefully, so that a
/// failing test's teardown never waits for a gate nobody will open.
func handlerWait(for gate: Gate) async {
    _ = await cancelWhenGracefulShutdown { await gate.wait() }
}
