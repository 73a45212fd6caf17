import Testing
import TollgateCore
import TollgateNocoDB

/// The expiry column (`NOCODB_PAID_UNTIL_FIELD`) read from what NocoDB and scripts write.
@Suite struct PaidUntilTests {
    let end2026 = PaidUntil.milliseconds(.string("2026-12-31 10:00:00"))!

    @Test func datesDateTimesAndNumbers() {
        #expect(PaidUntil.text(end2026) == "2026-12-31 10:00:00")
        // A Date column: paid through that day, so it ends at the next midnight.
        #expect(PaidUntil.milliseconds(.string("2026-12-31")) == PaidUntil.milliseconds(.string("2027-01-01 00:00:00")))
        #expect(PaidUntil.milliseconds(.string("2026-12-31 12:00:00+02:00")) == end2026)
        #expect(PaidUntil.milliseconds(.string("2026-12-31T10:00:00.000Z")) == end2026)
        #expect(PaidUntil.milliseconds(.string(" 2026-12-31 10:00:00 ")) == end2026)
        #expect(PaidUntil.milliseconds(.int(end2026 / 1000)) == end2026, "Unix seconds")
        #expect(PaidUntil.milliseconds(.int(end2026)) == end2026, "Unix milliseconds")
        #expect(PaidUntil.milliseconds(.string(String(end2026))) == end2026)
        #expect(PaidUntil.milliseconds(.double(Double(end2026))) == end2026)
    }

    @Test func anythingElseIsNoDate() {
        let bad: [NocoDBValue?] = [
            nil, .null, .bool(true), .int(0), .int(-5), .double(.nan), .double(.infinity), .double(-1),
            .string(""), .string("tomorrow"), .string("2026-13-01"), .string("2026-12-31 25:00:00"),
            .string("2101-01-01 00:00:00"), .string("9999-12-31"), .int(Int64.max), .string(String(repeating: "9", count: 80)),
            .array([.string("2026-12-31")]), .object([:]),
        ]
        for value in bad { #expect(PaidUntil.milliseconds(value) == nil, "\(String(describing: value))") }
    }

    @Test func aRowIsPaidWhileItsDateIsAhead() {
        var config = NocoDBConfig(baseURL: "http://127.0.0.1:1", token: .init("t"), tableID: "users")
        let row = NocoDBRecord(["Id": .int(1), "Paid": .bool(true), "PaidUntil": .string("2026-12-31 10:00:00")])
        #expect(config.isPaid(row, nowMs: end2026 + 1), "no expiry column: Paid alone")
        config.paidUntilField = "PaidUntil"
        #expect(config.isPaid(row, nowMs: end2026 - 1))
        #expect(!config.isPaid(row, nowMs: end2026))
        #expect(!config.isPaid(NocoDBRecord(["Paid": .bool(true)]), nowMs: 0), "no date: not paid")
        #expect(!config.isPaid(NocoDBRecord(["Paid": .bool(false), "PaidUntil": .string("2099-01-01")]), nowMs: 0))
        #expect(config.paymentFields == ["Id", "Paid", "PaidUntil", "TelegramId"])
        config.offerField = "Offer"
        #expect(config.paymentFields == ["Id", "Offer", "Paid", "PaidUntil", "TelegramId"])
    }

    @Test("NOCODB_OFFER_FIELD: a column name of its own, or a problem naming the variable")
    func offerColumnSetting() {
        let base = ["NOCODB_URL": "http://127.0.0.1:1", "NOCODB_TOKEN": "t", "NOCODB_TABLE_ID": "users"]
        var good = ConfigReader(ConfigSource(values: base.merging(["NOCODB_OFFER_FIELD": "Offer"]) { $1 }))
        #expect(NocoDBConfig.read(&good).offerField == "Offer")
        #expect((try? good.finish()) != nil)
        for bad in ["Paid", "TelegramId", String(repeating: "x", count: 65)] {
            var reader = ConfigReader(ConfigSource(values: base.merging(["NOCODB_OFFER_FIELD": bad]) { $1 }))
            #expect(NocoDBConfig.read(&reader).offerField == nil)
            #expect(throws: (any Error).self) { try reader.finish() }
            do { try reader.finish() } catch { #expect("\(error)".contains("NOCODB_OFFER_FIELD"), "\(error)") }
        }
    }
}
