import Testing
import TollgateHTTP
import TollgateHTTPServer
import TollgateTestKit

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Client failures: timeouts, connect errors, cancellation, limits, shutdown", .timeLimit(.minutes(1)))
struct ClientFailureTests {
    @Test("A slow response fails with timeout before the handler's answer could arrive")
    func totalTimeout() async throws {
        // The handler answers "late" after 10 s. The client must give up with timeout before that
        // answer exists: were its 300 ms timeout ignored (or replaced by the 30 s default), it
        // would receive "late" instead. No upper bound on the client's own time is asserted.
        let answered = Locked(false)
        try await withServer(handler: { _ in
            await slowHandlerSleep(.seconds(10))
            answered.value = true
            return .text("late")
        }) { server in
            let client = HTTPClient(name: "timeout", logger: quietLogger)
            var request = HTTPRequest.get(server.base + "/slow")
            request.timeout = .milliseconds(300)
            let start = ContinuousClock.now
            let error = await #expect(throws: HTTPClientError.self) { try await client.execute(request) }
            #expect(error?.code == .timeout)
            #expect(error?.isRetryable == true)
            #expect(!answered.value, "the client waited for the handler's answer")
            // A lower bound only: the client really waited for its timeout (load can only add).
            #expect(ContinuousClock.now - start >= .milliseconds(250))
            #expect(client.stats.failures == 1)
        }
    }

    @Test("Nothing listening: connectFailed, a refusal rather than a connect timeout")
    func connectFailed() async throws {
        let client = HTTPClient(name: "refused", logger: quietLogger)
        let port = TestNetwork.freePort()
        // connectFailed (not connectTimeout) shows the refusal itself ended the request, rather
        // than waiting out the connect timeout.
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(.get("http://127.0.0.1:\(port)/"))
        }
        #expect(error?.code == .connectFailed)
        #expect(error?.isRetryable == true)
        #expect(client.stats.failures == 1)
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
        request.timeout = .seconds(20)
        let start = ContinuousClock.now
        let error = await #expect(throws: HTTPClientError.self) { try await client.execute(request) }
        #expect(error?.code == .connectTimeout)
        // Only "it never happened" is checked: were the 300 ms connect timeout ignored, nothing
        // but the 20 s total timeout could end the attempt (also reported as connectTimeout, the
        // connection never being made), so the error would come no sooner than that.
        #expect(ContinuousClock.now - start < request.timeout)
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
        // "At once" structurally: the handler holds its answer until the test opens the gate,
        // which happens only after the cancelled call has returned. A client that waited for the
        // response before honouring the cancellation would wait until the test's time limit.
        let release = Gate()
        try await withServer(handler: { request in
            if request.path == "/slow" { await handlerWait(for: release) }
            return .text(request.path)
        }) { server in
            let client = HTTPClient(name: "cancel", logger: quietLogger)
            let outcome = await withTaskGroup(of: Result<HTTPResponse, HTTPClientError>.self) { group in
                group.addTask {
                    await Result(catching: { () async throws(HTTPClientError) in
                        try await client.execute(.get(server.base + "/slow"))
                    })
                }
                _ = await eventually { release.arrivals == 1 }  // in flight: the server is handling it
                group.cancelAll()
                return await group.next()!
            }
            #expect(release.arrivals == 1 && !release.isOpen)  // cancelled mid-request, unanswered
            guard case .failure(let error) = outcome else {
                Issue.record("the request was not cancelled")
                return
            }
            #expect(error.code == .cancelled)
            #expect(error.isRetryable == false)
            release.open()
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
        // The handler answers only once the test opens the gate, after shutdown() took effect.
        let release = Gate()
        try await withServer(handler: { _ in
            await handlerWait(for: release)
            return .text("late")
        }) { server in
            let client = HTTPClient(name: "shutdown", logger: quietLogger)
            async let inFlight = Result(catching: { () async throws(HTTPClientError) in
                try await client.execute(.get(server.base + "/slow"))
            })
            #expect(await eventually { release.arrivals == 1 })  // the request is in flight
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
