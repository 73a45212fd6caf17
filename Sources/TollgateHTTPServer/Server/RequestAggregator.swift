import NIOCore
import NIOHTTP1

/// What the connection loop reads: a whole request, or the news that its body is too large.
enum HTTPServerInbound: Sendable {
    case request(HTTPRequestHead, ByteBuffer)
    /// The announced or received body exceeds the limit; the rest of the connection's input is
    /// discarded and the loop answers 413 and closes.
    case bodyTooLarge(HTTPRequestHead)
}

/// Collects `HTTPServerRequestPart`s into one ``HTTPServerInbound/request(_:_:)`` with at most
/// `maxBodyBytes` of body. Unlike NIO's own aggregator it never writes a final response itself:
/// every response, the 413 included, is written by the connection loop, so responses stay in
/// order. The one thing it writes is the interim `100 Continue` a client asks for with
/// `Expect: 100-continue` (curl waits a second for it before sending a large body).
final class RequestAggregator: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerInbound
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer)
        /// A body was too large: everything from here on is dropped.
        case discarding
    }

    private let maxBodyBytes: Int
    private var state = State.idle

    init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (_, .discarding):
            return
        case (.head(let head), .idle):
            let announced = head.headers.first(name: "content-length").flatMap { Int($0) } ?? 0
            if announced > maxBodyBytes {
                tooLarge(context: context, head)
            } else {
                state = .receiving(head, context.channel.allocator.buffer(capacity: min(announced, 1 << 16)))
                if head.headers.first(name: "expect")?.lowercased() == "100-continue" {
                    let interim = HTTPResponseHead(version: head.version, status: .continue)
                    context.writeAndFlush(wrapOutboundOut(.head(interim)), promise: nil)
                }
            }
        case (.body(var chunk), .receiving(let head, var buffer)):
            if chunk.readableBytes > maxBodyBytes - buffer.readableBytes {
                tooLarge(context: context, head)
            } else {
                state = .idle  // drop our reference before appending, so the buffer is not copied
                buffer.writeBuffer(&chunk)
                state = .receiving(head, buffer)
            }
        case (.end, .receiving(let head, let buffer)):
            state = .idle
            context.fireChannelRead(wrapInboundOut(.request(head, buffer)))
        case (.head, .receiving), (.body, .idle), (.end, .idle):
            // HTTPRequestDecoder never produces these; treat them as a broken stream.
            state = .discarding
            context.fireErrorCaught(HTTPParserError.invalidInternalState)
        }
    }

    private func tooLarge(context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        state = .discarding
        context.fireChannelRead(wrapInboundOut(.bodyTooLarge(head)))
    }
}
