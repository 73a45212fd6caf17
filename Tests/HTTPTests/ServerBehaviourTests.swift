import Testing
import TollgateHTTP
import TollgateHTTPServer
import TollgateTestKit

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Server: limits, bad input, graceful shutdown, listen targets", .timeLimit(.minutes(1)))
struct ServerBehaviourTests {
    @Test("A body over maxBodyBytes gets 413, and the server keeps serving")
    func bodyTooLarge() async throws {
        try await withServer(maxBodyBytes: 1000, handler: { request in .text("got \(request.body.count)") }) { server in
            let client = HTTPClient(name: "413", logger: quietLogger)
            let big = HTTPRequest(
                method: "POST", url: server.base + "/upload",
                body: .bytes([UInt8](repeating: 7, count: 5000), contentType: "application/octet-stream"))
            let refused = try await client.execute(big)
            #expect(refused.status == 413)
            #expect(refused.header("connection") == "close")
            let small = HTTPRequest(
                method: "POST", url: server.base + "/upload",
                body: .bytes([UInt8](repeating: 7, count: 1000), contentType: "application/octet-stream"))
            #expect(try await client.execute(small).text == "got 1000")
        }
    }

    @Test("An announced Content-Length over the limit is refused before the body is sent")
    func announcedTooLarge() async throws {
        try await withServer(maxBodyBytes: 1000, handler: { _ in .text("never") }) { server in
            let socket = try #require(RawSocket.tcp(port: server.port))
            socket.send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n")
            let reply = await socket.readAll()
            #expect(reply.hasPrefix("HTTP/1.1 413"))
            #expect(!reply.contains("never"))
        }
    }

    @Test("Malformed request bytes get 400 and a close; other clients are still served")
    func malformedRequest() async throws {
        try await withServer(handler: { _ in .text("fine") }) { server in
            for garbage in ["this is not http\r\n\r\n", "GET / HTTP/1.1\r\nHost t\r\nBad Header\r\n\r\n", "\u{1}\u{2}\u{3}\r\n\r\n"] {
                let socket = try #require(RawSocket.tcp(port: server.port))
                socket.send(garbage)
                let reply = await socket.readAll()
                #expect(reply.hasPrefix("HTTP/1.1 400"), "reply to \(garbage.debugDescription): \(reply)")
            }
            let client = HTTPClient(name: "after-400", logger: quietLogger)
            #expect(try await client.execute(.get(server.base + "/ok")).text == "fine")
        }
    }

    @Test("Graceful shutdown: the request in flight completes, new connections are refused")
    func gracefulShutdown() async throws {
        // The slow handler deliberately ignores graceful shutdown and answers only when the test
        // opens the gate, after the shutdown has begun: the request is in flight throughout,
        // however slowly the machine runs.
        let release = Gate()
        try await withServer(handler: { request in
            if request.path == "/slow" {
                await release.wait()
                return .text("slow done")
            }
            return .text("fast")
        }) { server in
            defer { release.open() }
            let client = HTTPClient(name: "graceful", logger: quietLogger)
            let idle = HTTPClient(name: "idle", logger: quietLogger)
            #expect(try await idle.execute(.get(server.base + "/warm")).text == "fast")  // an idle keep-alive connection

            async let slow = client.execute(.get(server.base + "/slow"))
            #expect(await eventually { release.arrivals == 1 })
            await server.group.triggerGracefulShutdown()
            #expect(await eventually { !TestNetwork.isListening(port: server.port) })

            let refused = await #expect(throws: HTTPClientError.self) {
                try await HTTPClient(name: "late", logger: quietLogger).execute(.get(server.base + "/fast"))
            }
            #expect(refused?.code == .connectFailed)

            release.open()
            let response = try await slow
            #expect(response.status == 200)
            #expect(response.text == "slow done")
            #expect(response.header("connection") == "close")
        }
    }

    @Test("A Unix socket target: stale file replaced, served, removed on exit")
    func unixSocket() async throws {
        let directory = TestNetwork.temporaryDirectory(prefix: "tg-http")
        let path = directory + "/api.sock"
        Self.makeStaleSocket(at: path)
        #expect(access(path, F_OK) == 0)
        try await withServer(target: .unix(path: path), handler: { request in .text("unix \(request.path)") }) { server in
            #expect(server.address == .unix(path: path))
            let client = HTTPClient(name: "unix", logger: quietLogger)
            for _ in 0..<3 {
                var request = HTTPRequest.get("http://localhost/health")
                request.unixSocketPath = path
                #expect(try await client.execute(request).text == "unix /health")
            }
            #expect(server.server.stats.connectionsAccepted == 1)
            let socket = try #require(RawSocket.unix(path: path))
            socket.send("GET /raw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(await socket.readAll().hasSuffix("unix /raw"))
        }
        #expect(access(path, F_OK) != 0, "the socket file must be removed on exit")
        rmdir(directory)
    }

    @Test("A Unix socket path held by a regular file is left alone: bindFailed")
    func unixPathIsAFile() async throws {
        let directory = TestNetwork.temporaryDirectory(prefix: "tg-http")
        let path = directory + "/not-a-socket"
        let fd = open(path, O_CREAT | O_WRONLY, 0o600)
        close(fd)
        let server = HTTPServer(name: "file", target: .unix(path: path), logger: quietLogger) { _ in .empty(status: 204) }
        let error = await #expect(throws: HTTPServerError.self) { try await server.run() }
        #expect(error?.code == .bindFailed)
        let waiter = await #expect(throws: HTTPServerError.self) { try await server.listeningAddress() }
        #expect(waiter?.code == .bindFailed)
        #expect(access(path, F_OK) == 0)
        unlink(path)
        rmdir(directory)
    }

    @Test("An inherited listening descriptor is served, and its real port reported")
    func descriptorTarget() async throws {
        let (fd, port) = TestListener.bound()
        try await withServer(target: .descriptor(fd), handler: { _ in .text("inherited") }) { server in
            #expect(server.address == .tcp(host: "127.0.0.1", port: port))
            let client = HTTPClient(name: "fd", logger: quietLogger)
            let response = try await client.execute(.get("http://127.0.0.1:\(port)/"))
            #expect(response.text == "inherited")
        }
    }

    @Test("run() twice is refused; listeningAddress() after the end says notRunning")
    func lifecycleMisuse() async throws {
        let serverBox = Locked<HTTPServer?>(nil)
        try await withServer(handler: { _ in .empty(status: 204) }) { server in
            serverBox.value = server.server
            let error = await #expect(throws: HTTPServerError.self) { try await server.server.run() }
            #expect(error?.code == .notRunning)
        }
        let server = try #require(serverBox.value)
        let error = await #expect(throws: HTTPServerError.self) { try await server.listeningAddress() }
        #expect(error?.code == .notRunning)
    }

    /// Binds a Unix socket at `path` and closes it without unlinking: a stale socket file.
    static func makeStaleSocket(at path: String) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = UnixAddress(path: path)
        _ = address.withSockaddr { bind(fd, $0, $1) }
        close(fd)
    }
}
