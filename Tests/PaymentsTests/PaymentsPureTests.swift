import Testing
import TollgateNocoDB

@testable import TollgatePayments

@Suite struct PaymentsPureTests {
    func watch(_ user: Int64, record: Int64? = nil, tg: String? = nil, created: Int64 = 0) -> PaymentWatch {
        PaymentWatch(
            userID: user, chatID: user, recordID: record, telegramID: tg, watchID: user, createdMs: created,
            expiresMs: 1_000_000_000)
    }

    @Test func cadenceChecksRecentWatchesMoreOften() throws {
        let cadence = try #require(PaymentCadence.parse("2m:5s,15m:15s,2h:1m,*:15m"))
        #expect(cadence.interval(forAge: .seconds(30)) == .seconds(5))
        #expect(cadence.interval(forAge: .seconds(120)) == .seconds(15))
        #expect(cadence.interval(forAge: .seconds(3600)) == .seconds(60))
        #expect(cadence.interval(forAge: .seconds(86400)) == .seconds(900))
        #expect(cadence.description == "2m:5s,15m:15s,2h:1m,*:15m")
        #expect(PaymentCadence.parse("*:1m")?.interval(forAge: .seconds(1)) == .seconds(60))
        for bad in ["", "2m:5s", "15m:5s,2m:1s,*:1m", "*:1m,2m:5s", "x:5s,*:1m", "2m:0s,*:1m"] {
            #expect(PaymentCadence.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func batchesGroupByReferenceUpToThePageLimit() throws {
        var watches = (1...250).map { watch(Int64($0), record: Int64($0 + 1000)) }
        watches += (1...30).map { watch(Int64(500 + $0), tg: "tg\($0)") }
        let plans = PaymentBatchPlan.plan(watches, maxIDs: 100)
        #expect(plans.map(\.ids.count) == [100, 100, 50, 30])
        #expect(plans.prefix(3).allSatisfy { $0.key == .record })
        #expect(plans[3].key == .telegram)
        let query = plans[0].query(telegramField: "TelegramId", paidField: "Paid", limit: 100)
        let rendered = try #require(try query.where?.render())
        #expect(rendered.hasPrefix("(Id,in,1001,1002,"))
        #expect(query.fields == ["Id", "Paid", "TelegramId"])
        let tgQuery = try #require(try plans[3].query(telegramField: "TelegramId", paidField: "Paid", limit: 100).where?.render())
        #expect(tgQuery.hasPrefix("(TelegramId,in,tg1,tg2,"))
    }

    @Test func onlyPaidRowsOfTheBatchConfirmTheirWatches() {
        let plan = PaymentBatchPlan.plan([watch(1, tg: "111"), watch(2, tg: "222"), watch(3, tg: "333")], maxIDs: 100)[0]
        let rows = [
            NocoDBRecord(["Id": 7, "TelegramId": "111", "Paid": true, "UpdatedAt": "2026-01-01 10:00:00+00:00"]),
            NocoDBRecord(["Id": 8, "TelegramId": "222", "Paid": false]),
            NocoDBRecord(["Id": 9, "TelegramId": "333", "Paid": .int(1)]),
            NocoDBRecord(["Id": 10, "TelegramId": "333", "Paid": true]),  // a duplicate row: one confirmation
            NocoDBRecord(["Id": 11, "TelegramId": "999", "Paid": true]),  // not watched
        ]
        let confirmations = plan.confirmations(rows: rows, telegramField: "TelegramId", paidField: "Paid")
        #expect(confirmations.map(\.watch.userID) == [1, 3])
        #expect(confirmations.map(\.recordID) == [7, 9])
        #expect(confirmations[0].paidAtMs == 1_767_261_600_000)
    }

    func row(_ id: Int64, _ ms: Int64) -> NocoDBRecord {
        NocoDBRecord(["Id": .int(id), "UpdatedAt": .string(NocoDBTimestamp.format(ms) + "+00:00")])
    }

    @Test func deltaWalkStartsBeforeTheCursorAndWalksByKeyset() throws {
        let base: Int64 = 1_767_261_600_000
        var walk = PaymentDeltaWalk(cursorMs: base + 10_700, overlap: .seconds(5), pageLimit: 3)
        #expect(walk.lowerMs == base + 5_000)
        let first = try #require(try walk.query(telegramField: "TelegramId", paidField: "Paid").where?.render())
        #expect(first == "(UpdatedAt,ge,exactDate,2026-01-01 10:00:05)")
        // A full page ending in a later second: the next page starts at that second, offset 0.
        var (fresh, step) = walk.consume([row(1, base + 5_000), row(2, base + 6_000), row(3, base + 7_000)])
        #expect(fresh.count == 3 && step == .more)
        #expect(walk.lowerMs == base + 7_000 && walk.offset == 0)
        // A row read before and updated since counts as new; the same version does not.
        var probe = walk
        #expect(probe.consume([row(2, base + 8_000)]).fresh.map(\.id) == [2])
        #expect(probe.consume([row(2, base + 8_000)]).fresh.isEmpty)
        // The row of that second comes again and is dropped as seen.
        (fresh, step) = walk.consume([row(3, base + 7_000), row(4, base + 7_000), row(5, base + 7_000)])
        #expect(fresh.map(\.id) == [4, 5] && step == .more)
        // A whole page in one second: the offset grows instead.
        #expect(walk.lowerMs == base + 7_000 && walk.offset == 3)
        (fresh, step) = walk.consume([row(6, base + 12_000)])
        #expect(fresh.map(\.id) == [6] && step == .done)
        #expect(walk.maxUpdatedMs == base + 12_000)
        var broken = PaymentDeltaWalk(cursorMs: base, overlap: .seconds(1), pageLimit: 3)
        #expect(broken.consume([NocoDBRecord(["Id": 1])]).step == .noUpdatedAt)
        // Crowded seconds advance by a page minus a fifth, re-reading the tail.
        var crowded = PaymentDeltaWalk(cursorMs: base, overlap: .seconds(1), pageLimit: 10)
        _ = crowded.consume((1...10).map { row($0, base) })
        #expect(crowded.lowerMs == base && crowded.offset == 0)
        let again = crowded.consume((1...10).map { row($0, base) })
        #expect(again.fresh.isEmpty && again.step == .more)
        #expect(crowded.lowerMs == base && crowded.offset == 8)
    }
}
