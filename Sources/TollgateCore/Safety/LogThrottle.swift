import Synchronization

/// Logs a kind of fault once, then at most once per ``interval``, saying how many were held
/// back — a hostile peer answering every request with garbage must not flood the journal.
///
/// ```swift
/// let throttle = LogThrottle(interval: .seconds(60))
/// if let held = throttle.admit("nocodb:invalid_response") {
///     logger.warning("NocoDB reply unreadable", metadata: ["suppressed": "\(held)"])
/// }
/// ```
public final class LogThrottle: Sendable {
    public let interval: Duration
    private struct Entry {
        var lastLogged: ContinuousClock.Instant
        var held: Int
    }
    private let entries = Mutex<[String: Entry]>([:])
    /// Kinds remembered at most (a peer choosing the kind cannot grow the table without bound).
    private let capacity: Int

    public init(interval: Duration = .seconds(60), capacity: Int = 256) {
        self.interval = interval
        self.capacity = max(1, capacity)
    }

    /// `nil` when this occurrence should not be logged; otherwise how many occurrences of `kind`
    /// were held back since the last line (0 on the first).
    public func admit(_ kind: String, now: ContinuousClock.Instant = .now) -> Int? {
        entries.withLock { entries in
            if var entry = entries[kind] {
                guard now - entry.lastLogged >= interval else {
                    entry.held = entry.held.saturatingPlus(1)
                    entries[kind] = entry
                    return nil
                }
                entries[kind] = Entry(lastLogged: now, held: 0)
                return entry.held
            }
            if entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastLogged < $1.value.lastLogged }) {
                entries[oldest.key] = nil
            }
            entries[kind] = Entry(lastLogged: now, held: 0)
            return 0
        }
    }
}
