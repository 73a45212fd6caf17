import Logging
import TollgateCore

extension RedisClient {
    /// Runs `body` with an open connection; drops the connection if `body` broke it.
    func withConnection<T>(_ body: (RedisConnection) throws(RedisError) -> T) throws(RedisError) -> T {
        let connection = try usableConnection()
        do {
            return try body(connection)
        } catch {
            if connection.isBroken { drop(connection, because: error) }
            throw error
        }
    }

    /// The open connection, or a new one if none is open and the backoff allows an attempt.
    private func usableConnection() throws(RedisError) -> RedisConnection {
        if isClosed { throw RedisError(.closed, "redis client \(name) is closed") }
        if let connection {
            if !connection.hasGoneStale() { return connection }
            // Nothing was sent yet, so replacing the connection is safe.
            drop(connection, because: RedisError(.connectionLost, "\(url.address) closed the idle connection"))
        }
        if case .wait(let remaining, let lastError) = reconnect.decide(now: .now) {
            throw RedisError(
                .unavailable,
                "redis \(url.address) is unreachable; next attempt in \(remaining.milliseconds) ms "
                    + "(last error: \(lastError.message))")
        }
        do {
            let opened = try RedisConnection.open(url, handshakeTimeout: connectTimeout, commandTimeout: commandTimeout)
            connection = opened
            linkUp.store(true, ordering: .relaxed)
            if let event = reconnect.connected(now: .now) { log(event) }
            return opened
        } catch {
            log(reconnect.connectFailed(error, now: .now))
            throw error
        }
    }

    /// Puts the socket timeout back to the command timeout after a blocking call.
    func restoreCommandTimeout() {
        guard let connection, !connection.isBroken, connection.currentTimeout != commandTimeout else { return }
        do {
            try connection.setTimeout(commandTimeout)
        } catch {
            drop(connection, because: error)
        }
    }

    func closeConnection() {
        guard !isClosed else { return }
        isClosed = true
        if connection != nil {
            connection = nil
            logger.info("redis connection closed", metadata: ["address": "\(url.address)"])
        }
        linkUp.store(false, ordering: .relaxed)
    }

    private func drop(_ broken: RedisConnection, because error: RedisError) {
        guard connection === broken else { return }
        connection = nil
        linkUp.store(false, ordering: .relaxed)
        if let event = reconnect.connectionLost(error, now: .now) { log(event) }
    }

    private func log(_ event: ReconnectGate.Event) {
        event.log(to: logger, address: url.address)
    }
}
