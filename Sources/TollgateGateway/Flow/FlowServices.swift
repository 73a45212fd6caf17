import TollgateIPC

/// Finds or creates the user's row in the payments table (NocoDB) — through the shared NocoDB rate
/// limiter, one budget per token across every process.
public protocol UserDirectory: Sendable {
    /// The row id of the user's record, created with `Paid = false` if there is none.
    func findOrCreate(telegramID: Int64, firstName: String, username: String?) async throws -> Int64
    /// The row's payment columns, read by the club's door at renewal reminders and lapses; nil:
    /// no such row.
    func paymentRecord(_ recordID: Int64) async throws -> PaymentRecord?
    /// Unticks the row's Paid column: the payment was credited as one access period
    /// (`ACCESS_PERIOD` without an expiry column), so the next payment ticks it again.
    func credit(_ recordID: Int64) async throws
}

/// A payment row as the club's door reads it.
public struct PaymentRecord: Sendable, Equatable {
    public var paid: Bool
    /// The row's expiry column (Unix ms), when it has one and a readable date.
    public var paidUntilMs: Int64?
    /// What the row's offer column (`NOCODB_OFFER_FIELD`) says was paid for (trimmed, at most 64
    /// bytes kept); nil: no such column, or empty.
    public var offer: String?

    public init(paid: Bool, paidUntilMs: Int64? = nil, offer: String? = nil) {
        self.paid = paid
        self.paidUntilMs = paidUntilMs
        self.offer = offer
    }
}

/// What the gateway asks of poller-scheduler (IPC). Every request is idempotent.
public protocol PollerRequests: Sendable {
    func schedule(_ request: Schedule) async throws -> Schedule.Reply
    func cancel(_ request: Cancel) async throws -> Cancel.Reply
    func watchPayment(_ request: WatchPayment) async throws -> WatchPayment.Reply
}
