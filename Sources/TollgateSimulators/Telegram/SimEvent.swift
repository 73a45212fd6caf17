import ServiceLifecycle
import Synchronization

/// A one-shot event carrying a value: the first `fire` wins, `wait` returns it.
final class SimEvent<T: Sendable>: Sendable {
    private struct State {
        var value: T?
        var continuation: CheckedContinuation<T, Never>?
    }
    private let state = Mutex(State())

    func fire(_ value: T) {
        let continuation = state.withLock { s -> CheckedContinuation<T, Never>? in
            guard s.value == nil else { return nil }
            s.value = value
            defer { s.continuation = nil }
            return s.continuation
        }
        continuation?.resume(returning: value)
    }

    func wait() async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            let now = state.withLock { s -> T? in
                if let v = s.value { return v }
                s.continuation = c
                return nil
            }
            if let now { c.resume(returning: now) }
        }
    }

    /// Waits for the event, firing `onTimeout` after `timeout`, `onEnd` when the calling task is
    /// cancelled or the service group shuts down gracefully.
    func wait(timeout: Duration, onTimeout: T, onEnd: T) async -> T {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.fire(onTimeout)
            }
            let value = await withGracefulShutdownHandler {
                await withTaskCancellationHandler {
                    await self.wait()
                } onCancel: {
                    self.fire(onEnd)
                }
            } onGracefulShutdown: {
                self.fire(onEnd)
            }
            group.cancelAll()
            return value
        }
    }
}

/// A reusable wake-up for one waiting loop: `signal()` wakes the current or the next `wait`.
final class SimWakeup: Sendable {
    private struct State {
        var pending = false
        var continuation: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    func signal() {
        let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let c = s.continuation {
                s.continuation = nil
                return c
            }
            s.pending = true
            return nil
        }
        c?.resume()
    }

    /// Returns on a signal, at `deadline` (if any), or when the task is cancelled.
    func wait(until deadline: ContinuousClock.Instant?) async {
        await withTaskGroup(of: Void.self) { group in
            if let deadline {
                group.addTask {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    self.signal()
                }
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let now = state.withLock { s -> Bool in
                        if s.pending {
                            s.pending = false
                            return true
                        }
                        s.continuation = c
                        return false
                    }
                    if now { c.resume() }
                }
            } onCancel: {
                self.signal()
            }
            group.cancelAll()
        }
        state.withLock { $0.pending = false }
    }
}
