/// What payment watching needs from the job store, kept small so the watcher can be tested (and
/// reasoned about) without it. Every method must be idempotent: a confirmation can be seen twice
/// (two cycles, a leader change, a crash between steps) and must still reach the user once.
///
/// The poller's adapter is ``PaymentJobsOutcomes`` (TollgateJobs' `PaymentJobs`: jobs with stable
/// ids `payment_confirmed:<user>:<record>:<watch>`, delivered through `deliver`).
public protocol PaymentOutcomes: Sendable {
    /// Arranges exactly one `payment_confirmed` delivery for the watch's user.
    func confirmPayment(_ confirmation: PaymentConfirmation) async throws
    /// Cancels the user's pending reminder jobs.
    func cancelReminders(userID: Int64) async throws
    /// Arranges one `payment_expired` delivery (called only for watches with `notifyExpired`).
    func expirePayment(_ watch: PaymentWatch) async throws
}
