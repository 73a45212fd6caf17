import TollgateIPC

/// Something that stores and cancels jobs — ``JobStore``, or a test double. Payments code
/// against this.
public protocol JobScheduling: Sendable {
    func schedule(_ spec: JobSpec) async throws(JobStoreError) -> ScheduleOutcome
    func cancel(userID: Int64, kind: String?) async throws(JobStoreError) -> Int
}

extension JobStore: JobScheduling {}

/// The two job operations payment watching needs, with stable job ids so that a confirmation
/// seen twice (two polling cycles, a leader change) is scheduled — and so delivered — once.
///
/// ```swift
/// let jobs = PaymentJobs(store: JobStore(redis: .pool(host.redis), keys: host.settings.keys))
/// try await jobs.paymentConfirmed(userID: 42, chatID: 42, recordID: 7)   // also cancels reminders
/// ```
public struct PaymentJobs: Sendable {
    public let store: any JobScheduling

    public init(store: any JobScheduling) { self.store = store }

    /// The job id of the confirmation of `recordID` for `userID` seen by the watch `watchID`:
    /// `payment_confirmed:<user>:<record>:<watch>` — one per watch, so a payment seen twice by the
    /// same watch is one job, and a later payment of the same row (a renewal, watched anew) another.
    /// Without a watch id: `payment_confirmed:<user>:<record>`.
    public static func confirmationJobID(userID: Int64, recordID: Int64, watchID: Int64? = nil) -> String {
        watchID.map { "payment_confirmed:\(userID):\(recordID):\($0)" } ?? "payment_confirmed:\(userID):\(recordID)"
    }

    /// Schedules the `payment_confirmed` delivery (due now, payload `{"record_id": n}`) and then
    /// cancels the user's pending reminders. Idempotent: a second call for the same record stores
    /// nothing (also after the first was delivered, within the store's retention window).
    @discardableResult
    public func paymentConfirmed(
        userID: Int64, chatID: Int64, recordID: Int64, watchID: Int64? = nil, maxAttempts: Int? = nil
    ) async throws(JobStoreError) -> ScheduleOutcome {
        let outcome = try await store.schedule(
            JobSpec(
                id: Self.confirmationJobID(userID: userID, recordID: recordID, watchID: watchID), kind: "payment_confirmed",
                userID: userID, chatID: chatID, due: .after(.zero), payload: ["record_id": .number(Double(recordID))],
                maxAttempts: maxAttempts))
        _ = try await cancelReminders(userID: userID)
        return outcome
    }

    /// Schedules a `payment_expired` notice for `recordID`, idempotently.
    @discardableResult
    public func paymentExpired(userID: Int64, chatID: Int64, recordID: Int64) async throws(JobStoreError)
        -> ScheduleOutcome
    {
        try await store.schedule(
            JobSpec(
                id: "payment_expired:\(userID):\(recordID)", kind: "payment_expired", userID: userID, chatID: chatID,
                due: .after(.zero), payload: ["record_id": .number(Double(recordID))]))
    }

    /// Cancels every pending `reminder` job of `userID`; returns how many.
    public func cancelReminders(userID: Int64) async throws(JobStoreError) -> Int {
        try await store.cancel(userID: userID, kind: "reminder")
    }
}
