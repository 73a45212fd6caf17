import Testing
import TollgateTestKit

@testable import TollgateRedis

/// Tests run in parallel in one process and start child processes (redis-servers, services). A
/// child must not inherit the test process's sockets: if it did, a connection a client closed
/// would stay open on the server for as long as some other test's child lived (seen as a stale
/// subscriber that kept PUBSUB NUMSUB at 2 in `PubSubTests`).
@Suite struct ChildProcessIsolationTests {
    @Test func aClosedConnectionIsNotKeptOpenByAChildStartedMeanwhile() async throws {
        let server = try TestRedis.server()
        let observer = TestRedis.client(server, name: "observer")
        let victim = TestRedis.client(server, name: "victim")
        try await victim.send("CLIENT", "SETNAME", "victim")
        // Started while the victim's socket is open in this process.
        let bystander = try TestRedis.server()
        await victim.close()
        let gone = await TestRedis.eventually(timeout: .seconds(10)) { () async throws(RedisError) in
            let list = try await observer.send("CLIENT", "LIST").string ?? ""
            guard !list.contains("name=victim") else { throw RedisError(.unavailable, "victim still connected") }
        }
        #expect(gone.isSuccess, "the closed connection is still open on the server")
        withExtendedLifetime(bystander) {}
        await observer.close()
    }
}
