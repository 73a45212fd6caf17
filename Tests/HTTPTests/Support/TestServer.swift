import Logging
import ServiceLifecycle
import TollgateHTTP
import TollgateHTTPServer

/// A logger that drops everything, for tests that do not look at logs.
let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// A running test server and its base URL.
struct TestServer {
    let server: HTTPServer
    let address: HTTPServer.Address
    let group: ServiceGroup

    /// The TCP port (0 for a Unix socket).
    var port: Int {
        if case .tcp(_, let port) = address { return port }
        return 0
    }

    /// `http://127.0.0.1:<port>`.
    var base: String { "http://127.0.0.1:\(port)" }
}

/// Starts an `HTTPServer` inside a `ServiceGroup`, waits until it listens, runs `body`, then
/// shuts the group down gracefully and waits for it, whatever `body` did.
func withServer<T>(
    target: HTTPListenTarget = .tcp(host: "127.0.0.1", port: 0),
    maxBodyBytes: Int = 8 << 20,
    limits: HTTPServerLimits = .init(),
    logger: Logger = quietLogger,
    handler: @escaping HTTPServerHandler,
    _ body: (TestServer) async throws -> T
) async throws -> T {
    let server = HTTPServer(
        name: "test", target: target, maxBodyBytes: maxBodyBytes, limits: limits, logger: logger, handler: handler)
    let group = ServiceGroup(services: [server], logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            let address = try await server.listeningAddress()
            let result = try await body(TestServer(server: server, address: address, group: group))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

/// Sleeps like a slow handler, but wakes up when the server shuts down gracefully, so that
/// test teardown never waits for it.
func slowHandlerSleep(_ duration: Duration) async {
    try? await cancelWhenGracefulShutdown {
        try await Task.sleep(for: duration)
    }
}
