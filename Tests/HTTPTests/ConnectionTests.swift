import Testing
import TollgateHTTP
import TollgateHTTPServer

@Suite("Connections: keep-alive, concurrency, pipelining", .timeLimit(.minutes(1)))
struct ConnectionTests {
    @Test("20 sequential requests reuse one keep-alive connection")
    func keepAliveReuse() async throws {
        try await withServer(handler: { request in .text("n=\(request.queryValue("n") ?? "")") }) { server in
            let client = HTTPClient(name: "keepalive", logger: quietLogger)
            for n in 0..<20 {
                let response = try await client.execute(.get(server.base + "/ping?n=\(n)"))
                #expect(response.text == "n=\(n)")
            }
            #expect(server.server.stats.connectionsAccepted == 1)
            #expect(server.server.stats.requestsServed == 20)
            #expect(client.stats.connectionsOpened == 1)
            #expect(client.stats.requests == 20)
            #expect(client.stats.failures == 0)
        }
    }

    @Test("50 concurrent requests are all answered, on at most maxConnections connections")
    func concurrentRequests() async throws {
        try await withServer(handler: { request in
            await slowHandlerSleep(.milliseconds(20))
            return .text("r\(request.queryValue("i") ?? "")")
        }) { server in
            let client = HTTPClient(name: "concurrent", maxConnections: 8, logger: quietLogger)
            let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<50 {
                    group.addTask {
                        let response = try await client.execute(.get(server.base + "/c?i=\(i)"))
                        return (i, response.status == 200 ? response.text : "status \(response.status)")
                    }
                }
                var answers: [Int: String] = [:]
                for try await (i, text) in group { answers[i] = text }
                return answers
            }
            #expect(answers.count == 50)
            for i in 0..<50 { #expect(answers[i] == "r\(i)") }
            #expect(client.stats.connectionsOpened <= 8)
            #expect(server.server.stats.connectionsAccepted <= 8)
            #expect(server.server.stats.requestsServed == 50)
        }
    }

    @Test("A long request does not hold up others on the same client")
    func longPollAlongsideShortRequests() async throws {
        // The long handler is held until the test opens the gate, and the test opens it only
        // after every short request has been answered: were the short requests queued behind
        // the long one, they would never complete (and the test would hit its time limit).
        let release = Gate()
        try await withServer(handler: { request in
            if request.path == "/long" { await handlerWait(for: release) }
            return .text(request.path)
        }) { server in
            let client = HTTPClient(name: "longpoll", logger: quietLogger)
            async let long = client.execute(.get(server.base + "/long"))
            #expect(await eventually { release.arrivals == 1 })  // the long request is in its handler
            for _ in 0..<5 {
                let short = try await client.execute(.get(server.base + "/short"))
                #expect(short.text == "/short")
            }
            #expect(!release.isOpen)
            #expect(server.server.stats.requestsServed == 5)  // all five answered, the long one not yet
            release.open()
            let longResponse = try await long
            #expect(longResponse.text == "/long")
            #expect(server.server.stats.requestsServed == 6)
            // The long request held one connection; the short ones shared a second one.
            #expect(client.stats.connectionsOpened == 2)
        }
    }

    @Test("Pipelined requests on one connection are answered in order")
    func pipelining() async throws {
        try await withServer(handler: { request in
            if request.path == "/first" { await slowHandlerSleep(.milliseconds(100)) }
            return .text(request.path)
        }) { server in
            let socket = try #require(RawSocket.tcp(port: server.port))
            socket.send(
                "GET /first HTTP/1.1\r\nHost: t\r\n\r\nGET /second HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "GET /third HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let reply = await socket.readAll()
            let first = try #require(reply.range(of: "/first"))
            let second = try #require(reply.range(of: "/second"))
            let third = try #require(reply.range(of: "/third"))
            #expect(first.lowerBound < second.lowerBound && second.lowerBound < third.lowerBound)
            #expect(reply.components(separatedBy: "HTTP/1.1 200 OK").count == 4)
            #expect(reply.lowercased().contains("connection: close"))
        }
    }

    @Test("HTTP/1.0 without keep-alive gets one response and a closed connection")
    func http10Closes() async throws {
        try await withServer(handler: { _ in .text("old") }) { server in
            let socket = try #require(RawSocket.tcp(port: server.port))
            socket.send("GET / HTTP/1.0\r\n\r\n")
            let reply = await socket.readAll()
            #expect(reply.hasPrefix("HTTP/1.0 200 OK"))
            #expect(reply.hasSuffix("old"))
        }
    }
}
