import Logging
import ServiceLifecycle
import Testing
import TollgateCoordination
import TollgateCore
import TollgateGateway
import TollgateHTTP
import TollgateNocoDB
import TollgateRedis
import TollgateSimulators
import TollgateTestKit

@Suite("NocoDB user directory (batched find-or-create)", .timeLimit(.minutes(2)))
struct UserDirectoryTests {
    @Test("Concurrent find-or-creates become a few batch requests; one row per user, the same row every time")
    func batches() async throws {
        var config = NocoDBSimulator.Configuration()
        config.tokens = ["TEST-dir-token"]
        let simulator = NocoDBSimulator(configuration: config, logger: quietLogger)
        let group = ServiceGroup(services: [simulator], logger: quietLogger)
        let redis = try RedisServer()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let http = HTTPClient(name: "dir", logger: quietLogger)
            defer { http.shutdown() }
            let limiter = RedisRateLimiter(
                client: RedisClient(url: try RedisURL(redis.url), name: "dir-limiter", logger: quietLogger),
                keys: KeySpace(prefix: "d"), logger: quietLogger)
            let client = NocoDBClient(
                config: NocoDBConfig(baseURL: try await simulator.baseURL(), token: Secret("TEST-dir-token"), tableID: "users"),
                http: http, limiter: limiter, logger: quietLogger)
            // One user already has a row.
            let existing = try simulator.insert(table: "users", rows: [["TelegramId": .string("5007"), "Paid": .bool(false)]])[0]
            let directory = NocoDBUserDirectory(client: client, logger: quietLogger)
            let ids = (1...120).map { Int64(5000 + $0) }
            let results = try await withThrowingTaskGroup(of: (Int64, Int64).self) { group in
                for id in ids + ids.prefix(40) {
                    group.addTask { (id, try await directory.findOrCreate(telegramID: id, firstName: "x", username: nil)) }
                }
                var out: [(Int64, Int64)] = []
                for try await pair in group { out.append(pair) }
                return out
            }
            var rowOf: [Int64: Int64] = [:]
            for (id, row) in results {
                if let seen = rowOf[id] { #expect(seen == row, "user \(id) got two rows") }
                rowOf[id] = row
            }
            #expect(rowOf.count == 120)
            #expect(rowOf[5007] == existing)
            #expect(simulator.rowCount(table: "users") == 120)
            // 120 users, 5/s per token: two requests per batch of up to 100, not two per user.
            #expect(client.counters.total <= 8, "requests: \(client.counters.total)")
            // Later calls find the rows.
            #expect(try await directory.findOrCreate(telegramID: 5001, firstName: "x", username: nil) == rowOf[5001])
            #expect(simulator.rowCount(table: "users") == 120)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
