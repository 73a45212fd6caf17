import NIOCore
import NIOEmbedded
import NIOHTTP1

/// Raw bytes through the server's own request pipeline — NIO's HTTP/1 decoder, the deadlines, the
/// same aggregator and body cap — in an embedded channel, without a socket. For fuzzing and tests
/// of the parsing path: what a listener would hand its handler for these bytes.
public enum HTTPRequestProbe {
    /// What the pipeline made of the bytes.
    public struct Outcome: Sendable {
        /// Whole requests, in order (at most one before a response would be written: the server
        /// answers requests one at a time).
        public var requests: [HTTPServerRequest] = []
        /// A request whose body exceeded the cap (answered 413 by a server).
        public var tooLarge = false
        /// The bytes were not HTTP (answered 400 by a server).
        public var rejected = false
    }

    public static func run(_ bytes: [UInt8], maxBodyBytes: Int = 1 << 20) -> Outcome {
        let channel = EmbeddedChannel()
        var outcome = Outcome()
        do {
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
            try pipeline.addHandler(ReadDeadlineHandler(limits: HTTPServerLimits()) { _ in })
            try pipeline.addHandler(RequestAggregator(maxBodyBytes: maxBodyBytes))
            try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
        } catch {
            outcome.rejected = true
        }
        while let inbound = try? channel.readInbound(as: HTTPServerInbound.self) {
            switch inbound {
            case .request(let head, let body): outcome.requests.append(HTTPServerRequest(head: head, body: body))
            case .bodyTooLarge: outcome.tooLarge = true
            }
        }
        while let out = try? channel.readOutbound(as: ByteBuffer.self) {
            if out.readableBytesView.starts(with: Array("HTTP/1.1 400".utf8)) { outcome.rejected = true }
        }
        _ = try? channel.finish(acceptAlreadyClosed: true)
        return outcome
    }
}
