import TollgateCore
import TollgateIPC
import TollgateRedis

/// The `watch_payment` / `unwatch_payment` handlers (any poller instance answers; the watch list is
/// in Redis). Free of the service host so tests call them directly.
public struct PaymentWatchHandlers: Sendable {
    public let store: PaymentWatchStore
    public let defaultExpiry: Duration
    public let firstCheckDelay: Duration

    public init(store: PaymentWatchStore, defaultExpiry: Duration, firstCheckDelay: Duration) {
        self.store = store
        self.defaultExpiry = defaultExpiry
        self.firstCheckDelay = firstCheckDelay
    }

    public func watch(_ request: WatchPayment) async throws -> WatchPayment.Reply {
        let result = try await store.watch(request, defaultExpiry: defaultExpiry, firstCheckDelay: firstCheckDelay)
        return WatchPayment.Reply(created: result.created, expiresAtMs: result.expiresAtMs)
    }

    public func unwatch(_ request: UnwatchPayment) async throws -> UnwatchPayment.Reply {
        UnwatchPayment.Reply(removed: try await store.unwatch(userID: request.userID))
    }
}
