import Foundation
import Testing
import TollgateHTTP
import TollgateSimulators

/// The simulator on the wire, with raw requests (the client refuses some of what is tested here).
@Suite struct NocoDBSimulatorTests {
    struct Page: Decodable {
        struct Info: Decodable {
            var totalRows: Int
            var page: Int
            var pageSize: Int
            var isFirstPage: Bool
            var isLastPage: Bool
        }
        var list: [[String: SimNocoDBValue]]
        var pageInfo: Info
        var ids: [Int64] { list.compactMap { $0["Id"].flatMap { if case .int(let i) = $0 { i } else { nil } } } }
    }

    static func get(_ h: SimulatorHarness, _ path: String, headers: [(String, String)] = [("xc-token", testToken)])
        async throws -> HTTPResponse
    {
        try await HTTPClient(name: "raw", logger: quietLogger).execute(.get(h.url + path, headers: headers))
    }

    static func send(_ h: SimulatorHarness, _ method: String, _ path: String, _ body: String) async throws -> HTTPResponse {
        try await HTTPClient(name: "raw", logger: quietLogger).execute(
            HTTPRequest(
                method: method, url: h.url + path, headers: [("xc-token", testToken)],
                body: .bytes(Array(body.utf8), contentType: "application/json")))
    }

    static func encoded(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
    }

    @Test func whereParsesNestedGroupsNotAndPrecedence() async throws {
        try await withSimulator({ $0.rateLimitEnabled = false }) { h in
            _ = try h.simulator.insert(
                table: "users",
                rows: [
                    ["A": 1, "B": 1, "C": 1], ["A": 1, "B": 2, "C": 2], ["A": 2, "B": 2, "C": 3], ["A": 3, "B": 3, "C": 4],
                ])
            func ids(_ condition: String) async throws -> [Int64] {
                let response = try await Self.get(h, "/api/v2/tables/users/records?sort=Id&where=" + Self.encoded(condition))
                #expect(response.status == 200, "\(condition): \(response.text)")
                return try response.decode(Page.self).ids
            }
            // ~and binds tighter than ~or.
            #expect(try await ids("(A,eq,3)~or(A,eq,1)~and(B,eq,2)") == [2, 4])
            #expect(try await ids("((A,eq,3)~or(A,eq,1))~and(B,eq,2)") == [2])
            #expect(try await ids("~not(A,eq,1)") == [3, 4])
            #expect(try await ids("(B,eq,2)~not(A,eq,1)") == [3])
            #expect(try await ids("(A,eq,1)(B,eq,2)") == [2])
            #expect(try await ids("(C,in,1,3,9)") == [1, 3])
            #expect(try await ids("(C,gt,2)~and(C,le,4)") == [3, 4])
            #expect(try await ids("(C,btw,2,3)") == [2, 3])
            #expect(try await ids("(A,eq,1)~or(~not(C,lt,4))") == [1, 2, 4])
            let bad = try await Self.get(h, "/api/v2/tables/users/records?where=" + Self.encoded("(A,eq,1"))
            #expect(bad.status == 422)
            let unknownOp = try await Self.get(h, "/api/v2/tables/users/records?where=" + Self.encoded("(A,zz,1)"))
            #expect(unknownOp.status == 422)
        }
    }

    @Test func pagesFieldsSortAndLimits() async throws {
        try await withSimulator({ $0.rateLimitEnabled = false }) { h in
            _ = try h.simulator.insert(table: "users", rows: (1...130).map { ["N": .int(Int64($0))] })
            let first = try await Self.get(h, "/api/v2/tables/users/records").decode(Page.self)
            #expect(first.list.count == 25 && first.pageInfo.pageSize == 25 && first.pageInfo.totalRows == 130)
            let clamped = try await Self.get(h, "/api/v2/tables/users/records?limit=500&offset=100").decode(Page.self)
            #expect(clamped.list.count == 30 && clamped.pageInfo.pageSize == 100 && clamped.pageInfo.page == 2)
            #expect(clamped.pageInfo.isLastPage && !clamped.pageInfo.isFirstPage)
            let sorted = try await Self.get(h, "/api/v2/tables/users/records?sort=-N&limit=2&fields=N").decode(Page.self)
            #expect(sorted.list == [["N": 130], ["N": 129]])
            let one = try await Self.get(h, "/api/v2/tables/users/records/5", headers: [("Authorization", "Bearer \(testToken)")])
            #expect(one.status == 200)
            let count = try await Self.get(h, "/api/v2/tables/users/records/count?where=" + Self.encoded("(N,gt,100)"))
            #expect(count.text == #"{"count":30}"#)
        }
    }

    @Test func writesFollowTheV2Shapes() async throws {
        try await withSimulator({ $0.rateLimitEnabled = false }) { h in
            let created = try await Self.send(h, "POST", "/api/v2/tables/users/records", #"{"TelegramId":"1"}"#)
            #expect(created.text == #"{"Id":1}"#)
            let many = try await Self.send(h, "POST", "/api/v2/tables/users/records", #"[{"TelegramId":"2"},{"TelegramId":"3"}]"#)
            #expect(many.text == #"[{"Id":2},{"Id":3}]"#)
            let tooMany = "[" + Array(repeating: #"{"X":1}"#, count: 101).joined(separator: ",") + "]"
            #expect(try await Self.send(h, "POST", "/api/v2/tables/users/records", tooMany).status == 422)
            let before = try #require(h.simulator.row(table: "users", id: 2)?["UpdatedAt"])
            try await Task.sleep(for: .milliseconds(1100))
            let patched = try await Self.send(h, "PATCH", "/api/v2/tables/users/records", #"[{"Id":2,"Paid":true}]"#)
            #expect(patched.status == 200)
            let after = try #require(h.simulator.row(table: "users", id: 2))
            #expect(after["Paid"] == .bool(true) && after["UpdatedAt"] != before)
            #expect(try await Self.send(h, "PATCH", "/api/v2/tables/users/records", #"{"Paid":true}"#).status == 422)
            #expect(try await Self.send(h, "PATCH", "/api/v2/tables/users/records", #"{"Id":99,"Paid":true}"#).status == 404)
            #expect(try await Self.send(h, "DELETE", "/api/v2/tables/users/records", #"{"Id":3}"#).status == 200)
            #expect(h.simulator.rowCount(table: "users") == 2)
        }
    }

    @Test func controlAPIOverHTTP() async throws {
        try await withSimulator({ $0.blockDuration = .seconds(5) }) { h in
            let rows = try await Self.send(h, "POST", "/_sim/tables/users/rows", #"[{"TelegramId":"9","Paid":false}]"#)
            #expect(rows.text == #"{"ids":[1]}"#)
            let paid = try await Self.send(h, "POST", "/_sim/tables/users/rows/1/paid", "")
            #expect(paid.status == 200)
            #expect(h.simulator.row(table: "users", id: 1)?["Paid"] == .bool(true))
            #expect(try await Self.send(h, "POST", "/_sim/faults", #"{"kind":"throttle"}"#).status == 200)
            let throttled = try await Self.get(h, "/api/v2/tables/users/records/1")
            #expect(throttled.status == 429 && throttled.text == "ThrottlerException: Too Many Requests")
            #expect(throttled.header("retry-after") != nil)
            let during = try await Self.get(h, "/api/v2/tables/users/records/1")
            #expect(during.status == 429)
            let stats = try await Self.get(h, "/_sim/stats", headers: []).decode(NocoDBSimulatorStats.self)
            #expect(stats.requests == 2 && stats.throttled == 2 && stats.throttledDuringBlock == 1)
            #expect(try await Self.send(h, "POST", "/_sim/stats/reset", "").status == 200)
            #expect(h.simulator.stats().requests == 0)
        }
    }
}
