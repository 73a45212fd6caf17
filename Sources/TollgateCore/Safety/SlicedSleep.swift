/// Long waits in slices: a loop whose liveness the watchdog vouches for may be told by a peer to
/// wait minutes (a NocoDB block, Telegram's flood control). Sleeping that in one piece would
/// starve its heartbeat and get the process killed; sleeping in slices of at most a second lets
/// the waiting task say "still alive, waiting as told" and notice cancellation promptly.
///
/// A loop binds its heartbeat for the work it calls into; every ``sleep(for:)`` below it (and
/// every ``reportProgress()``) calls the heartbeat after each slice:
///
/// ```swift
/// try await SlicedSleep.withProgress({ await heartbeat.checkpoint() }) {
///     try await nocodb.list(...)       // its 429 waits beat the heartbeat
/// }
/// ```
public enum SlicedSleep {
    /// The heartbeat a task bound. A class, so the task-local value is one reference: an optional
    /// closure (two words) as a task-local value is pushed out of order by the optimised Swift 6.3
    /// build and crashed the release binaries in `swift_task_localValuePush`.
    public final class Progress: Sendable {
        let beat: @Sendable () async -> Void
        public init(_ beat: @escaping @Sendable () async -> Void) { self.beat = beat }
    }

    @TaskLocal static var current: Progress?

    /// Runs `operation` with `beat` as the heartbeat of every long wait below it (in this task and
    /// its child tasks).
    public static func withProgress<T>(
        _ beat: @escaping @Sendable () async -> Void, isolation: isolated (any Actor)? = #isolation,
        operation: () async throws -> T
    ) async rethrows -> T {
        let progress = Progress(beat)
        return try await $current.withValue(progress, operation: operation, isolation: isolation)
    }

    /// Tells the bound heartbeat, if any, that the task is waiting as told, not wedged.
    public static func reportProgress() async {
        if let progress = current { await progress.beat() }
    }

    /// The longest single slice.
    public static let slice: Duration = .seconds(1)

    /// Sleeps `duration` in slices of at most ``slice``, telling the bound heartbeat after each.
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
            await reportProgress()
        }
    }
}
