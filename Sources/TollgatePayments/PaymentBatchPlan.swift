import TollgateNocoDB

/// One batch request of batch mode: up to a page of watches looked up with
/// `(Id,in,...)` or `(TelegramId,in,...)`, and the matching of the rows that come back.
public struct PaymentBatchPlan: Sendable, Hashable {
    public enum Key: Sendable, Hashable {
        case record
        case telegram
    }

    public let key: Key
    /// Watches by the id they are looked up with (several watches may share one id).
    public let watchesByID: [String: [PaymentWatch]]
    /// The ids in request order.
    public let ids: [String]

    /// Groups watches into batches of at most `maxIDs` distinct ids, record ids first.
    public static func plan(_ watches: [PaymentWatch], maxIDs: Int) -> [PaymentBatchPlan] {
        precondition(maxIDs >= 1)
        var byRecord: [(String, PaymentWatch)] = []
        var byTelegram: [(String, PaymentWatch)] = []
        for watch in watches {
            switch watch.reference {
            case .record(let id): byRecord.append((String(id), watch))
            case .telegram(let id): byTelegram.append((id, watch))
            }
        }
        return chunks(byRecord, key: .record, maxIDs: maxIDs) + chunks(byTelegram, key: .telegram, maxIDs: maxIDs)
    }

    private static func chunks(_ items: [(String, PaymentWatch)], key: Key, maxIDs: Int) -> [PaymentBatchPlan] {
        var plans: [PaymentBatchPlan] = []
        var ids: [String] = []
        var map: [String: [PaymentWatch]] = [:]
        for (id, watch) in items {
            if map[id] == nil {
                if ids.count == maxIDs {
                    plans.append(PaymentBatchPlan(key: key, watchesByID: map, ids: ids))
                    ids = []
                    map = [:]
                }
                ids.append(id)
            }
            map[id, default: []].append(watch)
        }
        if !ids.isEmpty { plans.append(PaymentBatchPlan(key: key, watchesByID: map, ids: ids)) }
        return plans
    }

    /// Every watch of the batch.
    public var watches: [PaymentWatch] { ids.flatMap { watchesByID[$0] ?? [] } }

    /// The list request: the rows of these ids, only the fields the check reads.
    public func query(telegramField: String, paidField: String, limit: Int, extraFields: [String] = []) -> NocoDBQuery {
        let field = key == .record ? "Id" : telegramField
        return NocoDBQuery(
            where: .isIn(field, ids), limit: limit, sort: [.ascending("Id")],
            fields: Array(Set(["Id", telegramField, paidField] + extraFields)).sorted())
    }

    /// The confirmations the rows prove: watches whose row is Paid (by `isPaid`: the Paid column,
    /// and with an expiry column its date ahead — ``NocoDBConfig/isPaid(_:nowMs:)``).
    public func confirmations(
        rows: [NocoDBRecord], telegramField: String, paidField: String, isPaid: ((NocoDBRecord) -> Bool)? = nil
    ) -> [PaymentConfirmation] {
        var result: [PaymentConfirmation] = []
        var confirmed = Set<Int64>()
        for row in rows where isPaid?(row) ?? (row[paidField]?.isTruthy == true) {
            guard let recordID = row.id else { continue }
            let id: String? = key == .record ? String(recordID) : row[telegramField]?.text
            guard let id, let watches = watchesByID[id] else { continue }
            for watch in watches where confirmed.insert(watch.userID).inserted {
                result.append(PaymentConfirmation(watch: watch, recordID: recordID, paidAtMs: row.updatedAtMs))
            }
        }
        return result
    }
}
