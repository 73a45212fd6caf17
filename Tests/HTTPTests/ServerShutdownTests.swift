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
            await server.group.triggerGracefulShutdown()
            let response = try await poll
            // "early": the handler's 50 s sleep was cut short by the shutdown (no clock needed:
            // had it run to its end, it would say false, and only after the test's time limit).
            #expect(try response.decode([String: Bool].self) == ["ok": true, "early": true])
        }
    }

    @Test("Cancelling run() cancels the handlers in flight and returns")
    func cancellingRun() async throws {
        let started = Locked(false)
        let handlerSawCancellation = Locked(false)
        let server = HTTPServer(name: "cancel", target: .tcp(host: "127.0.0.1", port: 0), logger: quietLogger) { _ in
            started.value = true
            do {
                try await Task.sleep(for: .seconds(50))  // outlasts the test's time limit
            } catch {
                handlerSawCancellation.value = true  // the sleep was interrupted by cancellation
            }
            return .text("cancelled")
        }
        let client = HTTPClient(name: "run-cancel", logger: quietLogger)
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
        // Getting here at all means run() returned; the handler's sleep ended by cancellation,
        // not by running out.
        #expect(handlerSawCancellation.value)
        #expect(server.stats.connectionsAccepted == 1)
    }
}
