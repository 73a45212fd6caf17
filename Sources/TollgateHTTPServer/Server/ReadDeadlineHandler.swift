import NIOCore
import NIOHTTP1

/// Closes a connection that takes too long at any stage of a request (``HTTPServerLimits``): the
/// head, the body, the pause between keep-alive requests, the writing of a response the client
/// does not read. While the handler works on a request there is no deadline (handlers bound their
/// own work). One timer at a time, rescheduled at each stage.
final class ReadDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    enum Stage: Equatable {
        case awaitingHead
        case readingBody
        case handling
        case writing

        /// The stage's name in ``HTTPServer/Stats/timedOut``.
        var name: String {
            switch self {
            case .awaitingHead: "head"
            case .readingBody: "body"
            case .handling: "handling"
            case .writing: "write"
            }
        }
    }

    private let limits: HTTPServerLimits
    private let onTimeout: @Sendable (Stage) -> Void
    private var stage = Stage.awaitingHead
    private var timer: Scheduled<Void>?
    private var firstRequest = true

    init(limits: HTTPServerLimits, onTimeout: @escaping @Sendable (Stage) -> Void) {
        self.limits = limits
        self.onTimeout = onTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context, .awaitingHead)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(context, .readingBody)
        case .body: break
        case .end: arm(context, .handling)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200:
            arm(context, .writing)
            context.write(data, promise: promise)
        case .end:
            let written = promise ?? context.eventLoop.makePromise()
            written.futureResult.assumeIsolated().whenSuccess { [weak self] in
                guard let self, self.stage == .writing else { return }
                self.arm(context, .awaitingHead)
            }
            context.write(data, promise: written)
        default:
            context.write(data, promise: promise)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    private func arm(_ context: ChannelHandlerContext, _ next: Stage) {
        timer?.cancel()
        timer = nil
        stage = next
        let limit: Duration
        switch next {
        case .awaitingHead:
            limit = firstRequest ? limits.headerTimeout : limits.idleTimeout
        case .readingBody:
            firstRequest = false
            limit = limits.bodyTimeout
        case .handling:
            return
        case .writing:
            limit = limits.writeTimeout
        }
        let expired = next
        let (s, atto) = limit.components
        let amount = TimeAmount.nanoseconds(s.saturatingTimesBillion + atto / 1_000_000_000)
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: amount) { [weak self] in
            guard let self, self.stage == expired else { return }
            self.onTimeout(expired)
            context.close(promise: nil)
        }
    }
}

extension Int64 {
    fileprivate var saturatingTimesBillion: Int64 {
        let (v, o) = multipliedReportingOverflow(by: 1_000_000_000)
        return o ? .max : v
    }
}
