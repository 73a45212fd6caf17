import NIOCore
import NIOHTTP1
import NIOPosix

/// A bound listening channel, its address, and the socket file to remove on exit.
struct BoundListener {
    let channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerInbound, Never>, Never>
    let address: HTTPServer.Address
    let socketFile: UnixSocketFile?
}

extension HTTPServer {
    func bindListener() async throws(HTTPServerError) -> BoundListener {
        let maxBodyBytes = self.maxBodyBytes
        let limits = self.limits
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<HTTPServerInbound, Never>> = {
            channel in
            channel.eventLoop.makeCompletedFuture {
                let pipeline = channel.pipeline.syncOperations
                try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                try pipeline.addHandler(
                    ReadDeadlineHandler(limits: limits) { [self] stage in
                        self.counters.withLock { $0.timedOut[stage.name, default: 0] += 1 }
                    })
                try pipeline.addHandler(RequestAggregator(maxBodyBytes: maxBodyBytes))
                return try NIOAsyncChannel<HTTPServerInbound, Never>(wrappingChannelSynchronously: channel)
            }
        }
        do {
            switch target {
            case .tcp(let host, let port):
                let channel = try await bootstrap.serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: host, port: port, childChannelInitializer: initializer)
                return BoundListener(channel: channel, address: try Self.address(of: channel.channel), socketFile: nil)
            case .unix(let path):
                try UnixSocketFile.removeStale(at: path)
                let channel = try await bootstrap.bind(
                    unixDomainSocketPath: path, cleanupExistingSocketFile: false, childChannelInitializer: initializer)
                return BoundListener(channel: channel, address: .unix(path: path), socketFile: UnixSocketFile(boundAt: path))
            case .descriptor(let fd):
                let channel = try await bootstrap.bind(fd, cleanupExistingSocketFile: false, childChannelInitializer: initializer)
                return BoundListener(channel: channel, address: try Self.address(of: channel.channel), socketFile: nil)
            }
        } catch let error as HTTPServerError {
            throw error
        } catch {
            throw HTTPServerError(code: .bindFailed, detail: "\(target): \(error)")
        }
    }

    private static func address(of channel: any Channel) throws -> Address {
        guard let local = channel.localAddress else {
            throw HTTPServerError(code: .bindFailed, detail: "listening socket has no local address")
        }
        switch local {
        case .v4, .v6:
            return .tcp(host: local.ipAddress ?? "", port: local.port ?? 0)
        case .unixDomainSocket:
            return .unix(path: local.pathname ?? "")
        }
    }
}
