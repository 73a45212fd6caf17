import Synchronization

/// Admits calls to an object whose executor thread is stopped on close.
///
/// A job enqueued on a stopped ``TollgateCore/ThreadExecutor`` would never run and its caller
/// would wait forever. So every call first passes this gate: after close, calls are refused at
/// once; the thread is stopped only when the last admitted call has left, and exactly once.
final class CallGate: Sendable {
    private struct State {
        var closed = false
        var inFlight = 0
        var stopped = false
    }

    private let state = Mutex(State())

    /// Admits a call unless closed; `closing` admits it and refuses every later call.
    /// Every admitted call must be followed by exactly one ``leave()``.
    func enter(closing: Bool = false) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.inFlight += 1
            if closing { state.closed = true }
            return true
        }
    }

    /// Ends an admitted call; `true` means "you were the last one out after close: stop the thread".
    func leave() -> Bool {
        state.withLock { state in
            state.inFlight -= 1
            guard state.closed, state.inFlight == 0, !state.stopped else { return false }
            state.stopped = true
            return true
        }
    }

    /// Whether the gate was closed.
    var isClosed: Bool { state.withLock { $0.closed } }

    /// For `deinit` (no call can be in flight): `true` if the thread still has to be stopped.
    func finalStop() -> Bool {
        state.withLock { state in
            state.closed = true
            guard !state.stopped else { return false }
            state.stopped = true
            return true
        }
    }
}
