import Logging
import TollgateCore
import TollgateIPC

/// The gateway's client of poller-scheduler (`POLLER_SOCKET`): `schedule`, `cancel`,
/// `watch_payment` with bounded retries — safe because every one of them is idempotent (fixed job
/// ids, watches keyed by user).
public struct PollerLink: PollerRequests {
    let client: IPCClient
    let attempts: Int
    let timeout: Duration
    let logger: Logger

    public init(client: IPCClient, attempts: Int = 4, timeout: Duration = .seconds(5), logger: Logger) {
        self.client = client
        self.attempts = attempts
        self.timeout = timeout
        self.logger = logger
    }

    public func schedule(_ request: Schedule) async throws -> Schedule.Reply { try await call(request) }
    public func cancel(_ request: Cancel) async throws -> Cancel.Reply { try await call(request) }
    public func watchPayment(_ request: WatchPayment) async throws -> WatchPayment.Reply { try await call(request) }

    func call<R: IPCRequest>(_ request: R) async throws -> R.Reply {
        var backoff = Backoff(base: .milliseconds(100), cap: .seconds(2))
        var attempt = 0
        while true {
            attempt += 1
            do throws(IPCError) {
                return try await client.call(request, timeout: timeout)
            } catch {
                guard error.code.isRetryable, attempt < attempts else { throw error }
                // The poller's retry_after_ms is advice, bounded by this link's own cap.
                let asked = Duration.milliseconds(min(max(0, error.retryAfterMs ?? 0), 2000))
                let wait = max(backoff.next(), asked)
                logger.debug(
                    "poller request failed, retrying",
                    metadata: ["type": "\(R.type)", "error": "\(error.code.rawValue)", "attempt": "\(attempt)"])
                try await Task.sleep(for: wait)
            }
        }
    }
}
