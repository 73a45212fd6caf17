import NIOCore
import NIOEmbedded
import Testing
import TollgateIPC
import TollgateTestKit

@Suite struct FrameDecoderTests {
    func makeChannel(max: Int = 1024) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(IPCFrameDecoder(maxFrameBytes: max)))
        return channel
    }

    func frame(_ json: String) -> [UInt8] {
        let payload = Array(json.utf8)
        let n = UInt32(payload.count)
        return [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)] + payload
    }

    func payloads(_ channel: EmbeddedChannel) throws -> [String] {
        var out: [String] = []
        while let event = try channel.readInbound(as: IPCInboundFrame.self) {
            if case .frame(let b) = event { out.append(String(buffer: b)) } else { out.append("<oversized>") }
        }
        return out
    }

    @Test func byteAtATime() throws {
        let channel = try makeChannel()
        let bytes = frame(#"{"a":1}"#) + frame(#"{"b":2}"#)
        for b in bytes {
            try channel.writeInbound(ByteBuffer(bytes: [b]))
        }
        #expect(try payloads(channel) == [#"{"a":1}"#, #"{"b":2}"#])
        #expect(try channel.finish().isClean)
    }

    @Test func manyFramesInOneRead() throws {
        let channel = try makeChannel()
        let messages = (0..<100).map { #"{"n":\#($0)}"# }
        try channel.writeInbound(ByteBuffer(bytes: messages.flatMap(frame)))
        #expect(try payloads(channel) == messages)
        #expect(try channel.finish().isClean)
    }

    @Test func randomChunking() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let channel = try makeChannel()
            let messages = (0..<20).map { i in #"{"k":"\#(String(repeating: "x", count: Int.random(in: 0...200, using: &rng)))\#(i)"}"# }
            var bytes = messages.flatMap(frame)[...]
            while !bytes.isEmpty {
                let n = min(bytes.count, Int.random(in: 1...64, using: &rng))
                try channel.writeInbound(ByteBuffer(bytes: bytes.prefix(n)))
                bytes = bytes.dropFirst(n)
            }
            #expect(try payloads(channel) == messages)
            #expect(try channel.finish().isClean)
        }
    }

    @Test func oversizedHeaderIsReportedAtOnceAndTheRestDiscarded() throws {
        let channel = try makeChannel(max: 100)
        // Only the header of a 101-byte frame: the decoder must not wait for the body.
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 101]))
        let event = try channel.readInbound(as: IPCInboundFrame.self)
        guard case .oversized(let declared, let limit) = event else {
            Issue.record("expected oversized, got \(String(describing: event))")
            return
        }
        #expect(declared == 101 && limit == 100)
        // A valid frame after it is not decoded: the boundary is lost.
        try channel.writeInbound(ByteBuffer(bytes: frame("{}")))
        #expect(try payloads(channel).isEmpty)
        #expect(try channel.finish().isClean)
    }

    @Test func exactlyMaxIsAccepted() throws {
        let channel = try makeChannel(max: 10)
        let json = #"{"a":"12"}"#  // 10 bytes
        try channel.writeInbound(ByteBuffer(bytes: frame(json)))
        #expect(try payloads(channel) == [json])
        _ = try channel.finish()
    }

    @Test func truncatedFrameAtEOFIsDroppedAfterCompleteOnes() throws {
        let channel = try makeChannel()
        try channel.writeInbound(ByteBuffer(bytes: frame(#"{"ok":1}"#) + [0, 0, 0, 50, 0x7b]))
        #expect(try payloads(channel) == [#"{"ok":1}"#])
        #expect(try channel.finish().isClean)
    }

    @Test func goldenTruncatedFrameYieldsNothing() throws {
        let golden = try GoldenFrames()
        let channel = try makeChannel()
        try channel.writeInbound(ByteBuffer(bytes: try golden.frame("bad.truncated")))
        #expect(try payloads(channel).isEmpty)
        #expect(try channel.finish().isClean)
    }
}
