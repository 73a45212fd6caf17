import Synchronization

/// A FIFO, cancellable one-at-a-time gate: the waiters of one process for one resource pass
/// through it in order, so that only one of them at a time polls the shared limiter (no
/// thundering herd on Redis when fifty tasks wait for the same token).
final class RateLimitTurnstile: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }
    private struct State {
        var busy = false
        var nextID: UInt64 = 0
        var waiters: [Waiter] = []
    }
    private let state = Mutex(State())

    /// Waits for the turn. Throws `CancellationError` (without taking the turn) when cancelled.
    func enter() async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now = state.withLock { s -> Bool in
                    if !s.busy {
                        s.busy = true
                        return true
                    }
                    s.waiters.append(Waiter(id: id, continuation: continuation))
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let removed = state.withLock { s -> Waiter? in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: index)
            }
            removed?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Hands the turn to the next waiter (or frees it).
    func leave() {
        let next = state.withLock { s -> Waiter? in
            if s.waiters.isEmpty {
                s.busy = false
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.continuation.resume()
    }
}
