import CHiredis

#if canImport(Glibc)
    import Glibc
#endif

/// One blocking hiredis connection. Owns the `redisContext` and frees it in `deinit`.
///
/// Not thread-safe and not `Sendable`: it lives inside one actor (or one thread) and is only used
/// from there. Every call blocks the calling thread, which must therefore be a dedicated one.
///
/// hiredis marks the context as failed after any I/O error — including a read timeout (`EAGAIN`
/// on a blocking socket) — and never recovers; so after the first thrown error (other than a
/// reply that *is* an error, which is returned as ``RedisValue/error(_:)``) ``isBroken`` is true
/// and the owner must open a new connection.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    /// Where this connection goes (`host:port` or a socket path), for messages.
    let address: String
    /// The first failure; once set, every call throws it again.
    private(set) var failure: RedisError?
    /// The read/write timeout currently set on the socket.
    private(set) var currentTimeout: Duration?

    private init(context: UnsafeMutablePointer<redisContext>, address: String) {
        self.context = context
        self.address = address
    }

    deinit {
        redisFree(context)
    }

    /// Whether the connection can no longer be used.
    var isBroken: Bool { failure != nil || context.pointee.err != 0 }

    /// The socket, for `poll(2)`.
    var fileDescriptor: Int32 { context.pointee.fd }

    /// Connects, authenticates and selects the database. `handshakeTimeout` bounds connect, AUTH
    /// and SELECT; `commandTimeout` is then set on the socket (`nil`: no timeout).
    static func open(
        _ url: RedisURL, handshakeTimeout: Duration, commandTimeout: Duration?
    ) throws(RedisError) -> RedisConnection {
        ThreadSignals.blockBrokenPipe()
        let limit = timeval(timeout: handshakeTimeout)
        let raw: UnsafeMutablePointer<redisContext>?
        switch url.endpoint {
        case .tcp(let host, let port): raw = redisConnectWithTimeout(host, Int32(port), limit)
        case .unix(let path): raw = redisConnectUnixWithTimeout(path, limit)
        }
        guard let raw else { throw RedisError(.connectionFailed, "cannot allocate a hiredis context") }
        let connection = RedisConnection(context: raw, address: url.address)
        if raw.pointee.err != 0 {
            throw RedisError(.connectionFailed, "connect to \(url.address) failed: \(connection.contextErrorText)")
        }
        if case .tcp = url.endpoint { _ = redisEnableKeepAlive(raw) }
        do throws(RedisError) {
            try connection.setTimeout(handshakeTimeout)
            if let password = url.password {
                var auth: [RedisArgument] = ["AUTH"]
                if let user = url.user { auth.append(RedisArgument(user)) }
                auth.append(RedisArgument(password.exposedValue))
                if case .error(let message) = try connection.command(auth) {
                    throw RedisError(.connectionFailed, "authentication to \(url.address) failed: \(message)",
                        isRetryable: false)
                }
            }
            if url.database != 0 {
                if case .error(let message) = try connection.command(["SELECT", RedisArgument(url.database)]) {
                    throw RedisError(.connectionFailed, "SELECT \(url.database) failed: \(message)",
                        isRetryable: false)
                }
            }
            try connection.setTimeout(commandTimeout)
        } catch where error.code == .connectionFailed {
            throw error
        } catch {
            throw RedisError(.connectionFailed, "handshake with \(url.address) failed: \(error.message)")
        }
        return connection
    }

    /// Whether the server closed this idle connection (or sent bytes nobody asked for) since the
    /// last reply. Checked before sending: at that point nothing of the next command has left, so
    /// replacing the connection cannot run anything twice.
    func hasGoneStale() -> Bool {
        if isBroken { return true }
        var descriptor = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        // Readable while idle means EOF, a reset, or stray bytes; POLLHUP/POLLERR are always reported.
        return poll(&descriptor, 1, 0) > 0
    }

    // MARK: Request/reply

    /// Sends one command and waits for its reply. An error reply is returned as `.error`.
    func command(_ arguments: [RedisArgument]) throws(RedisError) -> RedisValue {
        if let failure { throw failure }
        let reply = ArgumentVector.with(arguments) { argc, argv, argvlen in
            redisCommandArgv(context, argc, argv, argvlen)
        }
        guard let reply else { throw markBroken(errno) }
        defer { freeReplyObject(reply) }
        return try converted(reply)
    }

    /// Appends every command to the output buffer, then reads one reply per command, in order.
    /// Error replies come back as `.error` values; an I/O failure throws and breaks the connection.
    func pipeline(_ commands: [[RedisArgument]]) throws(RedisError) -> [RedisValue] {
        if let failure { throw failure }
        for command in commands { try append(command) }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var reply: UnsafeMutableRawPointer?
            guard redisGetReply(context, &reply) == REDIS_OK, let reply else { throw markBroken(errno) }
            defer { freeReplyObject(reply) }
            replies.append(try converted(reply))
        }
        return replies
    }

    /// Sets the socket read/write timeout (`nil`: none).
    func setTimeout(_ timeout: Duration?) throws(RedisError) {
        if let failure { throw failure }
        guard redisSetTimeout(context, timeval(timeout: timeout)) == REDIS_OK else { throw markBroken(errno) }
        currentTimeout = timeout
    }

    // MARK: Streaming (pub/sub)

    /// Adds a command to the output buffer without sending it.
    func append(_ arguments: [RedisArgument]) throws(RedisError) {
        if let failure { throw failure }
        let status = ArgumentVector.with(arguments) { argc, argv, argvlen in
            redisAppendCommandArgv(context, argc, argv, argvlen)
        }
        guard status == REDIS_OK else { throw markBroken(errno) }
    }

    /// Writes the whole output buffer to the socket.
    func flush() throws(RedisError) {
        if let failure { throw failure }
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw markBroken(errno) }
        }
    }

    /// Reads what the socket has into the reply parser. Call only when `poll` reported the socket
    /// readable: on a blocking socket this call would otherwise wait.
    func readAvailable() throws(RedisError) {
        if let failure { throw failure }
        guard redisBufferRead(context) == REDIS_OK else { throw markBroken(errno) }
    }

    /// The next complete reply already parsed from the input, if any; never touches the socket.
    func nextBufferedReply() throws(RedisError) -> RedisValue? {
        if let failure { throw failure }
        var reply: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &reply) == REDIS_OK else { throw markBroken(errno) }
        guard let reply else { return nil }
        defer { freeReplyObject(reply) }
        return try converted(reply)
    }

    // MARK: Failures

    private func converted(_ reply: UnsafeMutableRawPointer) throws(RedisError) -> RedisValue {
        do {
            return try RedisValue.converting(reply.assumingMemoryBound(to: redisReply.self))
        } catch {
            failure = error  // the rest of the stream can no longer be trusted
            throw error
        }
    }

    /// Records the context's error as this connection's failure and returns it. `savedErrno` is
    /// `errno` taken right after the failing call: `EAGAIN` there means the socket timed out.
    private func markBroken(_ savedErrno: Int32) -> RedisError {
        if let failure { return failure }
        let text = contextErrorText
        let error: RedisError
        switch context.pointee.err {
        case REDIS_ERR_IO where savedErrno == EAGAIN || savedErrno == EWOULDBLOCK:
            error = RedisError(.timeout, "no reply from \(address) within \(Self.describe(currentTimeout))")
        case REDIS_ERR_IO:
            error = RedisError(.connectionLost, "connection to \(address) failed: \(text)")
        case REDIS_ERR_EOF:
            error = RedisError(.connectionLost, "\(address) closed the connection")
        case REDIS_ERR_PROTOCOL:
            error = RedisError(.protocolError, "protocol error from \(address): \(text)")
        case 0:
            error = RedisError(.protocolError, "hiredis failed without an error code")
        default:
            error = RedisError(.protocolError, "hiredis error on \(address): \(text)")
        }
        failure = error
        return error
    }

    private var contextErrorText: String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func describe(_ timeout: Duration?) -> String {
        guard let timeout else { return "the socket timeout" }
        return "\(timeout.milliseconds) ms"
    }
}
