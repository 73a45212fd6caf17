import TollgateIPC

/// Finds or creates the user's row in the payments table (NocoDB) — through the shared NocoDB rate
/// limiter, one budget per token across every process.
public protocol UserDirectory: Sendable {
    /// The row id of the user's record, created with `Paid = false` if there is none.
    func findOrCreate(telegramID: Int64, firstName: String, username: String?) async throws -> Int64
}

/// What the gateway asks of poller-scheduler (IPC). Every request is idempotent.
public protocol PollerRequests: Sendable {
    func schedule(_ request: Schedule) async throws -> Schedule.Reply
    func cancel(_ request: Cancel) async throws -> Cancel.Reply
    func watchPayment(_ request: WatchPayment) async throws -> WatchPayment.Reply
}
