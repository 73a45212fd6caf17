import Testing
import TollgateTestKit

@testable import TollgateRedis

@Suite struct CommandTests {
    @Test func basicCommandsAndReplyTypes() async throws {
        let server = try TestRedis.server()
        let client = TestRedis.client(server)

        #expect(try await client.send("SET", "greeting", "hello") == .simpleString("OK"))
        #expect(try await client.send("GET", "greeting").string == "hello")
        #expect(try await client.send("GET", "missing") == .null)
        #expect(try await client.send("INCRBY", "counter", 5) == .integer(5))
        #expect(try await client.send("GET", "counter").int == 5)
        #expect(try await client.send("RPUSH", "list", "a", "b", "c") == .integer(3))
        #expect(try await client.send("LRANGE", "list", 0, -1) == .array([.bulk([97]), .bulk([98]), .bulk([99])]))
        #expect(try await client.send("MGET", "greeting", "missing") == .array([.bulk(Array("hello".utf8)), .null]))
        #expect(try await client.send("LRANGE", "nothing", 0, -1) == .array([]))
        #expect(try await client.send("ZADD", "z", 1.5, "m") == .integer(1))
        #expect(try await client.send("ZSCORE", "z", "m").string == "1.5")
        let rtt = try await client.ping()
        #expect(rtt > .zero)
        #expect(client.isConnected)
        await client.close()
    }

    @Test func errorRepliesThrowServerErrorWithTheMessage() async throws {
        let server = try TestRedis.server()
        let client = TestRedis.client(server)
        try await client.send("SET", "s", "text")
        do {
            try await client.send("LPUSH", "s", "x")
            Issue.record("LPUSH on a string must fail")
        } catch {
            #expect(error.code == .serverError)
            #expect(error.serverErrorPrefix == "WRONGTYPE")
            #expect(error.message.hasPrefix("WRONGTYPE Operation against a key"))
            #expect(!error.isRetryable)
        }
        // An error reply leaves the connection usable.
        #expect(try await client.send("GET", "s").string == "text")
        // Errors nested in replies are values, not throws.
        try await client.send("MULTI")
        try await client.send("INCR", "s")
        try await client.send("SET", "t", "1")
        let results = try await client.send("EXEC")
        #expect(results.array?.count == 2)
        #expect(results.array?.first?.errorMessage?.hasPrefix("ERR value is not an integer") == true)
        #expect(results.array?.last == .simpleString("OK"))
        await client.close()
    }

    @Test func binaryValuesRoundTrip() async throws {
        let server = try TestRedis.server()
        let client = TestRedis.client(server)
        let nasty: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF, 0xC3, 0x28, 0x24, 0x2D, 0x31, 0x0D, 0x0A, 0x00]
        let key: [UInt8] = [0x6B, 0x00, 0x0D, 0x0A, 0xFE]
        try await client.send("SET", RedisArgument(key), RedisArgument(nasty))
        let value = try await client.send("GET", RedisArgument(key))
        #expect(value == .bulk(nasty))
        #expect(value.string == nil)  // not UTF-8
        #expect(try await client.send("STRLEN", RedisArgument(key)) == .integer(Int64(nasty.count)))
        let all = (0...255).map { UInt8($0) }
        try await client.send("SET", "all", RedisArgument(all))
        #expect(try await client.send("GET", "all").bytes == all)
        try await client.send("SET", "empty", "")
        #expect(try await client.send("GET", "empty") == .bulk([]))
        let big = [UInt8](repeating: 0x5A, count: 3_000_000)
        try await client.send("SET", "big", RedisArgument(big))
        #expect(try await client.send("GET", "big").bytes == big)
        await client.close()
    }

    @Test func pipelineOfTenThousandKeepsOrderAndReturnsErrorsInPlace() async throws {
        let server = try TestRedis.server()
        let client = TestRedis.client(server)
        try await client.send("SET", "text", "not a number")
        var commands: [[RedisArgument]] = []
        for index in 0..<10_000 {
            if index == 5_000 {
                commands.append(["INCR", "text"])
            } else {
                commands.append(["INCRBY", "n", 1])
            }
        }
        let (replies, elapsed) = try await measure { try await client.pipeline(commands) }
        #expect(replies.count == 10_000)
        #expect(replies[0] == .integer(1))
        #expect(replies[4_999] == .integer(5_000))
        #expect(replies[5_000].errorMessage?.hasPrefix("ERR value is not an integer") == true)
        #expect(replies[5_001] == .integer(5_001))
        #expect(replies[9_999] == .integer(9_999))
        let inOrder = replies.enumerated().allSatisfy { index, reply in
            index == 5_000 || reply == .integer(Int64(index < 5_000 ? index + 1 : index))
        }
        #expect(inOrder)
        print("pipeline of 10,000 INCRBY: \(elapsed)")
        #expect(try await client.pipeline([]) == [])
        #expect(try await client.send("GET", "n").int == 9_999)
        await client.close()
    }

    @Test func databaseIndexIsolatesKeys() async throws {
        let server = try TestRedis.server()
        let one = TestRedis.client(server, name: "db1", database: 1)
        let two = TestRedis.client(server, name: "db2", database: 2)
        try await one.send("SET", "shared-name", "in db 1")
        #expect(try await two.send("GET", "shared-name") == .null)
        try await two.send("SET", "shared-name", "in db 2")
        #expect(try await one.send("GET", "shared-name").string == "in db 1")
        #expect(try await one.send("DBSIZE") == .integer(1))
        let zero = TestRedis.client(server, name: "db0")
        #expect(try await zero.send("DBSIZE") == .integer(0))
        await one.close()
        await two.close()
        await zero.close()
    }

    /// Prints round-trip figures for the report; asserts only that every command ran.
    @Test func roundTripFigures() async throws {
        let server = try TestRedis.server()
        let client = TestRedis.client(server)
        try await client.ping()
        let count = 2_000
        let (_, plain) = try await measure {
            for _ in 0..<count { try await client.send("INCR", "plain") }
        }
        let script = RedisScript(name: "claim", source: "return redis.call('INCR', KEYS[1])")
        try await client.evaluate(script, keys: ["scripted"])
        let (_, scripted) = try await measure {
            for _ in 0..<count { try await client.evaluate(script, keys: ["scripted"]) }
        }
        #expect(try await client.send("GET", "plain").int == Int64(count))
        #expect(try await client.send("GET", "scripted").int == Int64(count + 1))
        print(
            "\(count) sequential INCR: \(Int(Double(count) / plain.seconds)) ops/s; "
                + "\(count) sequential EVALSHA: \(Int(Double(count) / scripted.seconds)) ops/s")
        await client.close()
    }
}
