import Logging
import Synchronization
import TollgateCore

#if canImport(Glibc)
    import Glibc
#endif

/// One subscription: a thread that connects, subscribes, forwards messages and reconnects, until
/// stopped.
///
/// hiredis marks a blocking context as failed when a read times out, so the thread does not rely
/// on socket timeouts: it waits with `poll(2)` for at most `pollInterval`, and reads only when the
/// socket is readable.
final class SubscriptionSession: Sendable {
    struct Settings: Sendable {
        let url: RedisURL
        let connectTimeout: Duration
        let pollInterval: Duration
        let healthCheckInterval: Duration
        let logger: Logger
    }

    let channels: [String]
    private let settings: Settings
    private let continuation: AsyncStream<RedisSubscriber.Event>.Continuation
    private let stopping = Atomic<Bool>(false)
    private let completion = Mutex<(finished: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    init(channels: [String], settings: Settings, continuation: AsyncStream<RedisSubscriber.Event>.Continuation) {
        self.channels = channels
        self.settings = settings
        self.continuation = continuation
    }

    var isFinished: Bool { completion.withLock { $0.finished } }

    /// Starts the session's thread.
    func start() {
        DetachedThread.start { [self] in
            run()
            continuation.finish()
            let waiters = completion.withLock { state in
                state.finished = true
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Asks the thread to stop and ends the stream now; the thread exits within a poll interval
    /// (or a connect timeout, if it is connecting).
    func stop() {
        stopping.store(true, ordering: .relaxed)
        continuation.finish()
    }

    func waitUntilFinished() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let finished = completion.withLock { state in
                if !state.finished { state.waiters.append(waiter) }
                return state.finished
            }
            if finished { waiter.resume() }
        }
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    // MARK: The thread

    private func run() {
        ThreadSignals.blockBrokenPipe()
        var gate = ReconnectGate()
        var subscribedBefore = false
        let address = settings.url.address
        while !isStopping {
            if case .wait(let remaining, _) = gate.decide(now: .now) {
                pause(for: remaining)
                continue
            }
            let connection: RedisConnection
            do {
                connection = try RedisConnection.open(
                    settings.url, handshakeTimeout: settings.connectTimeout, commandTimeout: settings.connectTimeout)
            } catch {
                gate.connectFailed(error, now: .now).log(to: settings.logger, address: address)
                continue
            }
            do {
                try serve(connection) {
                    gate.connected(now: .now)?.log(to: settings.logger, address: address)
                    if subscribedBefore { continuation.yield(.reconnected) }
                    subscribedBefore = true
                }
            } catch {
                if gate.link == .up {
                    gate.connectionLost(error, now: .now)?.log(to: settings.logger, address: address)
                } else {
                    // Failed before the subscription was confirmed: count it as a failed attempt.
                    gate.connectFailed(error, now: .now).log(to: settings.logger, address: address)
                }
            }
        }
    }

    /// Subscribes, then forwards messages until stopped (returns) or the connection fails (throws).
    /// `onSubscribed` runs once every channel is confirmed.
    private func serve(_ connection: RedisConnection, onSubscribed: () -> Void) throws(RedisError) {
        try connection.append(["SUBSCRIBE"] + channels.map { RedisArgument($0) })
        try connection.flush()
        var confirmed = Set<String>()
        var lastTraffic = ContinuousClock.now
        var pingSent = false
        while !isStopping {
            while let reply = try connection.nextBufferedReply() {
                switch try Self.classify(reply) {
                case .message(let channel, let payload):
                    continuation.yield(.message(channel: channel, payload: payload))
                case .subscribed(let channel):
                    let wasComplete = confirmed.count == channels.count
                    confirmed.insert(channel)
                    if !wasComplete, confirmed.count == channels.count { onSubscribed() }
                case .other:
                    break
                }
            }
            var descriptor = pollfd(fd: connection.fileDescriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(settings.pollInterval.milliseconds))
            if ready < 0 {
                guard errno == EINTR else { throw RedisError(.connectionLost, "poll failed (errno \(errno))") }
                continue
            }
            if ready > 0 {
                try connection.readAvailable()
                lastTraffic = .now
                pingSent = false
                continue
            }
            guard ContinuousClock.now - lastTraffic >= settings.healthCheckInterval else { continue }
            if pingSent {
                throw RedisError(.connectionLost, "no reply to PING from \(connection.address)")
            }
            try connection.append(["PING"])
            try connection.flush()
            pingSent = true
            lastTraffic = .now
        }
    }

    private enum Push {
        case message(String, [UInt8])
        case subscribed(String)
        case other
    }

    private static func classify(_ reply: RedisValue) throws(RedisError) -> Push {
        if case .error(let message) = reply { throw RedisError(.serverError, message) }
        guard let parts = reply.array, let kind = parts.first?.string else {
            throw RedisError(.protocolError, "unexpected reply in subscribed mode: \(reply)")
        }
        switch kind.lowercased() {
        case "message" where parts.count == 3:
            return .message(parts[1].string ?? "", parts[2].bytes ?? [])
        case "subscribe" where parts.count == 3:
            return .subscribed(parts[1].string ?? "")
        default:
            return .other  // "pong", confirmations of commands we did not send
        }
    }

    /// Sleeps up to `duration`, waking every poll interval to check for stop.
    private func pause(for duration: Duration) {
        let deadline = ContinuousClock.now + duration
        while !isStopping, ContinuousClock.now < deadline {
            let slice = min(deadline - ContinuousClock.now, settings.pollInterval)
            usleep(useconds_t(max(1, slice.milliseconds) * 1000))
        }
    }
}
