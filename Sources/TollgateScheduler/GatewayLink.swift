import Logging
import TollgateIPC

/// Where due jobs go: the gateway's `deliver` request.
public protocol GatewayLink: Sendable {
    /// Sends one batch; the results come back one per delivery, in order. Throws when there is no
    /// answer (connect failed, connection closed, timeout) or an `error` reply for the whole batch.
    func deliver(_ deliveries: [Delivery], timeout: Duration) async throws(IPCError) -> [DeliveryResult]
}

/// The gateway over its Unix socket (`GATEWAY_SOCKET`), one pipelined connection.
public struct IPCGatewayLink: GatewayLink {
    public let client: IPCClient

    public init(path: String, maxFrameBytes: Int = 1 << 20, logger: Logger) {
        client = IPCClient(path: path, maxFrameBytes: maxFrameBytes, logger: logger)
    }

    public func deliver(_ deliveries: [Delivery], timeout: Duration) async throws(IPCError) -> [DeliveryResult] {
        // The gateway is told how long this side waits, and answers within it.
        let reply = try await client.call(
            Deliver(deliveries: deliveries, replyWithinMs: timeout.milliseconds), timeout: timeout)
        return reply.results
    }
}
