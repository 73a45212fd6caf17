import Logging
import TollgateCore
import TollgateJobs
import TollgateRedis
import TollgateTestKit

/// A private redis-server and a job store on it, for one test.
struct JobsFixture {
    let server: RedisServer
    let keys: KeySpace
    let clients: [RedisClient]

    init(clients count: Int = 1) throws {
        var attempt = 0
        var started: RedisServer?
        while started == nil {
            attempt += 1
            do {
                started = try RedisServer()
            } catch RedisServer.Failure.didNotStart(let log) where attempt < 3 && log.contains("Address already in use") {
                continue
            }
        }
        server = started!
        keys = KeySpace(prefix: "t\(UInt32.random(in: 0...UInt32.max))")
        let url = RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port))
        let logger = Logger(label: "jobs-test") { _ in SwiftLogNoOpLogHandler() }
        clients = (0..<count).map { RedisClient(url: url, name: "test-\($0)", logger: logger) }
    }

    var url: RedisURL { RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port)) }

    func store(_ index: Int = 0, settings: JobStore.Settings = .init()) -> JobStore {
        JobStore(redis: .client(clients[index]), keys: keys, settings: settings)
    }

    func close() async {
        for client in clients { await client.close() }
    }
}

func reminder(_ id: String? = nil, user: Int64 = 1, due: JobSpec.Due = .after(.zero), dedupe: String? = nil, max: Int? = nil)
    -> JobSpec
{
    JobSpec(
        id: id, dedupeKey: dedupe, kind: "reminder", userID: user, chatID: user, due: due,
        payload: ["step": .string("reminder")], maxAttempts: max)
}
