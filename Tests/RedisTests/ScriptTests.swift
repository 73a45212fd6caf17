import Testing
import TollgateTestKit

@testable import TollgateRedis

@Suite struct ScriptTests {
    static let incrementBy = RedisScript(
        name: "increment-by",
        source: "return redis.call('INCRBY', KEYS[1], ARGV[1])")

    @Test func digestMatchesTheServers() async throws {
        let server = try TestRedis.server()
        let client = TestRedis.client(server)
        let loaded = try await client.send("SCRIPT", "LOAD", RedisArgument(Self.incrementBy.source))
        #expect(loaded.string == Self.incrementBy.sha1)
        await client.close()
    }

    @Test func evaluateLoadsOnNoscriptAndSurvivesFlushAndRestart() async throws {
        let server = try TestRedis.server()
        let logs = LogRecorder()
        let client = TestRedis.client(server, logs: logs)

        // Unknown to the server: EVALSHA → NOSCRIPT → EVAL.
        #expect(try await client.evaluate(Self.incrementBy, keys: ["n"], args: [2]) == .integer(2))
        #expect(try await client.send("SCRIPT", "EXISTS", RedisArgument(Self.incrementBy.sha1)) == .array([.integer(1)]))
        #expect(try await client.evaluate(Self.incrementBy, keys: ["n"], args: [3]) == .integer(5))
        #expect(logs.count(level: .debug, containing: "loading script") == 1)

        try await client.send("SCRIPT", "FLUSH")
        #expect(try await client.evaluate(Self.incrementBy, keys: ["n"], args: [10]) == .integer(15))
        #expect(logs.count(level: .debug, containing: "loading script") == 2)

        try server.restart()
        let afterRestart = await TestRedis.eventually(timeout: .seconds(10)) { () async throws(RedisError) in
            try await client.evaluate(Self.incrementBy, keys: ["n"], args: [1])
        }
        #expect(try afterRestart.get() == .integer(1))  // data was not persisted; the script was reloaded
        await client.close()
    }

    @Test func scriptErrorsAndReturnTypes() async throws {
        let server = try TestRedis.server()
        let client = TestRedis.client(server)
        let failing = RedisScript(name: "failing", source: "return redis.error_reply('CUSTOM went wrong')")
        do {
            try await client.evaluate(failing)
            Issue.record("the script's error must throw")
        } catch {
            #expect(error.code == .serverError)
            #expect(error.message.hasPrefix("CUSTOM went wrong"))
        }
        let mixed = RedisScript(
            name: "mixed", source: "return {1, 'two', false, {3}, redis.status_reply('FINE'), ARGV[1]}")
        let value = try await client.evaluate(mixed, args: [RedisArgument([0x00, 0xFF])])
        #expect(
            value == .array([.integer(1), .bulk(Array("two".utf8)), .null, .array([.integer(3)]), .simpleString("FINE"),
                .bulk([0x00, 0xFF])]))
        await client.close()
    }
}
