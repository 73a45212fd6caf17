import TollgateCore
import TollgateNocoDB

/// Delta mode's walk over the rows changed since the cursor, as a pure state machine.
///
/// The lower bound is the cursor minus an overlap, floored to the second (`exactDate` has second
/// precision), so rows at the boundary — or written with a slightly older `UpdatedAt` by a slow
/// writer — are read again rather than missed; rows are de-duplicated by `Id`. Pages are walked
/// by keyset: the next page starts at the last row's second (offset 0), and only when a whole page
/// shares one second does the offset grow. Rows re-sorted by a concurrent update therefore cannot
/// shift an unread row past the walk, as offset paging would. (Within one crowded second the
/// offset advances by a page minus a fifth, so up to that many rows leaving the second meanwhile
/// shift nothing past the walk either.) A row counts as seen by `Id` *and* `UpdatedAt`: a row read
/// unpaid early in the walk and updated to paid while the walk goes on is read again at the end.
public struct PaymentDeltaWalk: Sendable {
    public let pageLimit: Int
    /// The current lower bound (Unix ms, whole second) and offset within it.
    public private(set) var lowerMs: Int64
    public private(set) var offset = 0
    /// The latest `UpdatedAt` seen: the next cycle's cursor.
    public private(set) var maxUpdatedMs: Int64
    public private(set) var pages = 0
    private var seen = Set<[Int64]>()

    /// The latest `UpdatedAt` the cursor may take: a row stamped in the future (a clock gone
    /// wrong, the year 9999) must not move the cursor past rows written now.
    public let ceilingMs: Int64

    /// - Parameter ceilingMs: see ``ceilingMs`` (the current time plus a skew allowance).
    public init(cursorMs: Int64, overlap: Duration, pageLimit: Int, ceilingMs: Int64 = .max) {
        self.pageLimit = max(1, pageLimit)
        self.ceilingMs = ceilingMs
        let cursor = min(cursorMs, ceilingMs)
        self.lowerMs = Self.floorSecond(cursor.saturatingMinus(overlap.milliseconds))
        self.maxUpdatedMs = cursor
    }

    /// The next page's request.
    public func query(telegramField: String, paidField: String, extraFields: [String] = []) -> NocoDBQuery {
        NocoDBQuery(
            where: .date("UpdatedAt", .ge, exactMs: lowerMs), limit: pageLimit, offset: offset == 0 ? nil : offset,
            sort: [.ascending("UpdatedAt"), .ascending("Id")],
            fields: Array(Set(["Id", "UpdatedAt", telegramField, paidField] + extraFields)).sorted())
    }

    /// What one page means for the walk.
    public enum Step: Sendable, Equatable {
        /// More pages to read.
        case more
        case done
        /// A row came back without a readable `UpdatedAt`: the table cannot be walked by delta.
        case noUpdatedAt
    }

    /// Takes a page; returns the rows not seen before in this walk and what to do next.
    public mutating func consume(_ rows: [NocoDBRecord]) -> (fresh: [NocoDBRecord], step: Step) {
        pages += 1
        var fresh: [NocoDBRecord] = []
        for row in rows {
            guard let updated = row.updatedAtMs else { return (fresh, .noUpdatedAt) }
            maxUpdatedMs = max(maxUpdatedMs, min(updated, ceilingMs))
            if let id = row.id, !seen.insert([id, updated]).inserted { continue }
            fresh.append(row)
        }
        guard rows.count >= pageLimit, let last = rows.last?.updatedAtMs else { return (fresh, .done) }
        let lastSecond = Self.floorSecond(last)
        if lastSecond > lowerMs {
            lowerMs = lastSecond
            offset = 0
        } else {
            offset = offset.saturatingPlus(rows.count - pageLimit / 5)
        }
        return (fresh, .more)
    }

    static func floorSecond(_ ms: Int64) -> Int64 {
        ms >= 0 ? ms / 1000 * 1000 : (ms.saturatingMinus(999) / 1000).saturatingTimes(1000)
    }
}
