import Foundation

/// The end of a paid period as a NocoDB row holds it (`NOCODB_PAID_UNTIL_FIELD`), read as Unix
/// milliseconds. A pure reader of outside data: anything it does not recognise is `nil`, never a
/// trap.
///
/// Accepted forms (what NocoDB's Date and DateTime columns answer, and what scripts write):
/// - `2026-12-31` — a Date column: paid *through* that day, so the period ends at the next
///   midnight (UTC);
/// - a date-time as ``NocoDBTimestamp`` reads it (`2026-12-31 10:00:00`, `T`, fractions, `Z`
///   or an offset; none: UTC);
/// - a number: Unix seconds, or Unix milliseconds when above 10^11 (a number column).
///
/// Instants after 2100-01-01 (the scheduler's latest due time) or before 1970 are refused.
public enum PaidUntil {
    /// The latest instant accepted (2100-01-01, as the scheduler's due times).
    public static let maxMs: Int64 = 4_102_444_800_000

    public static func milliseconds(_ value: NocoDBValue?) -> Int64? {
        switch value {
        case .int(let n)?: return fromNumber(n)
        case .double(let d)?:
            guard d.isFinite, d > 0, d < 1e15 else { return nil }
            return fromNumber(Int64(d))
        case .string(let s)?:
            guard s.utf8.count <= 64 else { return nil }
            let text = s.trimmingCharacters(in: .whitespaces)
            if let n = Int64(text) { return fromNumber(n) }
            let ms: Int64?
            if text.utf8.count == 10 {
                // A Date column: through that day.
                ms = NocoDBTimestamp.parse(text + " 00:00:00").map { $0 + 86_400_000 }
            } else {
                ms = NocoDBTimestamp.parse(text)
            }
            return ms.flatMap(inRange)
        default: return nil
        }
    }

    static func fromNumber(_ n: Int64) -> Int64? {
        guard n > 0 else { return nil }
        return inRange(n > 100_000_000_000 ? n : n.multipliedReportingOverflow(by: 1000).partialValue)
    }

    static func inRange(_ ms: Int64) -> Int64? { ms > 0 && ms <= maxMs ? ms : nil }

    /// The instant as NocoDB's DateTime text, `YYYY-MM-DD HH:MM:SS` (UTC).
    public static func text(_ ms: Int64) -> String { NocoDBTimestamp.format(ms) }
}

extension NocoDBConfig {
    /// Whether a row counts as paid at `nowMs`: the Paid column ticked and, with an expiry column
    /// (`NOCODB_PAID_UNTIL_FIELD`), its date still ahead — a row whose paid period is over is
    /// unpaid again until the payment system moves the date.
    public func isPaid(_ row: NocoDBRecord, nowMs: Int64) -> Bool {
        guard row[paidField]?.isTruthy == true else { return false }
        guard let field = paidUntilField else { return true }
        guard let until = PaidUntil.milliseconds(row[field]) else { return false }
        return until > nowMs
    }

    /// The columns a payment check reads.
    public var paymentFields: [String] {
        Array(Set(["Id", telegramIDField, paidField] + [paidUntilField, offerField].compactMap { $0 })).sorted()
    }
}
