import Logging
import ServiceLifecycle
import TollgateCore
import TollgateHTTP
import TollgateHTTPServer
import TollgateSimulators
import TollgateTelegram

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
/// An obviously fake token; its secret half must never show up anywhere.
let testToken = "123456:TEST-token-AAAA"
let tokenSecretPart = "TEST-token-AAAA"

/// A running simulator, a client for it and its base URL.
struct SimHarness {
    let simulator: TelegramSimulator
    let base: String
    let http: HTTPClient
    let telegram: TelegramClient

    func client(token: String = testToken, mediaCache: (any TelegramMediaCache)? = nil, logger: Logger = quietLogger) -> TelegramClient {
        TelegramClient(token: Secret(token), apiURL: base, http: http, mediaCache: mediaCache, logger: logger)
    }
}

/// Runs `body` against a fresh simulator (in a ServiceGroup), then shuts it down.
func withSimulator<T>(
    limits: SimFloodLimits = SimFloodLimits(), webhookRetryDelay: Duration = .milliseconds(200),
    logger: Logger = quietLogger,
    _ body: (SimHarness) async throws -> T
) async throws -> T {
    let simulator = TelegramSimulator(
        configuration: .init(token: testToken, floodLimits: limits, webhookRetryDelay: webhookRetryDelay), logger: logger)
    let group = ServiceGroup(services: [simulator], logger: quietLogger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let http = HTTPClient(name: "test", logger: logger)
        defer { http.shutdown() }
        do {
            let base = try await simulator.baseURL()
            let harness = SimHarness(
                simulator: simulator, base: base, http: http,
                telegram: TelegramClient(token: Secret(testToken), apiURL: base, http: http, logger: logger))
            let result = try await body(harness)
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

/// Starts an HTTP server (a bot's webhook endpoint, a hostile API) for the duration of `body`.
func withHTTPServer<T>(
    handler: @escaping HTTPServerHandler, _ body: (String) async throws -> T
) async throws -> T {
    let server = HTTPServer(name: "test", target: .tcp(host: "127.0.0.1", port: 0), logger: quietLogger, handler: handler)
    let group = ServiceGroup(services: [server], logger: quietLogger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            guard case .tcp(_, let port) = try await server.listeningAddress() else { fatalError("tcp expected") }
            let result = try await body("http://127.0.0.1:\(port)")
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

/// Polls `condition` every 20 ms until it holds or `timeout` passes (without blocking the pool).
func eventually(timeout: Duration = .seconds(30), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}
