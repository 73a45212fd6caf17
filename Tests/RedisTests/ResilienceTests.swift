import Testing
import TollgateTestKit

@testable import TollgateRedis

@Suite struct ResilienceTests {
    @Test func commandTimeoutThenRecovery() async throws {
        let server = try TestRedis.server()
        let client = TestRedis.client(server, commandTimeout: .milliseconds(300))
        try await client.ping()
        // Were the 300 ms timeout ignored, BLPOP would return null after 3 s instead of failing.
        let result = await capture { () async throws(RedisError) in try await client.send("BLPOP", "empty-list", 3) }
        guard case .failure(let error) = result else {
            Issue.record("BLPOP 3 s with a 300 ms command timeout must time out, got \(result)")
            return
        }
        #expect(error.code == .timeout)
        #expect(error.isRetryable)
        #expect(!client.isConnected)
        // The next call reconnects at once (a timeout is not a failed connect: no backoff).
        #expect(try await client.send("SET", "after", "timeout") == .simpleString("OK"))
        #expect(client.isConnected)
        await client.close()
    }

    @Test func blockingSendRaisesTheSocketTimeoutForOneCall() async throws {
        let server = try TestRedis.server()
        let client = TestRedis.client(server, commandTimeout: .milliseconds(300))
        let (value, elapsed) = try await measure { try await client.send(timeout: .seconds(1), "BLPOP", "none", 1) }
        #expect(value == .null)
        #expect(elapsed >= .milliseconds(900))
        // Restored afterwards: a plain blocking call times out again.
        do {
            try await client.send("BLPOP", "none", 2)
            Issue.record("the command timeout must be back in force")
        } catch {
            #expect(error.code == .timeout)
        }
        await client.close()
    }

    @Test func serverRestartIsSurvived() async throws {
        let server = try TestRedis.server()
        let logs = LogRecorder()
        let client = TestRedis.client(server, logs: logs)
        try await client.send("SET", "k", "v")
        try server.restart()
        // The idle connection was closed by the old server: it is replaced before sending, so the
        // first call may already succeed; otherwise it fails with a retryable code.
        do {
            try await client.send("SET", "k", "after")
        } catch {
            #expect([.connectionLost, .connectionFailed, .unavailable].contains(error.code))
        }
        let recovered = await TestRedis.eventually(timeout: .seconds(10)) { () async throws(RedisError) in
            try await client.send("GET", "k")
        }
        let value = try recovered.get()
        #expect(value == .bulk(Array("after".utf8)) || value == .null)
        #expect(logs.count(level: .warning, containing: "redis connection lost") == 1)
        #expect(logs.count(level: .info, containing: "redis reconnected") == 1)
        await client.close()
    }

    @Test func connectionBrokenDuringACommandThrowsConnectionLostAndIsNotRetried() async throws {
        let server = try TestRedis.server()
        let victim = TestRedis.client(server, name: "victim")
        let killer = TestRedis.client(server, name: "killer")
        guard let id = try await victim.send("CLIENT", "ID").int else {
            Issue.record("CLIENT ID must return an integer")
            return
        }
        async let blocked = capture { () async throws(RedisError) in
            try await victim.send(timeout: .seconds(5), "BLPOP", "never", 5)
        }
        // Wait until the victim is blocked, then kill its connection from the server side.
        let killed = await TestRedis.eventually(timeout: .seconds(5)) { () async throws(RedisError) -> Int64 in
            let reply = try await killer.send("CLIENT", "LIST")
            guard reply.string?.contains("cmd=blpop") == true else {
                throw RedisError(.serverError, "not blocked yet")
            }
            return try await killer.send("CLIENT", "KILL", "ID", RedisArgument(id)).int ?? 0
        }
        #expect((try? killed.get()) == 1)
        let outcome = await blocked
        guard case .failure(let error) = outcome else {
            Issue.record("expected connectionLost, got \(outcome)")
            return
        }
        #expect(error.code == .connectionLost)
        // The LPUSH below proves BLPOP was not silently re-sent: nobody pops it.
        try await killer.send("LPUSH", "never", "item")
        #expect(try await victim.send("LLEN", "never") == .integer(1))
        await victim.close()
        await killer.close()
    }

    @Test func failsFastDuringBackoffInsteadOfWaitingForTheConnectTimeout() async throws {
        let blackhole = BlackholeListener()
        let logs = LogRecorder()
        let client = RedisClient(
            url: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: blackhole.port)), name: "blackholed",
            connectTimeout: .milliseconds(500), logger: logs.logger)
        let (first, firstElapsed) = await measure { await capture { () async throws(RedisError) in try await client.ping() } }
        guard case .failure(let firstError) = first else {
            Issue.record("connecting to a port that never answers must fail")
            return
        }
        #expect(firstError.code == .connectionFailed)
        #expect(firstElapsed >= .milliseconds(400))  // a lower bound: the connect timeout was waited out
        // Back-to-back calls, counted rather than timed. Without the backoff gate every call would
        // be a new connect attempt (connectionFailed after the 500 ms connect timeout); with it,
        // calls inside the backoff window fail fast as unavailable, without touching the network.
        // Each further attempt at least doubles the window (100 ms ... 5 s, half of it at least
        // after jitter), so half the calls being attempts would take calls more than 10 s apart.
        let calls = 20
        var codes: [RedisError.Code] = []
        for _ in 0..<calls {
            do throws(RedisError) { try await client.ping() } catch { codes.append(error.code) }
        }
        #expect(codes.count == calls)
        #expect(codes.allSatisfy { $0 == .unavailable || $0 == .connectionFailed }, "\(codes)")
        #expect(codes.filter { $0 == .unavailable }.count > calls / 2, "\(codes)")
        // Only the first failure is a transition worth a warning; later attempts log at debug.
        #expect(logs.count(level: .warning, containing: "redis connect failed") == 1)
        await client.close()
    }

    @Test func downServerBacksOffThenRecoversWithinBoundedTime() async throws {
        let server = try TestRedis.server()
        let client = TestRedis.client(server)
        try await client.ping()
        server.stop()
        // Driven by a count of back-to-back calls, not by a time window: however slowly the machine
        // runs, the loop makes all of them. A lost connection is retried at once, so the first call
        // is a real attempt; after the refused reconnect, calls inside the backoff window (50-100 ms
        // at first, doubling per failed attempt up to 5 s) fail fast as unavailable. Without the gate
        // every call would be an attempt; with it, half of them being attempts would need the calls
        // to be spread over more than 10 s.
        let calls = 50
        var codes: [RedisError.Code] = []
        for _ in 0..<calls {
            do throws(RedisError) { try await client.ping() } catch { codes.append(error.code) }
        }
        #expect(codes.count == calls)
        let attempts = codes.filter { $0 == .connectionFailed || $0 == .connectionLost }.count
        #expect(attempts + codes.filter { $0 == .unavailable }.count == calls, "\(codes)")
        #expect(codes.first.map { $0 != .unavailable } == true, "\(codes)")  // no wait after a loss
        #expect(codes.contains(.unavailable), "\(codes)")
        #expect(attempts < calls / 2, "\(codes)")  // not one attempt per call
        try server.start()
        let recovered = await TestRedis.eventually(timeout: .seconds(12)) { () async throws(RedisError) in
            try await client.ping()
        }
        #expect(recovered.isSuccess)
        await client.close()
    }

    @Test func serverClosingMidWriteIsConnectionLostNotSIGPIPE() async throws {
        let server = try TestRedis.server()
        let client = TestRedis.client(server)
        try await client.send("CONFIG", "SET", "proto-max-bulk-len", "1mb")
        // The server rejects the bulk length from the header and closes while we are still writing:
        // the rest of the write hits a reset socket (EPIPE), which must not kill the process.
        let outcome = await capture { () async throws(RedisError) in
            try await client.send("SET", "big", RedisArgument([UInt8](repeating: 0x41, count: 32 << 20)))
        }
        guard case .failure(let error) = outcome else {
            Issue.record("a 32 MB value over proto-max-bulk-len must fail, got \(outcome)")
            return
        }
        #expect([.connectionLost, .protocolError, .serverError].contains(error.code))
        #expect(try await client.send("PING") == .simpleString("PONG"))
        await client.close()
    }

    @Test func closedClientRefusesCallsAtOnce() async throws {
        let server = try TestRedis.server()
        let client = TestRedis.client(server)
        try await client.ping()
        await client.close()
        await client.close()  // idempotent
        #expect(!client.isConnected)
        do {
            try await client.ping()
            Issue.record("a closed client must refuse calls")
        } catch {
            #expect(error.code == .closed)
        }
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
