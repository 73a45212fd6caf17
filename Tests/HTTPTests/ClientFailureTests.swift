import Testing
import TollgateHTTP
import TollgateHTTPServer
import TollgateTestKit

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Client failures: timeouts, connect errors, cancellation, limits, shutdown", .timeLimit(.minutes(1)))
struct ClientFailureTests {
    @Test("A slow response fails with timeout, promptly")
    func totalTimeout() async throws {
        try await withServer(handler: { _ in
            await slowHandlerSleep(.seconds(2))
            return .text("late")
        }) { server in
            let client = HTTPClient(name: "timeout", logger: quietLogger)
            var request = HTTPRequest.get(server.base + "/slow")
            request.timeout = .milliseconds(300)
            let start = ContinuousClock.now
            let error = await #expect(throws: HTTPClientError.self) { try await client.execute(request) }
            let elapsed = ContinuousClock.now - start
            #expect(error?.code == .timeout)
            #expect(error?.isRetryable == true)
            #expect(elapsed >= .milliseconds(250) && elapsed < .milliseconds(1500))
            #expect(client.stats.failures == 1)
        }
    }

    @Test("Nothing listening: connectFailed, quickly")
    func connectFailed() async throws {
        let client = HTTPClient(name: "refused", logger: quietLogger)
        let port = TestNetwork.freePort()
        let start = ContinuousClock.now
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(.get("http://127.0.0.1:\(port)/"))
        }
        #expect(error?.code == .connectFailed)
        #expect(error?.isRetryable == true)
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test("A listener whose accept queue is full: connectTimeout")
    func connectTimeout() async throws {
        let (listener, port, fillers) = TestListener.full()
        defer {
            for fd in fillers { close(fd) }
            close(listener)
        }
        let client = HTTPClient(name: "connect-timeout", logger: quietLogger)
        var request = HTTPRequest.get("http://127.0.0.1:\(port)/")
        request.connectTimeout = .milliseconds(300)
        let start = ContinuousClock.now
        let error = await #expect(throws: HTTPClientError.self) { try await client.execute(request) }
        #expect(error?.code == .connectTimeout)
        #expect(ContinuousClock.now - start < .seconds(3))
    }

    @Test("Malformed and unsupported URLs: invalidURL")
    func invalidURL() async throws {
        let client = HTTPClient(name: "invalid", logger: quietLogger)
        for url in ["not a url", "ftp://127.0.0.1/file", "http://"] {
            let error = await #expect(throws: HTTPClientError.self) { try await client.execute(.get(url)) }
            #expect(error?.code == .invalidURL, "\(url): \(String(describing: error))")
            #expect(error?.isRetryable == false)
        }
    }

    @Test("A header value with CR LF is refused before anything is sent")
    func headerInjection() async throws {
        let client = HTTPClient(name: "inject", logger: quietLogger)
        let request = HTTPRequest.get("http://127.0.0.1:1/", headers: [("X-A", "a\r\nX-Injected: 1")])
        let error = await #expect(throws: HTTPClientError.self) { try await client.execute(request) }
        #expect(error?.code == .transport)
        #expect(error?.curlCode == 43)
    }

    @Test("Cancelling the calling task ends the request at once; the client keeps working")
    func cancellation() async throws {
        try await withServer(handler: { request in
            if request.path == "/slow" { await slowHandlerSleep(.seconds(5)) }
            return .text(request.path)
        }) { server in
            let client = HTTPClient(name: "cancel", logger: quietLogger)
            let outcome = await withTaskGroup(of: (Result<HTTPResponse, HTTPClientError>, ContinuousClock.Instant).self) {
                group in
                group.addTask {
                    let result = await Result(catching: { () async throws(HTTPClientError) in
                        try await client.execute(.get(server.base + "/slow"))
                    })
                    return (result, ContinuousClock.now)
                }
                try? await Task.sleep(for: .milliseconds(300))
                let cancelledAt = ContinuousClock.now
                group.cancelAll()
                let (result, endedAt) = await group.next()!
                return (result, endedAt - cancelledAt)
            }
            guard case .failure(let error) = outcome.0 else {
                Issue.record("the request was not cancelled")
                return
            }
            #expect(error.code == .cancelled)
            #expect(error.isRetryable == false)
            #expect(outcome.1 < .milliseconds(500))
            let after = try await client.execute(.get(server.base + "/after"))
            #expect(after.text == "/after")
            #expect(client.stats.failures == 0)
        }
    }

    @Test("A task cancelled before the call throws cancelled without sending")
    func cancelledBeforeStart() async throws {
        let client = HTTPClient(name: "precancel", logger: quietLogger)
        let port = TestNetwork.freePort()
        let code = await withTaskGroup(of: HTTPClientError.Code?.self) { group in
            group.cancelAll()
            group.addTask {
                do throws(HTTPClientError) {
                    _ = try await client.execute(.get("http://127.0.0.1:\(port)/"))
                    return nil
                } catch {
                    return error.code
                }
            }
            return await group.next()!
        }
        #expect(code == .cancelled)
    }

    @Test("A body over maxResponseBytes fails with responseTooLarge")
    func responseTooLarge() async throws {
        try await withServer(handler: { request in
            let chunked = request.path == "/big"
            return .text(String(repeating: "x", count: chunked ? 100_000 : 10))
        }) { server in
            let client = HTTPClient(name: "too-large", logger: quietLogger)
            var request = HTTPRequest.get(server.base + "/big")
            request.maxResponseBytes = 1000
            let error = await #expect(throws: HTTPClientError.self) { try await client.execute(request) }
            #expect(error?.code == .responseTooLarge)
            request.url = server.base + "/small"
            let small = try await client.execute(request)
            #expect(small.text == "xxxxxxxxxx")
        }
    }

    @Test("shutdown() fails the request in flight and every later one with shutdown")
    func shutdown() async throws {
        try await withServer(handler: { _ in
            await slowHandlerSleep(.seconds(5))
            return .text("late")
        }) { server in
            let client = HTTPClient(name: "shutdown", logger: quietLogger)
            async let inFlight = Result(catching: { () async throws(HTTPClientError) in
                try await client.execute(.get(server.base + "/slow"))
            })
            try await Task.sleep(for: .milliseconds(200))
            client.shutdown()
            guard case .failure(let error) = await inFlight else {
                Issue.record("the request survived shutdown")
                return
            }
            #expect(error.code == .shutdown)
            let later = await #expect(throws: HTTPClientError.self) { try await client.execute(.get(server.base)) }
            #expect(later?.code == .shutdown)
            client.shutdown()  // idempotent
        }
    }
}

extension Result where Failure == HTTPClientError {
    init(catching body: () async throws(HTTPClientError) -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
