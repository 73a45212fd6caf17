import Foundation
import Testing
import TollgateIPC
import TollgateTestKit

#if canImport(Glibc)
    import Glibc
#endif

/// Several poller-scheduler processes accepting on one listening socket, as systemd's
/// `poller-scheduler.socket` is shared by every `poller-scheduler@N` (`Sockets=`). Every process
/// is woken for every connection and all but one find nothing to accept; that must be a
/// non-event (it used to trip an assertion in NIO's server channel and kill debug builds).
@Suite(.timeLimit(.minutes(3))) struct SharedSocketTests {
    @Test func threePollersOnOneSocketServeEveryConnectionAndSurvive() async throws {
        let redis = try RedisServer()
        let dir = TestNetwork.temporaryDirectory(prefix: "shared")
        let socketPath = dir + "/poller.sock"
        let fd = try ActivatedProcess.listenUnix(path: socketPath)
        defer { close(fd) }
        let binary = try TestBinaries.path(of: "poller-scheduler")
        var processes: [ChildProcess] = []
        for i in 1...3 {
            var env = ServiceProcess.environment(redisURL: redis.url, directory: dir, extra: ["LOG_LEVEL": "warning"])
            env["TOLLGATE_INSTANCE"] = "shared-\(i)"
            processes.append(try ActivatedProcess.start(binary, sockets: [(fd, "poller")], environment: env, output: dir + "/poller-\(i).log"))
        }
        defer { for p in processes { p.kill9() } }

        // 300 connections, 30 at a time; each says hello and tells which instance answered.
        var servedBy: [String: Int] = [:]
        for _ in 0..<10 {
            let instances = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        let client = IPCClient(path: socketPath, logger: quietLogger)
                        defer { Task { await client.close() } }
                        return try await client.hello(service: "test", instance: "t").instance
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            for i in instances { servedBy[i, default: 0] += 1 }
        }
        #expect(servedBy.values.reduce(0, +) == 300)
        #expect(Set(servedBy.keys).isSubset(of: ["shared-1", "shared-2", "shared-3"]), "\(servedBy)")
        let logs = (1...3).map { (try? String(contentsOfFile: dir + "/poller-\($0).log", encoding: .utf8)) ?? "" }
        for (i, p) in processes.enumerated() {
            #expect(p.isRunning, "poller \(i + 1) died:\n\(ServiceProcess.tail(of: logs[i], limit: 3000))")
        }
        // A graceful stop of each leaves the socket to the others (and to systemd).
        for p in processes {
            let status = await offPool { p.stop(grace: .seconds(15)) }
            #expect(status.flatMap(ChildProcess.exitCode) == 0)
        }
        #expect(access(socketPath, F_OK) == 0)
        redis.stop()
    }
}
