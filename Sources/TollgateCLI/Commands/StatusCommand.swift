import ArgumentParser
import Foundation
import Logging
import TollgateIPC

/// `tollgate status`: health and stats of both services, as a table (or JSON).
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the health and stats of bot-gateway and every poller-scheduler instance.")

    @Option(help: "The gateway's IPC socket (default: $GATEWAY_SOCKET or /run/tollgate/gateway.sock).")
    var gateway: String?

    @Option(help: "The pollers' IPC socket (default: $POLLER_SOCKET or /run/tollgate/poller.sock).")
    var poller: String?

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(help: "Seconds to wait for each service (0.1 to 3600).")
    var timeout: Double = 5

    func validate() throws {
        guard timeout.isFinite, (0.1...3600).contains(timeout) else {
            throw ValidationError("--timeout must be a number of seconds from 0.1 to 3600")
        }
    }

    struct ServiceStatus: Codable {
        var service: String
        var socket: String
        var reachable: Bool
        var error: String?
        var health: Health.Reply?
        var stats: Stats.Reply?
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let targets = [
            ("bot-gateway", gateway ?? env["GATEWAY_SOCKET"] ?? "/run/tollgate/gateway.sock"),
            ("poller-scheduler", poller ?? env["POLLER_SOCKET"] ?? "/run/tollgate/poller.sock"),
        ]
        var results: [ServiceStatus] = []
        for (name, path) in targets {
            results.append(await Self.query(name: name, path: path, timeout: .milliseconds(Int64(timeout * 1000))))
        }
        if json {
            let data = try IPCCoding.encode(results)
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(StatusTable.render(results))
        }
        if results.contains(where: { !$0.reachable || $0.health?.ready != true }) {
            throw ExitCode(1)
        }
    }

    static func query(name: String, path: String, timeout: Duration) async -> ServiceStatus {
        var logger = Logger(label: "tollgate-status")
        logger.logLevel = .critical
        let client = IPCClient(path: path, logger: logger)
        var status = ServiceStatus(service: name, socket: path, reachable: false)
        do {
            _ = try await client.hello(service: "tollgate", instance: "status-\(getpid())")
            status.reachable = true
            status.health = try await client.call(Health(), timeout: timeout)
            status.stats = try await client.call(Stats(), timeout: timeout)
        } catch {
            status.error = "\(error)"
        }
        await client.close()
        return status
    }
}
