import Testing
import TollgateHTTP
import TollgateHTTPServer

@Suite("Responses without Content-Length, Expect: 100-continue", .timeLimit(.minutes(1)))
struct StreamingTests {
    static let chunked =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nX-Kind: chunked\r\n\r\n"
        + String(repeating: "258\r\n" + String(repeating: "a", count: 600) + "\r\n", count: 3) + "0\r\n\r\n"

    @Test("A chunked body is reassembled")
    func chunkedBody() async throws {
        let scripted = ScriptedServer()
        let client = HTTPClient(name: "chunked", logger: quietLogger)
        async let served: Void = scripted.serveOnce(Self.chunked)
        let response = try await client.execute(.get("http://127.0.0.1:\(scripted.port)/"))
        await served
        #expect(response.status == 200)
        #expect(response.header("x-kind") == "chunked")
        #expect(response.body.count == 1800)
    }

    @Test("A chunked body growing past maxResponseBytes fails with responseTooLarge")
    func chunkedTooLarge() async throws {
        let scripted = ScriptedServer()
        let client = HTTPClient(name: "chunked-big", logger: quietLogger)
        async let served: Void = scripted.serveOnce(Self.chunked)
        var request = HTTPRequest.get("http://127.0.0.1:\(scripted.port)/")
        request.maxResponseBytes = 1000
        let error = await #expect(throws: HTTPClientError.self) { try await client.execute(request) }
        await served
        #expect(error?.code == .responseTooLarge)
    }

    @Test("A client sending Expect: 100-continue gets the interim response, then the final one")
    func expectContinue() async throws {
        try await withServer(handler: { request in .text("got \(String(decoding: request.body, as: UTF8.self))") }) {
            server in
            let socket = try #require(RawSocket.tcp(port: server.port))
            socket.send("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            let interim = await socket.read(until: "\r\n\r\n")
            #expect(interim.hasPrefix("HTTP/1.1 100 Continue"))
            socket.send("hello")
            let final = await socket.read(until: "got hello")
            #expect(final.contains("HTTP/1.1 200 OK"))
            #expect(final.hasSuffix("got hello"))
        }
    }
}
