import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Handles one request. Runs in the connection's task: task cancellation reaches it when the
/// server's `run()` is cancelled, and a handler that holds a request for long (a simulated long
/// poll) can also end early on graceful shutdown with ServiceLifecycle's
/// `cancelWhenGracefulShutdown { ... }` or `Task.isShuttingDownGracefully`.
public typealias HTTPServerHandler = @Sendable (HTTPServerRequest) async -> HTTPServerResponse

/// A small HTTP/1.1 server on SwiftNIO, run as a ServiceLifecycle `Service`.
///
/// Keep-alive and pipelined requests (answered in order, one at a time per connection), any
/// number of concurrent connections (each in a child task of `run()`), bodies up to
/// `maxBodyBytes` (larger: 413 and close), malformed requests answered 400 and closed.
///
/// Graceful shutdown stops accepting at once, lets requests in flight finish (their responses
/// carry `Connection: close`), closes idle keep-alive connections, and returns when the last
/// connection is gone. Cancelling `run()` cancels the handlers still running.
///
/// ```swift
/// let server = HTTPServer(name: "health", target: .tcp(host: "127.0.0.1", port: 0), logger: logger) { request in
///     request.path == "/health" ? .text("ok") : .empty(status: 404)
/// }
/// let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm], logger: logger)
/// ```
public final class HTTPServer: Service, Sendable {
    /// The address the server listens on.
    public enum Address: Sendable, Equatable, CustomStringConvertible {
        /// A TCP address with the real port (also when port 0 was asked for).
        case tcp(host: String, port: Int)
        /// A Unix domain socket path.
        case unix(path: String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unix(let path): "unix:\(path)"
            }
        }
    }

    /// Counters for tests and metrics.
    public struct Stats: Sendable, Equatable {
        /// Connections accepted since the start.
        public var connectionsAccepted = 0
        /// Responses written (handler responses and 413s; not the parser's 400s).
        public var requestsServed = 0
        /// Connections closed at once because ``HTTPServerLimits/maxConnections`` were open.
        public var connectionsRefused = 0
        /// Connections closed for taking too long, by stage (`head`, `body`, `write`; the idle pause
        /// between keep-alive requests counts as `head`).
        public var timedOut: [String: Int] = [:]
        /// Connections open now.
        public var connectionsOpen = 0

        public init() {}
    }

    /// The name used in logs.
    public let name: String
    /// Where the server listens.
    public let target: HTTPListenTarget
    /// The largest request body accepted.
    public let maxBodyBytes: Int
    /// Connection count and read/write deadlines.
    public let limits: HTTPServerLimits
    let logger: Logger
    let handler: HTTPServerHandler
    let listenState = ListenState()
    let connections = ConnectionRegistry()
    let counters = Mutex(Stats())

    /// Creates a server; nothing is bound until ``run()``.
    public init(
        name: String, target: HTTPListenTarget, maxBodyBytes: Int = 8 << 20, limits: HTTPServerLimits = .init(),
        logger: Logger, handler: @escaping HTTPServerHandler
    ) {
        self.name = name
        self.target = target
        self.maxBodyBytes = maxBodyBytes
        self.limits = limits
        self.logger = logger
        self.handler = handler
    }

    /// Counters so far.
    public var stats: Stats { counters.withLock { $0 } }

    /// The bound address, once ``run()`` has bound the socket (waits until then).
    ///
    /// - Throws: ``HTTPServerError`` `bindFailed` when binding failed, `notRunning` after the
    ///   server stopped; `CancellationError` when the calling task is cancelled while waiting.
    public func listeningAddress() async throws -> Address {
        try await listenState.address()
    }

    /// Binds, serves until cancelled or shut down gracefully, then releases the socket (and
    /// removes a Unix socket file it created). May be called once.
    ///
    /// - Throws: ``HTTPServerError`` `bindFailed` or `notRunning` (a second call).
    public func run() async throws {
        guard listenState.start() else {
            throw HTTPServerError(code: .notRunning, detail: "run() may be called once")
        }
        let listener: BoundListener
        do {
            listener = try await bindListener()
        } catch {
            listenState.failed(error)
            throw error
        }
        defer {
            listener.socketFile?.remove()
            listenState.finished()
        }
        listenState.listening(listener.address)
        logger.info("http server listening", metadata: ["server": "\(name)", "address": "\(listener.address)"])

        let serverChannel = listener.channel
        let connections = self.connections
        let limits = self.limits
        try await withThrowingDiscardingTaskGroup { group in
            try await withGracefulShutdownHandler {
                try await serverChannel.executeThenClose { inbound in
                    for try await connection in inbound {
                        let admitted = counters.withLock { c -> Bool in
                            c.connectionsAccepted += 1
                            guard c.connectionsOpen < limits.maxConnections else {
                                c.connectionsRefused += 1
                                return false
                            }
                            c.connectionsOpen += 1
                            return true
                        }
                        guard admitted else {
                            // Over the limit: closed before anything is read, and counted.
                            connection.channel.close(promise: nil)
                            continue
                        }
                        group.addTask {
                            await self.serve(connection)
                            self.counters.withLock { $0.connectionsOpen -= 1 }
                        }
                    }
                }
            } onGracefulShutdown: {
                serverChannel.channel.close(promise: nil)  // stop accepting: new connections are refused
                connections.drain()
            }
        }
        logger.info("http server stopped", metadata: ["server": "\(name)"])
    }
}
