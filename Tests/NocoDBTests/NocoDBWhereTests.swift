import Testing

@testable import TollgateNocoDB

@Suite struct NocoDBWhereTests {
    @Test func rendersTheV2Syntax() throws {
        #expect(try NocoDBWhere.eq("Paid", true).render() == "(Paid,eq,true)")
        #expect(try NocoDBWhere.isIn("TelegramId", ["111", "222", "333"]).render() == "(TelegramId,in,111,222,333)")
        let nested = NocoDBWhere.and([
            .or([.eq("A", 1), .eq("B", 2)]),
            .not(.eq("C", "x")),
            .date("UpdatedAt", .gt, exactMs: 1_767_261_600_000),
        ])
        #expect(
            try nested.render()
                == "((A,eq,1)~or(B,eq,2))~not(C,eq,x)~and(UpdatedAt,gt,exactDate,2026-01-01 10:00:00)")
        #expect(try NocoDBWhere.not(.eq("A", 1)).render() == "~not(A,eq,1)")
        #expect(try NocoDBWhere.or([.eq("A", 1), .not(.eq("B", 2))]).render() == "(A,eq,1)~or(~not(B,eq,2))")
    }

    @Test func refusesValuesTheSyntaxCannotCarry() {
        for bad in ["a,b", "f(x)", "x)", "~or", "line\nbreak"] {
            #expect(throws: NocoDBError.self) { try NocoDBWhere.eq("Name", bad).render() }
        }
        #expect(throws: NocoDBError.self) { try NocoDBWhere.isIn("Id", []).render() }
        #expect(throws: NocoDBError.self) { try NocoDBWhere.eq("Bad,Field", 1).render() }
        #expect(throws: NocoDBError.self) { try NocoDBWhere.and([]).render() }
    }

    @Test func percentEncodesEverythingButUnreserved() {
        let encoded = NocoDBQuery.encode([("where", "(UpdatedAt,ge,exactDate,2026-01-01 10:00:00)"), ("sort", "-Id")])
        #expect(encoded == "where=%28UpdatedAt%2Cge%2CexactDate%2C2026-01-01%2010%3A00%3A00%29&sort=-Id")
        #expect(NocoDBQuery.percentEncode("a+b&c=d/é") == "a%2Bb%26c%3Dd%2F%C3%A9")
    }

    @Test func timestampsRoundTripInUTC() {
        #expect(NocoDBTimestamp.parse("2026-01-01 10:00:00") == 1_767_261_600_000)
        #expect(NocoDBTimestamp.parse("2026-01-01 10:00:00+00:00") == 1_767_261_600_000)
        #expect(NocoDBTimestamp.parse("2026-01-01T10:00:00.250Z") == 1_767_261_600_250)
        #expect(NocoDBTimestamp.parse("2026-01-01 13:00:00+03:00") == 1_767_261_600_000)
        #expect(NocoDBTimestamp.parse("2024-02-29 00:00:00") == 1_709_164_800_000)
        #expect(NocoDBTimestamp.parse("not a date") == nil)
        #expect(NocoDBTimestamp.parse("2026-13-01 10:00:00") == nil)
        #expect(NocoDBTimestamp.format(1_767_261_600_999) == "2026-01-01 10:00:00")
        #expect(NocoDBTimestamp.format(0) == "1970-01-01 00:00:00")
    }

    @Test func valuesReadAsNocoDBAnswersThem() {
        #expect(NocoDBValue.bool(true).isTruthy)
        #expect(NocoDBValue.int(1).isTruthy)
        #expect(NocoDBValue.string("true").isTruthy)
        #expect(!NocoDBValue.int(0).isTruthy)
        #expect(!NocoDBValue.null.isTruthy)
        #expect(NocoDBValue.double(4242).text == "4242")
        #expect(NocoDBValue.string("17").int == 17)
    }
}
