/// Long waits in slices: a loop whose liveness the watchdog vouches for may be told by a peer to
/// wait minutes (a NocoDB block, Telegram's flood control). Sleeping that in one piece would
/// starve its heartbeat and get the process killed; sleeping in slices of at most a second lets
/// the waiting task say "still alive, waiting as told" and notice cancellation promptly.
///
/// A loop sets ``progress`` for the work it calls into; every ``sleep(for:)`` below it calls the
/// closure after each slice:
///
/// ```swift
/// try await SlicedSleep.$progress.withValue({ await heartbeat.checkpoint() }) {
///     try await nocodb.list(...)       // its 429 waits beat the heartbeat
/// }
/// ```
public enum SlicedSleep {
    /// Called after each slice of a long wait in the current task (and its child tasks).
    @TaskLocal public static var progress: (@Sendable () async -> Void)?

    /// The longest single slice.
    public static let slice: Duration = .seconds(1)

    /// Sleeps `duration` in slices of at most ``slice``, calling ``progress`` after each.
    ///
    /// - Throws: `CancellationError` when the task is cancelled (promptly, within one slice).
    public static func sleep(for duration: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + max(.zero, duration)
        while true {
            try Task.checkCancellation()
            let left = deadline - clock.now
            if left <= .zero { return }
            try await Task.sleep(for: min(left, slice))
            if let progress { await progress() }
        }
    }
}
