import Logging
import Synchronization

/// Receives Redis pub/sub messages on dedicated connections, reconnecting forever until closed.
///
/// Each ``subscribe(channels:)`` opens its own connection, served by its own thread, and returns
/// a stream of ``Event``s. When the connection breaks, the thread reconnects (backoff 100 ms → 5 s)
/// and subscribes again, then emits ``Event/reconnected``: messages published while it was away
/// are lost (that is pub/sub), so consumers should rescan whatever state the messages announce.
///
/// ```swift
/// let subscriber = RedisSubscriber(url: url, name: "wakeups", logger: logger)
/// for await event in subscriber.subscribe(channels: ["jobs:wake"]) {
///     switch event {
///     case .message(_, let payload): ...
///     case .reconnected: rescanDueJobs()
///     }
/// }
/// ```
///
/// The stream buffers without limit: consume it promptly.
public final class RedisSubscriber: Sendable {
    /// What a subscription stream yields.
    public enum Event: Sendable, Hashable {
        /// A message published to one of the subscribed channels.
        case message(channel: String, payload: [UInt8])
        /// The connection was lost and is subscribed again; messages may have been missed meanwhile.
        case reconnected
    }

    public let url: RedisURL
    public let name: String
    private let settings: SubscriptionSession.Settings
    private let state = Mutex<(closed: Bool, sessions: [SubscriptionSession])>((false, []))

    /// - Parameters:
    ///   - connectTimeout: bounds connect, `AUTH` and `SELECT` (and so how long ``close()`` may wait
    ///     for a thread that is in the middle of connecting).
    ///   - pollInterval: how often an idle thread checks whether it should stop.
    ///   - healthCheckInterval: after this long without traffic the thread sends `PING`; without a
    ///     reply within another interval the connection is considered dead and replaced.
    public init(
        url: RedisURL, name: String, connectTimeout: Duration = .seconds(2), pollInterval: Duration = .milliseconds(250),
        healthCheckInterval: Duration = .seconds(15), logger: Logger
    ) {
        self.url = url
        self.name = name
        var logger = logger
        logger[metadataKey: "redis"] = "\(name)"
        settings = SubscriptionSession.Settings(
            url: url, connectTimeout: connectTimeout, pollInterval: pollInterval,
            healthCheckInterval: healthCheckInterval, logger: logger)
    }

    deinit {
        for session in state.withLock({ $0.sessions }) { session.stop() }
    }

    /// Subscribes to `channels` on a new connection. The stream ends when ``close()`` is called or
    /// the consumer stops iterating; it is empty if `channels` is empty or the subscriber is closed.
    public func subscribe(channels: [String]) -> AsyncStream<Event> {
        var unique: [String] = []
        for channel in channels where !unique.contains(channel) { unique.append(channel) }
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self)
        guard !unique.isEmpty else {
            continuation.finish()
            return stream
        }
        let session = SubscriptionSession(channels: unique, settings: settings, continuation: continuation)
        let admitted = state.withLock { state in
            guard !state.closed else { return false }
            state.sessions.removeAll { $0.isFinished }
            state.sessions.append(session)
            return true
        }
        guard admitted else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { _ in session.stop() }
        session.start()
        return stream
    }

    /// Stops every subscription: ends the streams and waits until each connection is closed.
    public func close() async {
        let sessions = state.withLock { state in
            state.closed = true
            let sessions = state.sessions
            state.sessions = []
            return sessions
        }
        for session in sessions { session.stop() }
        for session in sessions { await session.waitUntilFinished() }
    }
}
