/// The longest wait a peer may impose: Telegram's `retry_after`, NocoDB's `Retry-After`, a
/// gateway's `retry_after_ms`. A peer's number is advice, not an order: a value of 10^20 seconds or
/// a date in the year 9999 must not stop a service for ever or survive its restarts.
///
/// ```swift
/// let cap = PeerWait(name: "NOCODB_MAX_RETRY_AFTER", max: .seconds(300))
/// let wait = cap.bound(requested)   // requested, or cap.max when longer
/// ```
public struct PeerWait: Sendable, Hashable, CustomStringConvertible {
    /// The setting that configures ``max`` (named in the log line of a clamped wait).
    public let name: String
    public let max: Duration

    public init(name: String, max: Duration) {
        self.name = name
        self.max = Swift.max(.zero, max)
    }

    /// What a requested wait became.
    public struct Bounded: Sendable, Hashable {
        public let wait: Duration
        /// The requested wait was longer than the maximum (or negative) and was changed.
        public let wasClamped: Bool
        public let requested: Duration
    }

    /// `requested` limited to `0...max`.
    public func bound(_ requested: Duration) -> Bounded {
        let wait = requested.clamped(to: .zero...max)
        return Bounded(wait: wait, wasClamped: wait != requested, requested: requested)
    }

    public var description: String { "\(name) \(max)" }
}
