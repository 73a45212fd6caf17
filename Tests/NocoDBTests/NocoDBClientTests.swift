import Foundation
import Logging
import Testing
import TollgateCoordination
import TollgateCore
import TollgateHTTP
import TollgateNocoDB
import TollgateSimulators
import TollgateTestKit

/// The client against the simulator (and a real Redis for the shared limiter).
@Suite struct NocoDBClientTests {
    @Test func createGetListCountUpdateRoundTrip() async throws {
        try await withSimulator { h in
            let client = try h.client()
            let ids = try await client.create([
                NocoDBRecord(["TelegramId": "111", "Paid": false, "Name": "a"]),
                NocoDBRecord(["TelegramId": "222", "Paid": false, "Name": "b"]),
                NocoDBRecord(["TelegramId": "333", "Paid": true, "Name": "c"]),
            ])
            #expect(ids == [1, 2, 3])
            let one = try await client.create(NocoDBRecord(["TelegramId": "444", "Paid": false]))
            #expect(one == 4)

            let row = try #require(try await client.get(id: 2))
            #expect(row["Name"] == "b")
            #expect(row.id == 2)
            #expect(row.updatedAtMs != nil)
            let missing = try await client.get(id: 99)
            #expect(missing == nil)

            let page = try await client.list(
                NocoDBQuery(
                    where: .and([.isIn("TelegramId", ["111", "333", "444"]), .eq("Paid", false)]),
                    sort: [.descending("Id")], fields: ["Id", "TelegramId"]))
            #expect(page.list.map(\.id) == [4, 1])
            #expect(page.list[0].fields.keys.sorted() == ["Id", "TelegramId"])
            #expect(page.pageInfo.totalRows == 2)
            #expect(page.pageInfo.isLastPage == true)

            let paidCount = try await client.count(where: .eq("Paid", true))
            #expect(paidCount == 1)
            let notB = try await client.count(where: .not(.eq("Name", "b")))
            #expect(notB == 3)

            let before = try #require(row.updatedAtMs)
            try await Task.sleep(for: .milliseconds(5))
            try await client.update([NocoDBRecord(["Id": 2, "Paid": true])])
            let after = try #require(try await client.get(id: 2))
            #expect(after["Paid"]?.isTruthy == true)
            #expect(try #require(after.updatedAtMs) >= before)
            #expect(client.counters.throttled == 0)
        }
    }

    @Test func pagesAreClampedAndWalkedToTheEnd() async throws {
        try await withSimulator({ $0.maxLimit = 10 }) { h in
            _ = try h.simulator.insert(
                table: "users", rows: (1...37).map { ["TelegramId": .string("\($0)"), "Paid": .bool(false)] })
            let client = try h.client(configure: { $0.pageLimit = 10 })
            let first = try await client.list(NocoDBQuery(limit: 1000))
            #expect(first.list.count == 10)
            #expect(first.pageInfo.pageSize == 10)
            let byDefault = try await client.list()
            #expect(byDefault.list.count == 10)  // default 25, clamped to the maximum 10
            let all = try await client.listAll(NocoDBQuery(sort: [.ascending("Id")]))
            #expect(all.map(\.id) == (1...37).map(Int64.init))
        }
    }

    @Test func dateConditionsUseExactDateAndTheServerTimes() async throws {
        try await withSimulator { h in
            let client = try h.client()
            let ids = try h.simulator.insert(table: "users", rows: [["TelegramId": "1"], ["TelegramId": "2"]])
            try await Task.sleep(for: .milliseconds(1100))
            let flipped = try h.simulator.markPaid(table: "users", id: ids[1])
            let changed = try await client.list(
                NocoDBQuery(where: .date("UpdatedAt", .ge, exactMs: flipped / 1000 * 1000), sort: [.ascending("UpdatedAt")]))
            #expect(changed.list.map(\.id) == [ids[1]])
        }
    }

    @Test func findOrCreateCreatesOnceThenFinds() async throws {
        try await withSimulator { h in
            let client = try h.client()
            let first = try await client.findOrCreate(telegramID: "4242", defaults: ["Paid": false, "Name": "Ann"])
            #expect(first.created)
            #expect(first.record.id == 1)
            #expect(first.record["TelegramId"] == "4242")
            let second = try await client.findOrCreate(telegramID: "4242", defaults: ["Paid": false])
            #expect(!second.created)
            #expect(second.record.id == 1)
            #expect(second.record["Name"] == "Ann")
            #expect(h.simulator.rowCount(table: "users") == 1)
        }
    }

    @Test func errorShapesMapToStableCodes() async throws {
        for legacy in [false, true] {
            try await withSimulator({ $0.legacyErrorShape = legacy }) { h in
                let client = try h.client()
                await #expect(throws: NocoDBError.self) { try await client.list(table: "nope", NocoDBQuery()) }
                do throws(NocoDBError) {
                    _ = try await client.list(table: "nope", NocoDBQuery())
                } catch {
                    #expect(error.code == .notFound)
                    #expect(error.message.contains("nope"))
                    #expect(error.remoteCode == (legacy ? nil : "ERR_TABLE_NOT_FOUND"))
                }
                do throws(NocoDBError) {
                    _ = try await client.list(NocoDBQuery(where: .eq("Missing", 1)))
                    Issue.record("a where on an unknown column must fail")
                } catch {
                    #expect(error.code == .invalidRequest)
                    #expect(error.status == 422)
                    #expect(error.message == "Column alias 'Missing' not found.")
                }
            }
        }
        try await withSimulator({ $0.tokens = ["someone-else"] }) { h in
            let client = try h.client()
            do throws(NocoDBError) {
                _ = try await client.count()
                Issue.record("a wrong token must fail")
            } catch {
                #expect(error.code == .unauthorized)
                #expect(error.message == "Invalid token")
                #expect(!error.description.contains(testToken))
            }
        }
    }

    @Test func everyRequestLogsOneLineWithCountersAndNeverTheToken() async throws {
        try await withSimulator { h in
            let capture = LogCapture()
            let client = try h.client(logger: capture.logger("nocodb"))
            _ = try await client.count()
            _ = try await client.get(id: 7)
            let lines = capture.lines.filter { $0.contains("nocodb request") }
            #expect(lines.count == 2)
            #expect(lines[0].contains("method=GET") && lines[0].contains("table=users") && lines[0].contains("status=200"))
            #expect(lines[1].contains("status=404") && lines[1].contains("total=2") && lines[1].contains("failed=1"))
            #expect(lines.allSatisfy { $0.contains("duration_ms=") && $0.contains("429=0") })
            #expect(!capture.contains(testToken))
            #expect(!capture.contains("TEST-nocodb"))
        }
    }
}
