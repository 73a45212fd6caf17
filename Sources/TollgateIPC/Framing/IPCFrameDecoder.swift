import NIOCore

/// What the frame decoder hands up the pipeline.
public enum IPCInboundFrame: Sendable {
    /// One complete frame's JSON bytes.
    case frame(ByteBuffer)
    /// The peer declared a frame longer than the limit. Nothing after it can be decoded: the
    /// connection must answer `frame_too_large` and close.
    case oversized(declared: UInt32, limit: Int)
}

/// Splits a byte stream into frames: 4-byte big-endian length, then that many bytes.
///
/// Unlike a plain length-field decoder, it checks the declared length the moment the header is
/// complete and never buffers an oversized body; after an oversized header it discards everything.
/// Outbound frames are produced by NIOExtras' `LengthFieldPrepender(lengthFieldBitLength: .fourBytes)`.
public struct IPCFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = IPCInboundFrame

    public let maxFrameBytes: Int
    private var poisoned = false

    public init(maxFrameBytes: Int) {
        precondition(maxFrameBytes > 0 && maxFrameBytes <= Int(UInt32.max))
        self.maxFrameBytes = maxFrameBytes
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if poisoned {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return .needMoreData
        }
        if Int(length) > maxFrameBytes {
            poisoned = true
            buffer.moveReaderIndex(to: buffer.writerIndex)
            context.fireChannelRead(Self.wrapInboundOut(.oversized(declared: length, limit: maxFrameBytes)))
            return .needMoreData
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let payload = buffer.readSlice(length: Int(length))!
        context.fireChannelRead(Self.wrapInboundOut(.frame(payload)))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        // Complete frames still buffered are delivered; a trailing partial frame is dropped
        // (truncated: the peer went away mid-frame, there is no one to answer).
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
