import Foundation

/// Runs `body` on a new OS thread and awaits its result.
///
/// Tests use it for blocking calls (raw sockets, waitpid, sleeps): on a 2-core machine Swift's
/// cooperative pool has two threads, and a test that blocks them starves the very server it tests.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}

/// The non-throwing form of ``offPool(_:)-7xqvz``.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.start()
    }
}
