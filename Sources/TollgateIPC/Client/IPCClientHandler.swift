import NIOCore

/// Matches reply frames to pending requests by `id`, on the connection's event loop.
///
/// Not Sendable: it lives on one event loop and is touched only from there.
final class IPCClientHandler: ChannelInboundHandler {
    typealias InboundIn = IPCInboundFrame

    private struct Pending {
        var promise: EventLoopPromise<[UInt8]>
        var timeout: Scheduled<Void>?
    }
    private var pending: [String: Pending] = [:]
    private var closed = false

    /// Registers `promise` for the reply to `id`, failing it with `timeout` after `timeout`.
    func register(id: String, promise: EventLoopPromise<[UInt8]>, timeout: TimeAmount, on loop: any EventLoop) {
        guard !closed else {
            promise.fail(IPCError(.connectionClosed, "connection closed before the request was sent"))
            return
        }
        let scheduled = loop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard let self, let entry = self.pending.removeValue(forKey: id) else { return }
            entry.promise.fail(IPCError(.timeout, "no reply within \(timeout.nanoseconds / 1_000_000) ms"))
        }
        pending[id] = Pending(promise: promise, timeout: scheduled)
    }

    /// Forgets `id` (its caller gave up) and fails its promise with `error`.
    func abandon(id: String, error: IPCError) {
        guard let entry = pending.removeValue(forKey: id) else { return }
        entry.timeout?.cancel()
        entry.promise.fail(error)
    }

    var pendingCount: Int { pending.count }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .frame(let buffer):
            let bytes = Array(buffer.readableBytesView)
            if let id = IPCFrameScanner.topLevelString("id", in: bytes), let entry = pending.removeValue(forKey: id) {
                entry.timeout?.cancel()
                entry.promise.succeed(bytes)
            } else if IPCFrameScanner.topLevelString("id", in: bytes) == nil {
                // An error reply without id concerns the connection itself (e.g. frame_too_large):
                // it applies to every request in flight.
                failAll(decodedErrorOrClosed(bytes))
            }
        case .oversized(let declared, let limit):
            failAll(IPCError(.frameTooLarge, "reply frame of \(declared) bytes exceeds the limit of \(limit) bytes"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        failAll(IPCError(.connectionClosed, "connection closed with the request in flight"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(IPCError(.connectionClosed, "connection failed: \(error)"))
        context.close(promise: nil)
    }

    private func failAll(_ error: IPCError) {
        let entries = pending
        pending.removeAll()
        for (_, entry) in entries {
            entry.timeout?.cancel()
            entry.promise.fail(error)
        }
    }

    private func decodedErrorOrClosed(_ bytes: [UInt8]) -> IPCError {
        (try? IPCCoding.decode(IPCErrorEnvelope.self, from: bytes).error)
            ?? IPCError(.connectionClosed, "unexpected frame without id")
    }
}
