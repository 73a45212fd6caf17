import Logging
import ServiceLifecycle
import Testing
import TollgateHTTP
import TollgateHTTPServer

@Suite("Server: ending long handlers", .timeLimit(.minutes(1)))
struct ServerShutdownTests {
    @Test("A long-poll handler that opts in ends early on graceful shutdown, and its answer is delivered")
    func longPollEndsOnGracefulShutdown() async throws {
        let started = Locked(false)
        try await withServer(handler: { _ in
            started.value = true
            let finishedEarly: Bool
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(50)) }
                finishedEarly = false
            } catch {
                finishedEarly = true
            }
            return .json(["ok": true, "early": finishedEarly])
        }) { server in
            let client = HTTPClient(name: "longpoll-shutdown", logger: quietLogger)
            async let poll = client.execute(.get(server.base + "/getUpdates?timeout=50"))
            #expect(await eventually { started.value })
            let start = ContinuousClock.now
            await server.group.triggerGracefulShutdown()
            let response = try await poll
            #expect(ContinuousClock.now - start < .seconds(5))
            #expect(try response.decode([String: Bool].self) == ["ok": true, "early": true])
        }
    }

    @Test("Cancelling run() cancels the handlers in flight and returns")
    func cancellingRun() async throws {
        let started = Locked(false)
        let handlerSawCancellation = Locked(false)
        let server = HTTPServer(name: "cancel", target: .tcp(host: "127.0.0.1", port: 0), logger: quietLogger) { _ in
            started.value = true
            try? await Task.sleep(for: .seconds(50))
            handlerSawCancellation.value = Task.isCancelled
            return .text("cancelled")
        }
        let client = HTTPClient(name: "run-cancel", logger: quietLogger)
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await server.run() }
            guard case .tcp(_, let port) = try? await server.listeningAddress() else {
                Issue.record("server did not bind")
                group.cancelAll()
                return
            }
            group.addTask { _ = try? await client.execute(.get("http://127.0.0.1:\(port)/wait")) }
            #expect(await eventually { started.value })
            group.cancelAll()
        }
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(handlerSawCancellation.value)
        #expect(server.stats.connectionsAccepted == 1)
    }
}
