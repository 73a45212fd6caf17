import TollgateJobs

/// The job store behind ``PaymentOutcomes`` in poller-scheduler: TollgateJobs' `PaymentJobs`, whose
/// jobs carry stable ids (`payment_confirmed:<user>:<record>:<watch>`, `payment_expired:<user>:<record>`),
/// so a confirmation seen twice is stored — and delivered — once, also after the first was delivered.
public struct PaymentJobsOutcomes: PaymentOutcomes {
    public let jobs: PaymentJobs

    public init(_ jobs: PaymentJobs) { self.jobs = jobs }

    public func confirmPayment(_ confirmation: PaymentConfirmation) async throws {
        let watch = confirmation.watch
        try await jobs.paymentConfirmed(userID: watch.userID, chatID: watch.chatID, recordID: confirmation.recordID, watchID: watch.watchID)
    }

    public func cancelReminders(userID: Int64) async throws {
        _ = try await jobs.cancelReminders(userID: userID)
    }

    public func expirePayment(_ watch: PaymentWatch) async throws {
        try await jobs.paymentExpired(userID: watch.userID, chatID: watch.chatID, recordID: watch.recordID ?? 0)
    }
}
