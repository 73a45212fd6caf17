import Testing
import TollgateTestKit

@testable import TollgateRedis

@Suite struct AuthAndTransportTests {
    static let password = "Tg-test-requirepass-4481"

    @Test func authenticatesWithThePasswordFromTheURL() async throws {
        let server = try TestRedis.server(password: Self.password)
        let logs = LogRecorder()
        let url = try RedisURL("redis://:\(Self.password)@127.0.0.1:\(server.port)/3")
        let client = RedisClient(url: url, name: "auth", logger: logs.logger)
        try await client.send("SET", "k", "v")
        #expect(try await client.send("GET", "k").string == "v")
        #expect(try await client.send("CLIENT", "INFO").string?.contains("db=3") == true)
        await client.close()
        #expect(!logs.all.joined().contains(Self.password))
    }

    @Test func aclUserAuthenticates() async throws {
        let server = try TestRedis.server(password: Self.password)
        let admin = RedisClient(
            url: TestRedis.url(server, password: Self.password), name: "admin", logger: LogRecorder().logger)
        try await admin.send("ACL", "SETUSER", "worker", "on", ">worker-pass-9931", "~*", "+@all")
        await admin.close()
        let worker = RedisClient(
            url: try RedisURL("redis://worker:worker-pass-9931@127.0.0.1:\(server.port)"), name: "worker",
            logger: LogRecorder().logger)
        #expect(try await worker.send("ACL", "WHOAMI").string == "worker")
        await worker.close()
    }

    @Test func wrongPasswordFailsWithoutRevealingIt() async throws {
        let server = try TestRedis.server(password: Self.password)
        let logs = LogRecorder()
        let wrong = "Wrong-pass-5521-guess"
        let client = RedisClient(
            url: try RedisURL("redis://:\(wrong)@127.0.0.1:\(server.port)"), name: "wrong", logger: logs.logger)
        do {
            try await client.ping()
            Issue.record("a wrong password must be refused")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(!error.isRetryable)
            #expect(error.message.contains("WRONGPASS"))
            #expect(!error.message.contains(wrong))
            #expect(!"\(error)".contains(wrong))
        }
        #expect(!client.isConnected)
        #expect(!logs.all.joined().contains(wrong))
        #expect(logs.count(level: .warning, containing: "WRONGPASS") == 1)
        await client.close()
    }

    @Test func missingPasswordGetsNoauth() async throws {
        let server = try TestRedis.server(password: Self.password)
        let client = TestRedis.client(server)
        do {
            try await client.send("GET", "k")
            Issue.record("an unauthenticated GET must fail")
        } catch {
            #expect(error.code == .serverError)
            #expect(error.serverErrorPrefix == "NOAUTH")
        }
        await client.close()
    }

    @Test func unixSocketWithDatabaseAndPassword() async throws {
        let server = try TestRedis.server(password: Self.password, unixSocket: true)
        let path = try #require(server.socketPath)
        let url = try RedisURL("unix://\(path)?db=5&password=\(Self.password)")
        let client = RedisClient(url: url, name: "unix", logger: LogRecorder().logger)
        try await client.send("SET", "via", "socket")
        let info = try await client.send("CLIENT", "INFO").string ?? ""
        #expect(info.contains("db=5"))
        #expect(info.contains("addr=\(path)"))  // the server sees a unix-socket peer
        let tcp = RedisClient(
            url: TestRedis.url(server, database: 5, password: Self.password), name: "tcp", logger: LogRecorder().logger)
        #expect(try await tcp.send("GET", "via").string == "socket")
        await client.close()
        await tcp.close()
    }

    @Test func missingSocketFailsToConnect() async throws {
        let client = RedisClient(
            url: try RedisURL("unix:///tmp/tg-no-such-dir/redis.sock"), name: "nosock", logger: LogRecorder().logger)
        do {
            try await client.ping()
            Issue.record("connecting to a missing socket must fail")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(error.message.contains("/tmp/tg-no-such-dir/redis.sock"))
        }
        await client.close()
    }
}
