import Synchronization

/// Where the server is in its life, and the callers of ``HTTPServer/listeningAddress()``
/// waiting for it to bind.
final class ListenState: Sendable {
    private enum Phase {
        case notStarted
        case binding
        case listening(HTTPServer.Address)
        case failed(HTTPServerError)
        case finished
    }

    private struct State {
        var phase = Phase.notStarted
        var waiters: [Int: CheckedContinuation<HTTPServer.Address, any Error>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    /// Claims the one run of the server; `false` when it was already started.
    func start() -> Bool {
        state.withLock { state in
            guard case .notStarted = state.phase else { return false }
            state.phase = .binding
            return true
        }
    }

    func listening(_ address: HTTPServer.Address) {
        resolve(.listening(address), with: .success(address))
    }

    func failed(_ error: HTTPServerError) {
        resolve(.failed(error), with: .failure(error))
    }

    func finished() {
        let error = HTTPServerError(code: .notRunning, detail: "server stopped")
        resolve(.finished, with: .failure(error))
    }

    /// The bound address, waiting for the bind if needed.
    func address() async throws -> HTTPServer.Address {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready: Result<HTTPServer.Address, any Error>? = state.withLock { state in
                    switch state.phase {
                    case .notStarted, .binding:
                        if Task.isCancelled { return .failure(CancellationError()) }
                        state.waiters[id] = continuation
                        return nil
                    case .listening(let address):
                        return .success(address)
                    case .failed(let error):
                        return .failure(error)
                    case .finished:
                        return .failure(HTTPServerError(code: .notRunning, detail: "server stopped"))
                    }
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    private func resolve(_ phase: Phase, with result: Result<HTTPServer.Address, any Error>) {
        let waiters = state.withLock { state in
            if case .failed = state.phase, case .finished = phase {
                // keep the bind error for later callers
            } else {
                state.phase = phase
            }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(with: result) }
    }
}
