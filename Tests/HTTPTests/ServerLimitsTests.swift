import Testing
import TollgateHTTP
import TollgateHTTPServer
import TollgateTestKit

/// A listener anybody on the network can reach cannot be starved: connections that send nothing,
/// trickle a body, or stop reading are closed after their deadline; connections beyond the cap are
/// closed at once; the server keeps serving throughout. (Timeouts are behaviour, so they are tested
/// with generous bounds; nothing here measures speed.)
@Suite("Server: connection cap and deadlines", .timeLimit(.minutes(2)))
struct ServerLimitsTests {
    static let fast = HTTPServerLimits(
        maxConnections: 1000, headerTimeout: .milliseconds(300), bodyTimeout: .milliseconds(300),
        idleTimeout: .milliseconds(300), writeTimeout: .milliseconds(300))

    @Test("A connection that sends nothing, or half a head, is closed after the header deadline")
    func silentAndHalfHeads() async throws {
        try await withServer(limits: Self.fast, handler: { _ in .text("ok") }) { server in
            let silent = try #require(RawSocket.tcp(port: server.port))
            let half = try #require(RawSocket.tcp(port: server.port))
            half.send("GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")
            #expect(await silent.readAll(idle: .seconds(20)).isEmpty)  // closed by the server, nothing said
            #expect(await half.readAll(idle: .seconds(20)).isEmpty)
            #expect(await eventually(timeout: .seconds(5)) { server.server.stats.timedOut["head"] == 2 })
            // The server keeps serving. (On a loaded machine a 300 ms head deadline can also cut a
            // real client's request, so it may take a second try.)
            let client = HTTPClient(name: "after", logger: quietLogger)
            var answered = false
            for _ in 0..<5 where !answered {
                answered = (try? await client.execute(.get(server.base + "/")).text) == "ok"
            }
            #expect(answered)
        }
    }

    @Test("A trickled body is cut off at the body deadline; a keep-alive connection at the idle deadline")
    func trickleAndIdle() async throws {
        try await withServer(limits: Self.fast, handler: { _ in .text("ok") }) { server in
            let trickle = try #require(RawSocket.tcp(port: server.port))
            trickle.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nabc")
            for _ in 0..<3 {
                try await Task.sleep(for: .milliseconds(100))
                trickle.send("d")
            }
            #expect(await trickle.readAll(idle: .seconds(20)).isEmpty)
            let idle = try #require(RawSocket.tcp(port: server.port))
            idle.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            let reply = await idle.readAll(idle: .seconds(20))
            #expect(reply.hasPrefix("HTTP/1.1 200"))  // answered, then closed when it stayed idle
            let stats = server.server.stats
            #expect(stats.timedOut["body"] == 1)
            #expect(stats.timedOut["head"] == 1)
        }
    }

    @Test("A response the client does not read closes the connection at the write deadline")
    func unreadResponse() async throws {
        let big = [UInt8](repeating: 0x61, count: 32 << 20)
        try await withServer(limits: Self.fast, handler: { _ in HTTPServerResponse(status: 200, headers: [], body: big) }) { server in
            let reader = try #require(RawSocket.tcp(port: server.port))
            reader.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(await eventually(timeout: .seconds(20)) { server.server.stats.timedOut["write"] == 1 })
        }
    }

    @Test("Connections beyond the cap are closed at once and counted; the server serves again as they go")
    func connectionCap() async throws {
        var limits = Self.fast
        limits.maxConnections = 20
        // The held connections must stay open while the extra one arrives, however loaded the
        // machine: their header deadline is far away, and they are closed by the test, not by it.
        limits.headerTimeout = .seconds(90)
        try await withServer(limits: limits, handler: { _ in .text("ok") }) { server in
            var held: [RawSocket] = []
            for _ in 0..<20 { held.append(try #require(RawSocket.tcp(port: server.port))) }
            #expect(await eventually(timeout: .seconds(20)) { server.server.stats.connectionsOpen == 20 })
            let extra = try #require(RawSocket.tcp(port: server.port))
            extra.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(await extra.readAll(idle: .seconds(20)).isEmpty)
            #expect(server.server.stats.connectionsRefused >= 1)
            // The held connections go; then requests are served again.
            held.removeAll()
            #expect(await eventually(timeout: .seconds(20)) { server.server.stats.connectionsOpen == 0 })
            let client = HTTPClient(name: "after-cap", logger: quietLogger)
            #expect(try await client.execute(.get(server.base + "/")).text == "ok")
        }
    }
}
