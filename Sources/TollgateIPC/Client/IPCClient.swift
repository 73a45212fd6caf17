import Logging
import NIOCore
import NIOExtras
import NIOPosix
import TollgateCore

/// A client of one IPC socket: lazily connected, pipelined (many requests in flight on one
/// connection, replies matched by id), reconnected on the next call after the connection drops.
///
/// It never retries a request by itself: when the connection ends with a request in flight the
/// call fails with `connection_closed`, and the caller — who knows whether the request is
/// idempotent — decides.
public actor IPCClient {
    public let path: String
    private let maxFrameBytes: Int
    private let logger: Logger
    private let group: any EventLoopGroup
    private var connection: IPCClientConnection?
    private var connecting: EventLoopFuture<IPCClientConnection>?
    private var nextID: UInt64 = 0
    private let idPrefix: String

    public init(
        path: String, maxFrameBytes: Int = 1 << 20, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.path = path
        self.maxFrameBytes = maxFrameBytes
        self.logger = logger
        self.group = group
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        self.idPrefix = String((0..<4).map { _ in alphabet.randomElement()! })
    }

    /// Sends `request` and waits for its reply.
    public func call<R: IPCRequest>(_ request: R, timeout: Duration = .seconds(10)) async throws(IPCError) -> R.Reply {
        nextID &+= 1
        let id = "\(idPrefix)-\(String(nextID, radix: 36))"
        let payload: [UInt8]
        do {
            payload = try IPCCoding.encode(IPCRequestEnvelope(id: id, type: R.type, body: request))
        } catch {
            throw IPCError(.invalidRequest, "cannot encode \(R.type): \(error)")
        }
        guard payload.count <= maxFrameBytes else {
            throw IPCError(.frameTooLarge, "request of \(payload.count) bytes exceeds the limit of \(maxFrameBytes) bytes")
        }
        let conn = try await connected()
        let bytes: [UInt8]
        do {
            bytes = try await conn.send(id: id, payload: payload, timeout: timeout)
        } catch let error as IPCError {
            throw error
        } catch {
            throw IPCError(.connectionClosed, "\(error)")
        }
        return try Self.decodeReply(R.self, bytes)
    }

    /// Sends `hello` and returns the server's answer (its version choice, name and instance).
    public func hello(service: String, instance: String) async throws(IPCError) -> Hello.Reply {
        try await call(Hello(service: service, instance: instance), timeout: .seconds(5))
    }

    /// Closes the connection; in-flight calls fail with `connection_closed`. The next call reconnects.
    public func close() async {
        let c = connection
        connection = nil
        connecting = nil
        try? await c?.channel.close()
    }

    static func decodeReply<R: IPCRequest>(_: R.Type, _ bytes: [UInt8]) throws(IPCError) -> R.Reply {
        let reply: IPCAnyReply<R.Reply>
        do {
            reply = try IPCCoding.decode(IPCAnyReply<R.Reply>.self, from: bytes)
        } catch {
            throw IPCError(.internal, "undecodable \(R.type) reply: \(IPCCoding.explain(error))")
        }
        if reply.type == "ok", let body = reply.body { return body }
        if let error = reply.error { throw error }
        throw IPCError(.internal, "reply of type '\(reply.type)' without body or error")
    }

    private func connected() async throws(IPCError) -> IPCClientConnection {
        if let connection, connection.channel.isActive { return connection }
        connection = nil
        let future: EventLoopFuture<IPCClientConnection>
        if let connecting {
            future = connecting
        } else {
            future = IPCClientConnection.connect(path: path, maxFrameBytes: maxFrameBytes, group: group)
            connecting = future
        }
        do {
            let c = try await future.get()
            if connecting === future as AnyObject? || connecting != nil { connecting = nil }
            connection = c
            return c
        } catch {
            connecting = nil
            throw IPCError(.connectFailed, "cannot connect to \(path): \(error)")
        }
    }
}

/// A reply of any kind, decoded in one pass.
struct IPCAnyReply<Body: Decodable & Sendable>: Decodable {
    var v: Int
    var type: String
    var body: Body?
    var error: IPCError?
}

/// One connected channel and its reply matcher.
final class IPCClientConnection: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<IPCClientHandler>

    private init(channel: any Channel, handler: NIOLoopBound<IPCClientHandler>) {
        self.channel = channel
        self.handler = handler
    }

    static func connect(path: String, maxFrameBytes: Int, group: any EventLoopGroup) -> EventLoopFuture<IPCClientConnection> {
        ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = IPCClientHandler()
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(IPCFrameDecoder(maxFrameBytes: maxFrameBytes)))
                    try channel.pipeline.syncOperations.addHandler(LengthFieldPrepender(lengthFieldBitLength: .fourBytes))
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(unixDomainSocketPath: path)
            .flatMap { channel in
                channel.pipeline.handler(type: IPCClientHandler.self).map { _ in channel }
            }
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: IPCClientHandler.self)
                return IPCClientConnection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
            }
    }

    func send(id: String, payload: [UInt8], timeout: Duration) async throws -> [UInt8] {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: [UInt8].self)
        let handler = self.handler
        let channel = self.channel
        let (seconds, atto) = timeout.components
        let amount = TimeAmount.nanoseconds(seconds.saturatingTimes(1_000_000_000).saturatingPlus(atto / 1_000_000_000))
        loop.execute {
            handler.value.register(id: id, promise: promise, timeout: amount, on: loop)
            channel.writeAndFlush(ByteBuffer(bytes: payload)).whenFailure { error in
                handler.value.abandon(id: id, error: IPCError(.connectionClosed, "write failed: \(error)"))
            }
        }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            loop.execute { handler.value.abandon(id: id, error: IPCError(.cancelled, "the caller was cancelled")) }
        }
    }
}
