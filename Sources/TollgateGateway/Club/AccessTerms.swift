import TollgateCore
import TollgateIPC
import TollgateNocoDB

/// How long access lasts, as pure functions of the club's settings, the user's payment row and
/// the time: what a confirmed payment grants, and whether a period was renewed in the row while
/// it ran. No I/O, no clock (`AccessTermsTests`).
///
/// - With an expiry column (`NOCODB_PAID_UNTIL_FIELD`) the row's date is the end: a payment grants
///   until that date, and a later date found at a renewal reminder or the lapse renews. A grant
///   is named by its date (`until:<ms>`), so finding the same date twice grants once.
/// - With `ACCESS_PERIOD` alone a payment is one period — from the current end while access runs,
///   else from now — and is credited (the row's Paid unticked) once granted; Paid ticked again at
///   a reminder or the lapse is a renewal. A grant is named by the unit that made it.
/// - With neither, access has no end.
/// - An offer of the flow (`topics`) may have a period of its own (`access_period`), used instead
///   of `ACCESS_PERIOD` for a payment made for it.
public enum AccessTerms {
    /// The offer the row says was paid for: its offer column (`NOCODB_OFFER_FIELD`), when the club
    /// has one and the row fills it — the payment system knows what was paid, the user's pick only
    /// what they last chose, so this wins. A name that is not an offer id (`?`) or that the flow
    /// does not list opens nothing (``ClubConfiguration/chats(of:)``): never more than was paid for.
    public static func rowOffer(_ club: ClubConfiguration, record: PaymentRecord?) -> String? {
        guard club.offerField != nil, let named = record?.offer, !named.isEmpty else { return nil }
        return ClubGrant.isOfferID(named) ? named : "?"
    }

    /// What a confirmed payment grants: the term and the grant's id.
    public static func atConfirmation(
        _ club: ClubConfiguration, record: PaymentRecord?, nowMs: Int64, unit: String, offer: String? = nil
    ) -> (term: EntitlementLedger.Term, grantID: String) {
        if club.paidUntilField != nil {
            // The row's date is the end — also when it has passed by now (the poller saw it ahead;
            // the confirmation was held up, or the row changed): the lapse job, due at once, reads
            // the row again and ends the access or renews it. Nobody stays in on a date that passed.
            if let until = record?.paidUntilMs { return (.until(until), "until:\(until)") }
            // A row read without a date (changed meanwhile) is given the period, or a day, and the
            // lapse reads it again.
            return (.period(club.period(of: offer) ?? .seconds(86400)), "pay:\(unit)")
        }
        if let period = club.period(of: offer) { return (.period(period), "pay:\(unit)") }
        return (.forever, "pay:\(unit)")
    }

    /// Whether the row renews the period ending at `untilMs`, and with what grant; nil: not
    /// renewed (or no row to read).
    public static func renewal(
        _ club: ClubConfiguration, record: PaymentRecord?, untilMs: Int64, unit: String, offer: String? = nil
    ) -> (term: EntitlementLedger.Term, grantID: String)? {
        guard let record else { return nil }
        if club.paidUntilField != nil {
            guard let until = record.paidUntilMs, until > untilMs else { return nil }
            return (.until(until), "until:\(until)")
        }
        guard let period = club.period(of: offer), record.paid else { return nil }
        return (.period(period), "renew:\(unit)")
    }

    /// The renewal reminders of a period ending at `untilMs`, as (step, due ms): the ones still
    /// ahead of `nowMs`, earliest first.
    public static func reminders(_ flow: FlowDefinition, untilMs: Int64, nowMs: Int64) -> [(step: String, dueMs: Int64)] {
        flow.renewalReminders
            .map { (step: $0.step, dueMs: untilMs.saturatingMinus($0.delay.milliseconds)) }
            .filter { $0.dueMs > nowMs }
            .sorted { $0.dueMs < $1.dueMs }
    }

    /// The job ids of a period's jobs: stable, so scheduling them again stores nothing.
    public static func reminderJobID(user: Int64, untilMs: Int64, step: String) -> String {
        "access_reminder:\(user):\(untilMs):\(step)"
    }

    public static func lapseJobID(user: Int64, untilMs: Int64) -> String { "access_lapse:\(user):\(untilMs)" }

    /// The end of access as shown to people (`{access_until}`): UTC, to the minute.
    public static func shown(_ ms: Int64) -> String { String(PaidUntil.text(ms).prefix(16)) + " UTC" }
}
