import Logging
import Synchronization
import TollgateCore

/// A Redis client: one connection, used by one command at a time, on its own thread.
///
/// Every hiredis call blocks, so the actor runs on a dedicated ``ThreadExecutor`` rather than on
/// Swift's cooperative pool; many clients block in parallel without starving other tasks. For
/// concurrency use several clients (``RedisClientPool``).
///
/// Connection handling:
/// - The connection opens lazily on the first call (connect, `AUTH`, `SELECT`).
/// - Before each command the idle connection is checked; if the server closed it meanwhile
///   (a restart), it is replaced before anything is sent.
/// - If the connection breaks *during* a command, that call throws ``RedisError/Code/connectionLost``
///   (or ``RedisError/Code/timeout``) and is **not** retried — it may have run. The next call reconnects.
/// - Failed connect attempts are spaced by capped exponential backoff (100 ms → 5 s, jittered);
///   calls in between throw ``RedisError/Code/unavailable`` at once. A success resets the backoff.
/// - Connect and disconnect are logged once per transition.
///
/// A call that has started is not interrupted by task cancellation (hiredis blocks until the reply
/// or the socket timeout).
///
/// Do not send `SUBSCRIBE`, `MONITOR` or `SELECT` through a client: use ``RedisSubscriber`` and the
/// URL's database instead.
public actor RedisClient {
    /// A label for logs and errors (`"gateway-state"`).
    public nonisolated let name: String
    public nonisolated let url: RedisURL
    let connectTimeout: Duration
    let commandTimeout: Duration
    let logger: Logger

    var connection: RedisConnection?
    var reconnect = ReconnectGate()
    var isClosed = false

    private nonisolated let executor: ThreadExecutor
    private nonisolated let gate = CallGate()
    nonisolated let linkUp = Atomic<Bool>(false)

    /// Runs every isolated method on the client's own thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Creates a client; nothing connects until the first call.
    /// - Parameters:
    ///   - connectTimeout: bounds TCP/unix connect plus `AUTH` and `SELECT`.
    ///   - commandTimeout: socket read/write timeout for a reply; see ``send(timeout:_:)-(_,RedisArgument...)``
    ///     for blocking commands.
    public init(
        url: RedisURL, name: String, connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(5),
        logger: Logger
    ) {
        self.url = url
        self.name = name
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        var logger = logger
        logger[metadataKey: "redis"] = "\(name)"
        self.logger = logger
        self.executor = ThreadExecutor(name: "redis-\(name)")
    }

    deinit {
        if gate.finalStop() { executor.shutdown() }
    }

    /// Whether the client currently holds an open connection (as of its last use).
    public nonisolated var isConnected: Bool { linkUp.load(ordering: .relaxed) }

    // MARK: Commands

    /// Sends one command and returns its reply. An error reply throws ``RedisError/Code/serverError``.
    @discardableResult
    public nonisolated func send(_ arguments: RedisArgument...) async throws(RedisError) -> RedisValue {
        try await send(arguments)
    }

    /// Sends one command and returns its reply. An error reply throws ``RedisError/Code/serverError``.
    @discardableResult
    public nonisolated func send(_ arguments: [RedisArgument]) async throws(RedisError) -> RedisValue {
        try await admitted { client throws(RedisError) in
            try client.unwrapped(client.withConnection { connection throws(RedisError) in
                try connection.command(arguments)
            })
        }
    }

    /// Sends a blocking command (`BLPOP`, `BZPOPMIN`, `XREAD BLOCK`, ...) that may legitimately wait up
    /// to `timeout` on the server. For this call the socket timeout is `timeout + commandTimeout`;
    /// it is restored afterwards.
    @discardableResult
    public nonisolated func send(timeout: Duration, _ arguments: RedisArgument...) async throws(RedisError)
        -> RedisValue
    {
        try await send(timeout: timeout, arguments)
    }

    /// Array form of ``send(timeout:_:)-(_,RedisArgument...)``.
    @discardableResult
    public nonisolated func send(timeout: Duration, _ arguments: [RedisArgument]) async throws(RedisError)
        -> RedisValue
    {
        try await admitted { client throws(RedisError) in
            let socketTimeout = timeout + client.commandTimeout
            let value = try client.withConnection { connection throws(RedisError) in
                try connection.setTimeout(socketTimeout)
                return try connection.command(arguments)
            }
            client.restoreCommandTimeout()
            return try client.unwrapped(value)
        }
    }

    /// Sends all commands in one write, then reads all replies, in order. A command that fails on
    /// the server yields `.error(message)` in its slot; only transport failures throw.
    public nonisolated func pipeline(_ commands: [[RedisArgument]]) async throws(RedisError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        return try await admitted { client throws(RedisError) in
            try client.withConnection { connection throws(RedisError) in try connection.pipeline(commands) }
        }
    }

    /// Sends `PING`; returns the round-trip time.
    @discardableResult
    public nonisolated func ping() async throws(RedisError) -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        let reply = try await send("PING")
        guard reply == .simpleString("PONG") else {
            throw RedisError(.protocolError, "unexpected PING reply \(reply)")
        }
        return clock.now - start
    }

    /// Runs `script` by `EVALSHA`; if the server does not know it (`NOSCRIPT`: after
    /// `SCRIPT FLUSH`, a restart or a failover) runs it once more by `EVAL`, which also caches it.
    /// An error raised by the script throws ``RedisError/Code/serverError``.
    @discardableResult
    public nonisolated func evaluate(
        _ script: RedisScript, keys: [RedisArgument] = [], args: [RedisArgument] = []
    ) async throws(RedisError) -> RedisValue {
        try await evaluateStamped(script, keys: keys, args: args).value
    }

    /// ``evaluate(_:keys:args:)``, and when its reply arrived — taken on the client's own thread the
    /// moment the reply was read, before the caller's task is resumed (which a busy machine can
    /// hold up): what a rate limiter's grant is really as old as.
    public nonisolated func evaluateStamped(
        _ script: RedisScript, keys: [RedisArgument] = [], args: [RedisArgument] = []
    ) async throws(RedisError) -> (value: RedisValue, arrivedAt: ContinuousClock.Instant) {
        try await admitted { client throws(RedisError) in
            let tail = [RedisArgument(keys.count)] + keys + args
            let first = try client.withConnection { connection throws(RedisError) in
                try connection.command(["EVALSHA", RedisArgument(script.sha1)] + tail)
            }
            guard case .error(let message) = first, message.hasPrefix("NOSCRIPT") else {
                return (try client.unwrapped(first), ContinuousClock.now)
            }
            client.logger.debug("loading script", metadata: ["script": "\(script.name)"])
            let value = try client.unwrapped(client.withConnection { connection throws(RedisError) in
                try connection.command(["EVAL", RedisArgument(script.source)] + tail)
            })
            return (value, ContinuousClock.now)
        }
    }

    /// Closes the connection and stops the client's thread. Later calls throw ``RedisError/Code/closed``.
    public nonisolated func close() async {
        guard gate.enter(closing: true) else { return }
        await closeConnection()
        if gate.leave() { executor.shutdown() }
    }

    // MARK: Admission

    /// Runs `body` on the client's thread unless the client is closed.
    private nonisolated func admitted<T: Sendable>(
        _ body: @Sendable (isolated RedisClient) throws(RedisError) -> T
    ) async throws(RedisError) -> T {
        guard gate.enter() else { throw RedisError(.closed, "redis client \(name) is closed") }
        defer { if gate.leave() { executor.shutdown() } }
        return try await body(self)
    }

    func unwrapped(_ value: RedisValue) throws(RedisError) -> RedisValue {
        if case .error(let message) = value { throw RedisError(.serverError, message) }
        return value
    }
}
