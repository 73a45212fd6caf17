import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle
import Synchronization
import TollgateCore

#if canImport(Glibc)
    import Glibc
#endif

/// Serves the IPC protocol on a Unix socket: many connections, many requests per connection
/// handled concurrently (bounded), replies matched by id.
///
/// Graceful shutdown: stop accepting, stop reading new frames, finish and answer the requests
/// already read, close. Unread requests are left for the client to retry on a new connection.
public final class IPCServer: Service, Sendable {
    public let name: String
    public let target: IPCListenTarget
    public let counters: IPCServerCounters
    private let router: IPCRouter
    private let maxFrameBytes: Int
    private let maxInFlightPerConnection: Int
    private let socketMode: mode_t?
    private let logger: Logger
    private let group: any EventLoopGroup
    private let bound = Mutex<BoundState>(.init())
    private let nextConnection = Atomic<UInt64>(1)

    private struct BoundState {
        var address: String?
        var failure: (any Error)?
        var waiters: [CheckedContinuation<String, any Error>] = []
    }

    public init(
        name: String, target: IPCListenTarget, router: IPCRouter, maxFrameBytes: Int = 1 << 20,
        maxInFlightPerConnection: Int = 256, socketMode: mode_t? = 0o660, counters: IPCServerCounters = .init(),
        logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.name = name
        self.target = target
        self.router = router
        self.maxFrameBytes = maxFrameBytes
        self.maxInFlightPerConnection = maxInFlightPerConnection
        self.socketMode = socketMode
        self.counters = counters
        self.logger = logger
        self.group = group
    }

    /// Waits until the server listens and returns a description of where.
    public func listening() async throws -> String {
        try await withCheckedThrowingContinuation { c in
            let result = bound.withLock { s -> Result<String, any Error>? in
                if let a = s.address { return .success(a) }
                if let f = s.failure { return .failure(f) }
                s.waiters.append(c)
                return nil
            }
            if let result { c.resume(with: result) }
        }
    }

    private func markBound(_ result: Result<String, any Error>) {
        let waiters = bound.withLock { s -> [CheckedContinuation<String, any Error>] in
            switch result {
            case .success(let a): s.address = a
            case .failure(let e): s.failure = e
            }
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume(with: result) }
    }

    public func run() async throws {
        let path: String
        switch target {
        case .descriptor(let fd, _):
            try await runSharing(fd)
            return
        case .unix(let p):
            path = p
        }
        let serverChannel: NIOAsyncChannel<NIOAsyncChannel<IPCInboundFrame, ByteBuffer>, Never>
        do {
            serverChannel = try await bind(path)
        } catch {
            markBound(.failure(error))
            throw error
        }
        markBound(.success(target.description))
        logger.info("IPC listening", metadata: ["socket": "\(target)", "max_frame_bytes": "\(maxFrameBytes)"])
        defer {
            unlink(path)
        }
        await withDiscardingTaskGroup { group in
            do {
                try await serverChannel.executeThenClose { inbound in
                    for try await connection in inbound.cancelOnGracefulShutdown() {
                        let id = nextConnection.wrappingAdd(1, ordering: .relaxed).oldValue
                        group.addTask { await self.serve(connection, id: id) }
                    }
                }
            } catch {
                logger.error("IPC accept loop failed", metadata: ["error": "\(error)"])
            }
        }
        logger.info("IPC server stopped", metadata: ["socket": "\(target)"])
    }

    /// An inherited listening socket (systemd's), which other processes may accept on too: the
    /// connections come from a ``SharedSocketAcceptor`` and NIO adopts each connected socket.
    private func runSharing(_ fd: Int32) async throws {
        let acceptor: SharedSocketAcceptor
        do {
            acceptor = try SharedSocketAcceptor(listening: fd)
            try acceptor.start()
        } catch {
            markBound(.failure(error))
            throw error
        }
        markBound(.success(target.description))
        logger.info("IPC listening", metadata: ["socket": "\(target)", "max_frame_bytes": "\(maxFrameBytes)"])
        let initializer = connectionInitializer()
        let bootstrap = ClientBootstrap(group: group)
        await withDiscardingTaskGroup { group in
            await withGracefulShutdownHandler {
                for await connected in acceptor.connections {
                    do {
                        let connection = try await bootstrap.withConnectedSocket(connected, channelInitializer: initializer)
                        let id = nextConnection.wrappingAdd(1, ordering: .relaxed).oldValue
                        group.addTask { await self.serve(connection, id: id) }
                    } catch {
                        logger.warning("IPC connection not adopted", metadata: ["error": "\(error)"])
                    }
                }
            } onGracefulShutdown: {
                acceptor.stop()
            }
            acceptor.stop()
        }
        // Our copy of the listening socket; systemd keeps its own, so waiting clients stay queued.
        close(fd)
        logger.info("IPC server stopped", metadata: ["socket": "\(target)"])
    }

    private func connectionInitializer() -> @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<IPCInboundFrame, ByteBuffer>> {
        let maxFrameBytes = self.maxFrameBytes
        return { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    ByteToMessageHandler(IPCFrameDecoder(maxFrameBytes: maxFrameBytes)))
                try channel.pipeline.syncOperations.addHandler(LengthFieldPrepender(lengthFieldBitLength: .fourBytes))
                return try NIOAsyncChannel<IPCInboundFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    }

    /// Binds `path` ourselves (no systemd): only this process accepts on it.
    private func bind(_ path: String) async throws -> NIOAsyncChannel<NIOAsyncChannel<IPCInboundFrame, ByteBuffer>, Never> {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: connectionInitializer())
        if let socketMode { chmod(path, socketMode) }
        return channel
    }

    private func serve(_ connection: NIOAsyncChannel<IPCInboundFrame, ByteBuffer>, id: UInt64) async {
        counters.connectionsAccepted.add(1, ordering: .relaxed)
        counters.connectionsOpen.add(1, ordering: .relaxed)
        defer { counters.connectionsOpen.subtract(1, ordering: .relaxed) }
        let limiter = AsyncSemaphore(limit: maxInFlightPerConnection)
        let drain = ConnectionDrain(channel: connection.channel)
        let router = self.router
        let logger = self.logger
        let counters = self.counters
        do {
            // Graceful shutdown does not stop the read loop (NIO closes a channel whose inbound
            // iteration is cancelled, and turns an input half-close of a Unix socket into a full
            // close): the connection keeps reading, answers new frames with `shutting_down`, and
            // closes itself once the last reply already owed has been written.
            try await withGracefulShutdownHandler {
                try await connection.executeThenClose { inbound, outbound in
                    await withDiscardingTaskGroup { group in
                        do {
                            for try await event in inbound {
                                switch event {
                                case .oversized(let declared, let limit):
                                    counters.oversizedFrames.add(1, ordering: .relaxed)
                                    counters.errorReplies.add(1, ordering: .relaxed)
                                    let reply = IPCRouter.errorPayload(
                                        id: nil,
                                        IPCError(.frameTooLarge, "frame of \(declared) bytes exceeds the limit of \(limit) bytes"))
                                    try? await outbound.write(ByteBuffer(bytes: reply.bytes))
                                    logger.warning(
                                        "IPC frame too large, closing connection",
                                        metadata: ["connection": "\(id)", "declared": "\(declared)"])
                                    return
                                case .frame(let buffer):
                                    let payload = Array(buffer.readableBytesView)
                                    counters.requests.add(1, ordering: .relaxed)
                                    guard drain.begin() else {
                                        counters.errorReplies.add(1, ordering: .relaxed)
                                        let id = IPCFrameScanner.topLevelString("id", in: payload)
                                        let reply = IPCRouter.errorPayload(
                                            id: id.flatMap { IPCHeader.isValidID($0) ? $0 : nil },
                                            IPCError(.shuttingDown, "the service is shutting down; retry on a new connection"))
                                        try? await outbound.write(ByteBuffer(bytes: reply.bytes))
                                        continue
                                    }
                                    await limiter.acquire()
                                    counters.inFlight.add(1, ordering: .relaxed)
                                    group.addTask {
                                        let reply = await router.respond(to: payload, connection: id, logger: logger)
                                        if reply.isError { counters.errorReplies.add(1, ordering: .relaxed) }
                                        try? await outbound.write(ByteBuffer(bytes: reply.bytes))
                                        counters.inFlight.subtract(1, ordering: .relaxed)
                                        limiter.release()
                                        drain.end()
                                    }
                                }
                            }
                        } catch {
                            logger.debug("IPC connection read ended", metadata: ["connection": "\(id)", "error": "\(error)"])
                        }
                    }
                }
            } onGracefulShutdown: {
                drain.startDraining()
            }
        } catch {
            logger.debug("IPC connection closed with error", metadata: ["connection": "\(id)", "error": "\(error)"])
        }
    }
}

/// Tracks the requests a connection still owes a reply, and closes it once draining and idle.
final class ConnectionDrain: Sendable {
    private struct State {
        var draining = false
        var owed = 0
    }
    private let state = Mutex(State())
    private let channel: any Channel

    init(channel: any Channel) { self.channel = channel }

    /// Called for each request read; false once draining (the request is refused, not served).
    func begin() -> Bool {
        state.withLock { s in
            if s.draining { return false }
            s.owed += 1
            return true
        }
    }

    /// Called after a request's reply was written.
    func end() {
        let close = state.withLock { s in
            s.owed -= 1
            return s.draining && s.owed == 0
        }
        if close { channel.close(promise: nil) }
    }

    func startDraining() {
        let close = state.withLock { s in
            s.draining = true
            return s.owed == 0
        }
        if close { channel.close(promise: nil) }
    }
}
