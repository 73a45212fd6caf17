/// What one client may hold of a server: a listener that anybody on the network can reach (the
/// webhook, the ops port) must not be starved by idle or trickling connections.
///
/// | setting | default | |
/// |---|---|---|
/// | ``maxConnections`` | 512 | open connections; one more is closed at once (and counted) |
/// | ``headerTimeout`` | 10 s | from connecting (or the end of the last response) to a complete request head |
/// | ``bodyTimeout`` | 30 s | from the head to the end of the body |
/// | ``idleTimeout`` | 60 s | a keep-alive connection without a request is closed |
/// | ``writeTimeout`` | 30 s | a response the client does not read closes the connection |
public struct HTTPServerLimits: Sendable, Equatable {
    public var maxConnections: Int
    public var headerTimeout: Duration
    public var bodyTimeout: Duration
    public var idleTimeout: Duration
    public var writeTimeout: Duration

    public init(
        maxConnections: Int = 512, headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(60), writeTimeout: Duration = .seconds(30)
    ) {
        self.maxConnections = max(1, maxConnections)
        self.headerTimeout = max(headerTimeout, .milliseconds(10))
        self.bodyTimeout = max(bodyTimeout, .milliseconds(10))
        self.idleTimeout = max(idleTimeout, .milliseconds(10))
        self.writeTimeout = max(writeTimeout, .milliseconds(10))
    }
}
