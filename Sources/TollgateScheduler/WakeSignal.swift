import Synchronization

/// Wakes the dispatcher's idle wait early: when a job becomes due earlier than the time it sleeps
/// towards (a `PUBLISH` from `schedule`), or when the wake-up channel reconnected and messages may
/// have been lost (rescan).
final class WakeSignal: Sendable {
    private struct State {
        /// The server time (ms) the sleeper waits for; `nil` while nobody sleeps.
        var target: Int64?
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    /// A job falls due at `dueMs` (server clock); `nil` means "rescan".
    func notify(dueMs: Int64?) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let waiter = s.waiter else {
                // Nobody sleeps (yet): the next wait returns at once, so a wake-up that arrives
                // between a claim and the wait that follows it is never lost.
                s.pending = true
                return nil
            }
            if let dueMs, let target = s.target, dueMs >= target { return nil }
            s.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Sleeps until `deadline`, or until notified of a job due before `targetMs`. Returns true when
    /// woken early. Honours cancellation.
    func wait(until deadline: ContinuousClock.Instant, targetMs: Int64?) async -> Bool {
        let early = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await Task.sleep(until: deadline, tolerance: .milliseconds(1), clock: .continuous)
                return false
            }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                        let now = self.state.withLock { s -> Bool in
                            if s.pending || Task.isCancelled {
                                s.pending = false
                                return true
                            }
                            s.target = targetMs
                            s.waiter = c
                            return false
                        }
                        if now { c.resume() }
                    }
                } onCancel: {
                    let waiter = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
                        defer { s.waiter = nil }
                        return s.waiter
                    }
                    waiter?.resume()
                }
                return !Task.isCancelled
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        state.withLock { $0.target = nil }
        return early
    }
}
