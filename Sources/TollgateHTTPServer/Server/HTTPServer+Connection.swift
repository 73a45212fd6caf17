import Logging
import NIOCore
import NIOHTTP1

extension HTTPServer {
    /// Serves one connection: requests one after another (NIO's pipelining handler holds back
    /// the next request until the response to the previous one has been written), until the
    /// client closes, asks to close, sends something unusable, or the server drains.
    func serve(_ connection: NIOAsyncChannel<HTTPServerInbound, Never>) async {
        let channel = connection.channel
        connections.register(channel)
        defer { connections.unregister(channel) }
        do {
            try await connection.executeThenClose { inbound in
                for try await message in inbound {
                    switch message {
                    case .request(let head, let body):
                        let request = HTTPServerRequest(head: head, body: body)
                        let response = await handler(request)
                        // Closing without a word (executeThenClose closes the channel).
                        if response.dropConnection { return }
                        let keepAlive = head.isKeepAlive
                        try await write(response, for: head, on: channel, close: !keepAlive)
                        guard keepAlive else { return }
                    case .bodyTooLarge(let head):
                        let response = HTTPServerResponse.text("request body over \(maxBodyBytes) bytes", status: 413)
                        try await write(response, for: head, on: channel, close: true)
                        return
                    }
                }
            }
        } catch {
            // A parse error (already answered 400 by NIO's error handler), a reset, a write to a
            // closed connection: nothing more can be said on this connection.
            logger.debug(
                "http connection ended", metadata: ["server": "\(name)", "error": "\(String(describing: error))"])
        }
    }

    /// Writes `response` and waits until it is handed to the kernel, so that a close right after
    /// cannot cut it short.
    private func write(
        _ response: HTTPServerResponse, for head: HTTPRequestHead, on channel: any Channel, close: Bool
    ) async throws {
        var headers = HTTPHeaders(response.headers)
        let status = HTTPResponseStatus(statusCode: response.status)
        let bodyAllowed = head.method != .HEAD && !(100..<200).contains(response.status)
            && response.status != 204 && response.status != 304
        if response.status != 204 && !(100..<200).contains(response.status) {
            headers.replaceOrAdd(name: "content-length", value: String(response.body.count))
        }
        headers.remove(name: "transfer-encoding")
        if close {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if head.version.major == 1 && head.version.minor == 0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        let responseHead = HTTPResponseHead(version: head.version, status: status, headers: headers)
        channel.write(HTTPServerResponsePart.head(responseHead), promise: nil)
        if bodyAllowed && !response.body.isEmpty {
            if let pause = response.trickle {
                channel.flush()
                for start in stride(from: 0, to: response.body.count, by: 16) {
                    try await Task.sleep(for: pause)
                    let piece = channel.allocator.buffer(bytes: response.body[start..<min(start + 16, response.body.count)])
                    try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(piece))).get()
                }
                counters.withLock { $0.requestsServed += 1 }
                try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
                return
            }
            let buffer = channel.allocator.buffer(bytes: response.body)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
        }
        counters.withLock { $0.requestsServed += 1 }
        try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
        logger.trace(
            "http request served",
            metadata: ["server": "\(name)", "method": "\(head.method.rawValue)", "status": "\(response.status)"])
    }
}

extension HTTPServerRequest {
    init(head: HTTPRequestHead, body: ByteBuffer) {
        self.init(
            method: head.method.rawValue, target: head.uri,
            headers: head.headers.map { ($0.name, $0.value) },
            body: Array(buffer: body))
    }
}
